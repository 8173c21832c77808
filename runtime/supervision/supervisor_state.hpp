// Internal: the state of a supervisor actor (supervisor.hpp is the API).
// supervisor.cpp holds the start/exit/restart/stop machinery,
// supervisor_status.cpp the which / lookup / add / remove handlers.
//
// Invariants: `children_` is in start order; a child has a handle exactly
// while its process is alive (phase running or stopping); a pending restart
// belongs to the group whose token the child carries (`token`); while
// `shutting_down_` no child is started again.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/stateful_actor.hpp>

#include "runtime/supervision/restart_window.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace colony::supervision {

/// Internal timers of a supervisor.
using sv_restart_atom = caf::atom_constant<caf::atom("svrestart")>;
using sv_kill_atom = caf::atom_constant<caf::atom("svkill")>;

enum class phase { running, stopping, restarting, stopped, failed };

struct child_state {
  child_spec spec;
  caf::actor handle;          ///< set while alive
  phase at = phase::restarting;
  phase after_stop = phase::stopped; ///< where a stop in progress ends
  bool removing = false;      ///< remove_child is waiting for it
  uint32_t restarts = 0;      ///< restarts so far (tree_entry.restarts)
  uint32_t consecutive = 0;   ///< restarts since it last ran a full window (backoff n)
  uint64_t generation = 0;    ///< bumped at each start; matches kill timers
  uint64_t token = 0;         ///< the pending restart group it belongs to
  double backoff_ms = 0;      ///< delay of its pending / latest restart
  std::string restart_reason; ///< exit that caused its pending restart
  std::string last_exit;      ///< latest abnormal exit
  caf::actor_clock::time_point started_at;
  std::vector<std::function<void()>> on_stopped; ///< run once its stop ends
};

class supervisor_state {
public:
  using pointer = caf::stateful_actor<supervisor_state>*;

  ~supervisor_state(); ///< kills children still alive (they never outlive us)

  void init(pointer self, supervisor_config cfg, std::vector<child_spec> children,
            std::string path);

  // Handlers (the behavior's dispatch table calls these).
  void on_down(const caf::down_msg& m);
  void on_exit_msg(const caf::exit_msg& m);
  void on_restart_timer(uint64_t token);
  void on_kill_timer(const std::string& id, uint64_t generation);
  caf::result<std::vector<tree_entry>> which();
  caf::result<std::string> add_child(child_spec spec);
  caf::result<bool> remove_child(const std::string& id);
  caf::result<caf::actor> lookup(const std::string& id);

  static const char* name;

private:
  child_state* find(const std::string& id);
  child_state* find(const caf::actor_addr& addr);
  double now_s() const;
  fields base(const child_state& c) const;

  // Starting.
  caf::error start_child(child_state& c);
  void start_sequence(std::vector<std::string> ids);

  // Exits and restarts.
  void on_child_exit(child_state& c, const caf::error& reason);
  std::vector<std::string> group_of(const std::string& id) const;
  void handle_failure(const std::string& id, const std::string& reason,
                      std::vector<std::string> group);
  void over_intensity(const std::string& id, const std::string& reason,
                      const std::vector<std::string>& group);
  void schedule_restart(uint64_t token, double delay_ms);

  // Stopping.
  /// Stops a live child (exit(user_shutdown), kill after its shutdown
  /// timeout); it ends in its after_stop phase, then `k` runs.
  void stop_child(const std::string& id, std::function<void()> k);
  void stop_in_order(std::vector<std::string> ids, std::function<void()> k);
  void finish_stop(child_state& c, const caf::error& reason);
  void shutdown(caf::error reason);

  pointer self_ = nullptr;
  supervisor_config cfg_;
  std::string path_;
  std::vector<child_state> children_;
  restart_window window_{0, 0};
  backoff_schedule backoff_{0, 0, 0, 0, 0};
  uint64_t next_token_ = 0;
  bool shutting_down_ = false;
  caf::actor_clock::time_point born_;
};

/// "normal", "user_shutdown", "kill", ... for exit reasons, colony::describe
/// otherwise.
std::string reason_text(const caf::error& reason);

/// True for the exits a transient child may end with: normal, user_shutdown.
bool is_normal_exit(const caf::error& reason);

/// "100" for whole numbers, else up to three decimals ("12.345").
std::string format_ms(double ms);

} // namespace colony::supervision
