// The DMoE language model's run in experiment 3: the expert swarm
// (lm_swarm.hpp), one gate per DMoE layer shared by N concurrent trainer
// threads whose expert calls carry the real exponential delay and failed
// requests (fault_injection on their node_connections), and validation
// through a second, fault-free set of gates (k_min = k_best: every chosen
// expert answers) on a snapshot of the trainer-side parameters.
#pragma once

#include "bench/experiments/lm/lm_record.hpp"
#include "bench/experiments/lm/text_corpus.hpp"

namespace colony::lm {

/// Trains the DMoE model for opts.seconds; validation points go to `rec`.
/// Returns the run's figures (parameters, FLOPs, steps, requests, ...).
run_summary run_dmoe(const run_options& opts, const corpus& c, recorder& rec);

} // namespace colony::lm
