// Spawning experts and the node's dispatcher. Experts are cheap event-based
// actors; their torch work runs as jobs on the node's worker_pool (one
// thread per compute slot), never on CAF's scheduler threads. The
// dispatcher grants compute slots so that the number of concurrent batches
// stays at `compute_slots` and the queue whose oldest request waited
// longest goes first.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <caf/actor_system.hpp>

#include "actors/expert/protocol.hpp"
#include "messages/chunking.hpp"
#include "messages/wire/tensor_codec.hpp"
#include "runtime/worker_pool.hpp"

namespace colony::expert {
class expert_state;
} // namespace colony::expert

namespace colony {

/// Per-node knobs every expert actor shares.
struct expert_options {
  uint64_t max_message_bytes = wire::default_max_bytes;
  /// Outputs larger than this travel as tensor_chunk messages.
  size_t chunk_bytes = default_chunk_bytes;
  /// When set, holds the expert's update count after every job (its
  /// supervisor reads it to count the updates a crash lost).
  std::shared_ptr<std::atomic<uint64_t>> updates_seen;
};

/// Spawns the node's dispatcher with `slots` concurrent batches (>= 1).
dispatcher_actor spawn_dispatcher(caf::actor_system& sys, uint32_t slots);

/// Spawns an expert actor owning `state`; its jobs run on `pool`. A batch
/// that fails (the module threw) or leaves NaN/Inf parameters fails its
/// requests, answers all other waiting ones with errc::expert_restarting
/// and ends the actor with that error (compute_failed, diverged): its
/// supervisor restores it from the last checkpoint.
expert_actor spawn_expert(caf::actor_system& sys,
                          std::shared_ptr<expert::expert_state> state,
                          std::shared_ptr<worker_pool> pool,
                          dispatcher_actor dispatcher, expert_options opts);

} // namespace colony
