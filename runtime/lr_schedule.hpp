// The learning-rate schedule shared by the experts' optimizers and the
// trainer-side model: a linear warm-up from lr / warmup to lr over the first
// `warmup` steps, then a linear decay that reaches 0 at step `total`
// (total 0, or not past the warm-up: constant lr after the warm-up).
#pragma once

#include <algorithm>
#include <cstdint>

namespace colony {

/// Learning rate of update number `step` (0-based).
inline double scheduled_lr(double lr, uint64_t warmup, uint64_t total, uint64_t step) {
  double factor = 1.0;
  if (warmup > 0 && step < warmup)
    factor = static_cast<double>(step + 1) / static_cast<double>(warmup);
  else if (total > warmup) {
    auto span = static_cast<double>(total - warmup);
    auto done = static_cast<double>(step - warmup);
    factor = std::max(0.0, 1.0 - done / span);
  }
  return lr * factor;
}

} // namespace colony
