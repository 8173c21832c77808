// The gate of one DMoE layer on a trainer node (shared by its trainers):
// beam search over the DHT for each sample's top-k alive experts, one
// request per chosen expert carrying all of its rows, per-sample quorum
// and deadlines, and the same routing for the backward.
//
//   trainer (torch, pool thread) --gate_forward_request--> gate_actor
//        gate_actor --dht_get_request (one per grid dim)--> DHT peer
//        gate_actor --run--> fanout actor --forward_request--> expert nodes
#pragma once

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/client/remote_expert.hpp"
#include "actors/dht/protocol.hpp"
#include "actors/gate/gate_config.hpp"
#include "messages/gate_messages.hpp"

namespace colony::gate {

/// Invariants: a forward replies by forward_timeout (beam search included)
/// and a backward by backward_timeout, whatever the experts and the DHT do;
/// a reply never contains NaN/Inf from an expert (with detect_anomalies).
using gate_actor = caf::typed_actor<
  /// Runs the experts on a batch. Errors: bad_shape (input not [B, d] or
  /// [B, T, d], scores not B x sum(grid)), malformed_payload, not_found (no
  /// live expert under the prefix for any sample), too_few_experts (a
  /// sample below k_min without allow_zero_outputs: says how many
  /// answered), timeout (the DHT did not answer in time).
  caf::replies_to<gate_forward_request>::with<gate_forward_reply>,
  /// Sends gradients to the experts that answered the forward. Errors:
  /// bad_shape, malformed_payload. Experts that fail lose their share.
  caf::replies_to<gate_backward_request>::with<gate_backward_reply>>;

/// Spawns a gate that finds experts through `dht` and calls them through
/// `conns` (which must outlive the gate). `cfg` must have passed validate().
gate_actor spawn_gate(caf::actor_system& sys, gate_config cfg, dht::peer_actor dht,
                      std::shared_ptr<node_connections> conns);

} // namespace colony::gate
