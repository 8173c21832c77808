// Spawning experts and the node's dispatcher. Torch work runs on detached
// expert actors (one thread each), never on CAF's scheduler threads; the
// dispatcher (a cheap event-based actor) grants compute slots so that the
// number of concurrent batches stays at `compute_slots` and the queue whose
// oldest request waited longest goes first.
#pragma once

#include <cstdint>
#include <memory>

#include <caf/actor_system.hpp>

#include "actors/expert/protocol.hpp"

namespace colony::expert {
class expert_state;
} // namespace colony::expert

namespace colony {

/// Per-node knobs every expert actor shares.
struct expert_options {
  uint64_t max_message_bytes = uint64_t{256} << 20;
  uint32_t torch_threads = 0; ///< 0 = leave torch's default
  /// Outputs larger than this travel as tensor_chunk messages.
  size_t chunk_bytes = size_t{4} << 20;
};

/// Spawns the node's dispatcher with `slots` concurrent batches (>= 1).
dispatcher_actor spawn_dispatcher(caf::actor_system& sys, uint32_t slots);

/// Spawns a detached expert actor owning `state`.
expert_actor spawn_expert(caf::actor_system& sys,
                          std::shared_ptr<expert::expert_state> state,
                          dispatcher_actor dispatcher, expert_options opts);

} // namespace colony
