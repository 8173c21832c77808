// The node's control actor (protocol: actors/control/protocol.hpp): checks
// the token of every `colony ctl` request, validates it, and passes spawn,
// stop and status on to the node manager; answers log requests from the
// node's log ring. Refusals are ctl_refused supervision events, at most one
// line per second (with the number refused since the last line).
//
// Invariants: the manager never sees a request whose token is wrong, whose
// count is outside 1..max_spawn_count, whose prefix or uids are invalid, or
// whose spec (when one is given) fails the config rules.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/control/protocol.hpp"
#include "runtime/control_config.hpp"
#include "runtime/net_guard/guard_config.hpp"
#include "runtime/net_guard/publish.hpp"

namespace colony::control {

/// Most experts one ctl_spawn may add.
constexpr uint32_t max_spawn_count = 1024;

/// Reads the node's log ring: (after, max_lines) -> lines, e.g.
/// `[r = log::ring()](uint64_t a, uint32_t n) { return r->read(a, n); }`.
using log_reader = std::function<ctl_log_lines(uint64_t after, uint32_t max_lines)>;

/// What the control actor needs besides its token.
struct control_deps {
  node_manager_actor manager;
  log_reader logs;                                    ///< empty = no ring: logs fail
  caf::timespan manager_timeout = std::chrono::seconds{60}; ///< each manager request
};

/// Spawns the (unpublished) control actor.
control_actor spawn_control(caf::actor_system& sys, std::string token, control_deps deps);

/// A published control actor.
struct control_port {
  control_actor handle;
  std::shared_ptr<net_guard::guarded_port> published;

  uint16_t port() const {
    return published ? published->port() : 0;
  }
};

/// Loads cfg.token_file (load_token's errors), spawns the control actor and
/// publishes it behind a guard on cfg.host:cfg.port (errc::io_failed naming
/// the address when it cannot listen).
caf::expected<control_port> start_control(caf::actor_system& sys, const control_config& cfg,
                                          control_deps deps,
                                          const net_guard::guard_config& guard);

/// Closes the control port and stops the actor; p is empty afterwards.
void stop_control(caf::actor_system& sys, control_port& p);

} // namespace colony::control
