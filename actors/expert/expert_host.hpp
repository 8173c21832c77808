// The composition root of a node's expert side: builds every expert of a
// node_config (spec -> module, optimizer, checkpoint restore), spawns the
// dispatcher, the expert actors and the server. colony-node and the tests
// use this one factory.
#pragma once

#include <map>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/expert/protocol.hpp"
#include "runtime/worker_pool.hpp"
#include "runtime/node_config.hpp"

namespace colony {

/// The running expert side of a node.
struct expert_host {
  expert_server_actor server;
  dispatcher_actor dispatcher;
  std::map<std::string, expert_actor> experts;
  /// Runs the experts' torch work: compute_slots threads.
  std::shared_ptr<worker_pool> pool;
};

/// Builds and spawns everything in `cfg.experts`. Fails (errc::bad_config,
/// errc::io_failed, ...) before spawning anything if one expert cannot be
/// built, naming its uid.
caf::expected<expert_host> spawn_expert_host(caf::actor_system& sys, const node_config& cfg);

/// Stops all actors of `host` (after an optional checkpoint by the caller)
/// and joins its worker pool once the running jobs are done.
void stop_expert_host(expert_host& host);

} // namespace colony
