// Forms (a) and (c) of experiment 1: batches pushed forward through a
// chain of expert layers on the nodes, with an exponential delay (mean
// `delay_ms`, Colony's fault hook on node_connections) on every expert
// request the caller sends.
//   DMoE: `trainers` concurrent streams; each layer is a real dmoe_layer
//     (gating network -> the layer's gate actor: beam search over the DHT,
//     one request per chosen expert with all its rows, k_min quorum).
//   model-parallel: 1 stream calling k fixed experts per layer in sequence
//     (remote_expert, every call awaited), as a pipeline without overlap.
// Throughput counts rows through blocks: samples/s = rows finished by
// layer calls in the window / layers, so that a stream needing longer than
// the window for one whole pass still counts its progress.
#pragma once

#include <cstdint>

#include <caf/actor_system.hpp>

#include "bench/experiments/throughput/expert_swarm.hpp"

namespace colony::throughput {

/// One measured point of one system.
struct point_result {
  double samples_per_s = 0;
  uint64_t requests = 0; ///< expert requests sent in the window
  uint64_t failed = 0;   ///< of them failed or unanswered (the layer went on)
  double window_s = 0;
};

/// DMoE streams through `c` with `c.trainers` concurrent trainers.
point_result forward_dmoe(caf::actor_system& sys, const expert_swarm& swarm,
                          const chain_config& c, double delay_ms, uint64_t seed);

/// The model-parallel stream through `c`.
point_result forward_model_parallel(caf::actor_system& sys, const expert_swarm& swarm,
                                    const chain_config& c, double delay_ms, uint64_t seed);

} // namespace colony::throughput
