// The gate's waits under `timeout_after_k_min: auto` (gate_config::
// grace_auto), pure: the grace after k_min is grace_margin x the
// grace_quantile of the answer times measured by probe forwards, and a
// backward ends by backward_deadline_factor x that quantile. Learning only
// from probes keeps the grace from ratcheting down: a forward that ends at
// its grace never sees the answers after it. A probe waits
// grace_probe_factor x the grace (at most forward_timeout): every forward
// until grace_min_samples answers were measured, then one in
// grace_probe_every. Without grace_auto every figure is the configured one.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "actors/gate/gate_config.hpp"
#include "actors/gate/latency_window.hpp"

namespace colony::gate {

class adaptive_grace {
public:
  explicit adaptive_grace(const gate_config& cfg) : cfg_(cfg) {}

  /// Whether the next forward is a probe (counts the forward).
  bool next_is_probe() {
    if (!cfg_.grace_auto)
      return false;
    ++forwards_;
    return !learned() || forwards_ % std::max<uint32_t>(1, cfg_.grace_probe_every) == 0;
  }

  /// The grace once every sample has k_min answers, in seconds.
  double grace_s() const {
    if (!learned())
      return cfg_.timeout_after_k_min_s;
    return std::clamp(cfg_.grace_margin * quantile_s(), 0.01, cfg_.forward_timeout_s);
  }

  /// A probe's grace, in seconds.
  double probe_grace_s() const {
    return std::min(cfg_.forward_timeout_s, cfg_.grace_probe_factor * grace_s());
  }

  /// How long a backward may take, in seconds.
  double backward_s() const {
    if (!learned())
      return cfg_.backward_timeout_s;
    return std::clamp(cfg_.backward_deadline_factor * quantile_s(), 0.1, cfg_.backward_timeout_s);
  }

  /// Answer times (ms) of a probe forward.
  void learn(const std::vector<float>& latency_ms) {
    for (auto ms : latency_ms)
      window_.add(ms);
  }

private:
  bool learned() const { return cfg_.grace_auto && window_.size() >= cfg_.grace_min_samples; }
  double quantile_s() const { return window_.quantile(cfg_.grace_quantile) / 1000; }

  gate_config cfg_;
  latency_window window_;
  uint64_t forwards_ = 0;
};

} // namespace colony::gate
