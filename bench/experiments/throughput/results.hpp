// Experiment 1's outputs: throughput.csv (one row per form, system and
// delay) and summary.md (the results table per form with DMoE / model-
// parallel and DMoE vs its 0 ms rate, the setup, what was scaled and why).
#pragma once

#include <string>
#include <vector>

#include "bench/experiments/throughput/experiment_config.hpp"
#include "bench/experiments/throughput/forward_chain.hpp"

namespace colony::throughput {

/// One CSV row.
struct result_row {
  std::string form, block, system; ///< system: dmoe | model_parallel
  double mean_delay_ms = 0;
  point_result point;
};

/// Writes `dir`/throughput.csv (header + rows; called after every point so
/// that a cut-short run keeps what it measured).
void write_csv(const std::string& dir, const std::vector<result_row>& rows);

/// Writes `dir`/summary.md from the rows and the configuration.
void write_summary(const std::string& dir, const experiment_config& cfg,
                   const std::vector<result_row>& rows, double total_s, bool quick);

} // namespace colony::throughput
