// The answer times a gate observed lately: a bounded ring of the last N
// latencies (forward and backward answers alike) and their quantiles. Pure
// (no CAF, no clock): the gate feeds it after each fan-out and derives its
// adaptive grace and backward deadline from it (gate_config::grace_auto).
// O(N log N) per quantile over N <= capacity (512 by default): a few
// microseconds per call, once per fan-out.
#pragma once

#include <cstddef>
#include <vector>

#include "runtime/quantile.hpp"

namespace colony::gate {

class latency_window {
public:
  explicit latency_window(size_t capacity = 512) : capacity_(capacity ? capacity : 1) {}

  void add(double ms) {
    if (xs_.size() < capacity_) {
      xs_.push_back(ms);
    } else {
      xs_[next_] = ms;
      next_ = (next_ + 1) % capacity_;
    }
  }

  size_t size() const { return xs_.size(); }

  /// The q-quantile (0..1, nearest rank) of the window; 0 when empty.
  double quantile(double q) const { return colony::quantile(xs_, q); }

private:
  size_t capacity_;
  size_t next_ = 0;
  std::vector<double> xs_;
};

} // namespace colony::gate
