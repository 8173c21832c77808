// Supervisors: Colony's supervision trees (CAF 0.17.6 has none), modelled
// on Erlang/OTP's supervisor.
//
// A supervisor starts its children from child specs, monitors them, and
// when one exits applies its strategy:
//   one_for_one   restart the child that exited
//   one_for_all   stop all other children, restart all (in start order)
//   rest_for_one  stop the children started after it, restart it and them
// whether a child is restarted depends on its restart policy:
//   permanent  always
//   transient  only after an abnormal exit (not normal / user_shutdown)
//   temporary  never (it is removed from the supervisor)
// Restart intensity: at most `max_restarts` restarts within `window_s`
// seconds. One more escalates: the supervisor stops its children (in
// reverse start order) and exits with errc::gave_up, and its own parent
// applies its strategy. A supervisor with escalate = false (a node's root)
// instead gives that child up (state "failed", event gave_up) and keeps
// supervising the others.
// Optional exponential backoff with jitter delays each restart.
// Every transition is one report() line (runtime/supervision/report.hpp).
//
// All times come from the actor's clock, so the supervisor runs on CAF's
// deterministic test scheduler with virtual time. A supervisor is a local
// actor: never publish it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>

#include "messages/control_messages.hpp"
#include "runtime/supervision/report.hpp"

namespace colony::supervision {

enum class strategy { one_for_one, one_for_all, rest_for_one };
enum class restart_policy { permanent, transient, temporary };

const char* to_string(strategy s);
const char* to_string(restart_policy r);

/// Parses the names above; errc::bad_config naming `key` otherwise.
caf::expected<strategy> parse_strategy(const std::string& text, const std::string& key);
caf::expected<restart_policy> parse_restart_policy(const std::string& text,
                                                   const std::string& key);

/// What a start function knows about the start it performs.
struct start_context {
  uint32_t restarts = 0;  ///< 0 on the first start
  std::string last_exit;  ///< reason of the exit that caused this restart
};

/// A started child.
struct started {
  caf::actor handle;      ///< typed handles convert with caf::actor_cast<caf::actor>
  fields log_fields;      ///< added to its child_started / child_restarted line
};

/// Starts (or restarts) a child; runs in the supervisor's context. An error
/// counts as a crash of the child (event restart_failed) and is retried
/// like one, within the restart intensity.
using start_fn = std::function<caf::expected<started>(caf::actor_system& sys,
                                                      const start_context& ctx)>;

struct child_spec {
  std::string id;                                    ///< unique among siblings
  start_fn start;
  restart_policy restart = restart_policy::permanent;
  /// After exit(user_shutdown), how long to wait before exit(kill).
  caf::timespan shutdown = std::chrono::seconds{5};
  /// The child is a supervisor: status asks it for its subtree.
  bool is_supervisor = false;
};

/// Delay before restart n (1-based): initial_ms * multiplier^(n-1), at most
/// max_ms, times a uniform factor in [1 - jitter, 1 + jitter].
struct backoff_config {
  double initial_ms = 0;   ///< 0 = restart at once (no backoff)
  double max_ms = 10000;
  double multiplier = 2;
  double jitter = 0.2;     ///< in [0, 1)
  uint64_t seed = 0;
};

/// Colony's defaults: 3 restarts in 10 s (OTP: 1 in 5 s; experts that hit
/// a bad batch now and then deserve a little more), no backoff.
struct supervisor_config {
  std::string id = "root";
  strategy how = strategy::one_for_one;
  uint32_t max_restarts = 3;
  double window_s = 10;
  backoff_config backoff;
  bool escalate = true;
  /// With escalate = false: told (in the supervisor's context) the id of a
  /// child it gave up and the reason of its last exit, after the gave_up
  /// report. Optional.
  std::function<void(const std::string& child, const std::string& reason)> on_gave_up;
};

/// Spawns a supervisor that starts `children` in order.
caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_config cfg,
                            std::vector<child_spec> children);

/// A child spec whose child is a supervisor built from `cfg` with the
/// children `make_children()` returns (called at each start, so that a
/// restarted subtree starts from fresh specs).
child_spec supervisor_child(supervisor_config cfg,
                            std::function<std::vector<child_spec>()> make_children,
                            restart_policy restart = restart_policy::permanent);

// Local messages of a supervisor (never published):
/// -> std::vector<tree_entry>: its subtree, itself first (path = its id),
///    child supervisors asked in turn (2 s each; an unanswered one is
///    listed with state "unknown").
using which_atom = caf::atom_constant<caf::atom("which")>;
/// (add_child_atom, child_spec) -> std::string id: starts a new child;
///    errc::bad_request for a duplicate id.
using add_child_atom = caf::atom_constant<caf::atom("addchild")>;
/// (remove_child_atom, std::string id) -> bool: stops the child (its
///    shutdown timeout applies) and forgets its spec; false for an unknown id.
///    Replies once the child is gone.
using remove_child_atom = caf::atom_constant<caf::atom("rmchild")>;
/// (lookup_atom, std::string id) -> caf::actor: the child's current handle;
///    errc::not_found for an unknown id, errc::expert_restarting while it
///    is not running.
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;

// A supervisor stops on exit(user_shutdown) (or any exit message): it stops
// its children in reverse start order, each within its shutdown timeout,
// then exits with the same reason. Its children never outlive it.

} // namespace colony::supervision

// add_child sends a child_spec (it holds a std::function) in a local message.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(colony::supervision::child_spec)
