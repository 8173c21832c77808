// Form (b) of experiment 1: real training (forward + backward, the experts
// stepping Adam on every backward) through trainer::trainer_host, as
// bench/dmoe part 2 does: a synthetic task, model
//   Linear(64, d) -> ReLU -> L x [dmoe layer | fixed_experts] -> LayerNorm -> Linear(d, 8)
// DMoE: `trainers` trainers sharing one gate per layer (top-k of the grid);
// model-parallel: 1 trainer whose layers call k fixed experts in sequence,
// every call awaited. The delay is trainers.faults: exponential with the
// point's mean on every expert request (forward and backward).
#pragma once

#include <caf/actor_system.hpp>

#include "bench/experiments/throughput/expert_swarm.hpp"
#include "bench/experiments/throughput/forward_chain.hpp"

namespace colony::throughput {

/// Trains for the window (then every trainer finishes its step); samples
/// of finished steps over the whole time, failed = failed steps.
point_result train_dmoe(caf::actor_system& sys, const expert_swarm& swarm,
                        const chain_config& c, double delay_ms, uint64_t seed);

point_result train_model_parallel(caf::actor_system& sys, const expert_swarm& swarm,
                                  const chain_config& c, double delay_ms, uint64_t seed);

} // namespace colony::throughput
