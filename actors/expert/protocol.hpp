// Protocols of the expert side (torch-free, so that clients can include it).
//
//   client --request--> expert_server_actor (published, one per node)
//                          | delegates by uid
//                          v
//                       expert_actor (one per expert)  --job--> worker_pool
//                          ^ grant / v ready, done     <-computed-- (torch)
//                       dispatcher_actor (one per node: serves the queue
//                       whose oldest request waited longest, at most
//                       `compute_slots` batches at once)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/expert_messages.hpp"

namespace colony {

/// One expert. Invariant: at most one batch computes at a time; requests are
/// answered in the order their last rows were computed.
using expert_actor = caf::typed_actor<
  /// Outputs for a batch. Errors: bad_request (tensor count, empty list),
  /// bad_shape, bad_dtype, malformed_payload, payload_too_large,
  /// compute_failed. Callers must use a finite timeout.
  caf::replies_to<forward_request>::with<forward_reply>,
  /// Input gradients; applies one optimizer step per computed batch. Same
  /// errors as forward.
  caf::replies_to<backward_request>::with<backward_reply>,
  /// From the node's server: the same, for a request the node first saw
  /// `waited_ms` ago (its first chunk): its budget counts from then, so a
  /// slow upload cannot move the deadline past the client's. Errors as
  /// above, plus timeout when the budget was spent on the way.
  caf::replies_to<forward_request, uint32_t>::with<forward_reply>,
  caf::replies_to<backward_request, uint32_t>::with<backward_reply>,
  /// Schema and counters; never fails for a known uid.
  caf::replies_to<info_request>::with<expert_info>,
  /// Writes a checkpoint now; replies with the update count saved.
  /// Errors: io_failed.
  caf::replies_to<save_atom>::with<uint64_t>,
  /// From the dispatcher: compute one batch of queue `kind` (0 forward,
  /// 1 backward), then report done.
  caf::reacts_to<grant_atom, uint8_t>,
  /// From the worker pool: the expert's running job finished.
  caf::reacts_to<computed_atom>>;

/// Node-wide compute arbitration between expert queues.
using dispatcher_actor = caf::typed_actor<
  /// Queue `kind` of `expert` has requests, the oldest since `oldest_ns`
  /// (steady clock, ns since epoch of the clock).
  caf::reacts_to<ready_atom, expert_actor, uint8_t, int64_t>,
  /// The expert with this actor id finished a granted batch.
  caf::reacts_to<done_atom, uint64_t>>;

/// The published endpoint of a node: routes requests to its experts by uid.
/// It carries only what remote clients need; checkpoints, spawning and
/// stopping experts are local (expert_host.hpp) or on the control port.
using expert_server_actor = caf::typed_actor<
  /// Routed to the expert `uid`; errc::unknown_expert if not served here,
  /// errc::expert_restarting while its supervisor rebuilds it.
  caf::replies_to<forward_request>::with<forward_reply>,
  caf::replies_to<backward_request>::with<backward_reply>,
  caf::replies_to<info_request>::with<expert_info>,
  /// Uids served by this node, sorted.
  caf::replies_to<list_atom>::with<std::vector<std::string>>,
  /// Liveness probe of clients (actors/client/liveness.hpp); replies with
  /// the number of experts served. Never fails.
  caf::replies_to<ping_atom>::with<uint64_t>,
  /// One chunk of a large tensor of the sender's next request (see
  /// messages/chunking.hpp); errors surface when that request arrives.
  caf::reacts_to<tensor_chunk>>;

} // namespace colony
