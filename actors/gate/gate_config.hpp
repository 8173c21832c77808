// Configuration of one DMoE layer's gate. Every knob has a finite default:
// no timeout is infinite (the reference's forward could hang in its beam
// search; here the search counts against forward_timeout).
#pragma once

#include <cstdint>

#include "actors/gate/beam_search.hpp"
#include "actors/gate/prefix_cache.hpp"

namespace colony::gate {

struct gate_config {
  grid_spec grid;                   ///< uid prefix and grid shape, e.g. ffn, [4, 4]
  uint32_t input_dim = 0;           ///< d of the [B, d] / [B, T, d] input
  uint32_t output_dim = 0;          ///< d_out of the experts; 0 = input_dim
  uint32_t k_best = 4;              ///< experts per sample
  uint32_t beam_size = 0;           ///< beam of the search; 0 = k_best
  uint32_t k_min = 1;               ///< answers per sample before the forward may end
  double timeout_after_k_min_s = 0.5; ///< wait this long once every sample has k_min
  /// `timeout_after_k_min: auto`: the grace is grace_margin x the
  /// grace_quantile of the answer times that this gate's probe forwards measured (a probe waits
  /// grace_probe_factor x the current grace, at most forward_timeout: every
  /// forward until grace_min_samples answers were measured, then one in
  /// grace_probe_every), timeout_after_k_min_s before that; so live
  /// experts' answers are rarely abandoned at any latency. A backward then
  /// ends by backward_deadline_factor x that quantile (within [0.1 s,
  /// backward_timeout]) instead of waiting backward_timeout for a lost
  /// request: a sample whose gradient came from no expert gets zeros.
  bool grace_auto = false;
  double grace_quantile = 0.95;
  double grace_margin = 1.25;
  uint32_t grace_min_samples = 8;
  uint32_t grace_probe_every = 8;
  double grace_probe_factor = 4;
  double backward_deadline_factor = 4;
  double forward_timeout_s = 5;     ///< the whole forward: beam search + calls
  uint32_t backward_k_min = 1;      ///< answers per sample before backward may end
  double backward_timeout_s = 10;   ///< the whole backward
  bool allow_zero_outputs = true;   ///< a sample below k_min gets zeros (else: error)
  bool detect_anomalies = true;     ///< drop answers with NaN/Inf
  bool float16_wire = false;        ///< activations and gradients as float16
  /// A node found unreachable (or lost by node_connections) is skipped by
  /// the beam search until it is connected again or declares itself again
  /// in the DHT and answers a ping (actors/gate/lost_nodes.hpp); such
  /// retries of one node start at most once per this many seconds.
  double unreachable_skip_s = 10;
  prefix_cache_config cache;        ///< prefix -> successors, negative cache

  uint32_t out_dim() const { return output_dim ? output_dim : input_dim; }
  uint32_t beam() const { return beam_size ? beam_size : k_best; }
  uint32_t grid_total() const {
    uint32_t n = 0;
    for (auto d : grid.dims)
      n += d;
    return n;
  }
};

/// Checks a gate config: a valid grid, input_dim > 0, 1 <= k_min <= k_best,
/// beam >= k_best, positive finite timeouts. errc::bad_config naming the
/// field (with `path` in front, e.g. "model.layers[2].").
caf::error validate(const gate_config& cfg, const std::string& path = {});

} // namespace colony::gate
