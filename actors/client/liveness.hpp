// Colony's liveness probe of expert nodes (the replacement for CAF's
// heartbeat, see runtime/liveness_config.hpp).
//
// One local actor per node_connections pings every connected node's
// expert server (ping_atom) every interval, pipelined, and calls `on_hung`
// once for a node that answered none of them for timeout_ms after its last
// answer (first_reply_ms before the first one). A node whose connection
// drops is forgotten; node_connections watches it again when it reconnects.
// The actor is never published; it only sends requests.
#pragma once

#include <functional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/expert/protocol.hpp"
#include "runtime/endpoint.hpp"
#include "runtime/liveness_config.hpp"

namespace colony {

/// Called in the liveness actor's context: node `ep` is hung, silent for
/// `silent_ms`.
using hung_fn = std::function<void(const endpoint& ep, double silent_ms)>;

/// Spawns the prober. Messages: (watch_atom, endpoint, expert_server_actor)
/// starts (or restarts) watching a node; (stop_atom) ends it.
caf::actor spawn_liveness(caf::actor_system& sys, liveness_config cfg, hung_fn on_hung);

} // namespace colony
