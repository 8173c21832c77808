#include "runtime/supervision/restart_window.hpp"

#include <algorithm>
#include <cmath>

namespace colony::supervision {

restart_window::restart_window(uint32_t max_restarts, double window_s)
    : max_restarts_(max_restarts), window_s_(window_s) {
}

void restart_window::expire(double now_s) {
  while (!times_.empty() && times_.front() <= now_s - window_s_)
    times_.pop_front();
}

bool restart_window::admit(double now_s) {
  expire(now_s);
  if (times_.size() >= max_restarts_)
    return false;
  times_.push_back(now_s);
  return true;
}

uint32_t restart_window::in_window(double now_s) {
  expire(now_s);
  return static_cast<uint32_t>(times_.size());
}

backoff_schedule::backoff_schedule(double initial_ms, double max_ms, double multiplier,
                                   double jitter, uint64_t seed)
    : initial_ms_(initial_ms), max_ms_(max_ms), multiplier_(multiplier),
      jitter_(std::clamp(jitter, 0.0, 0.999)), gen_(seed) {
}

double backoff_schedule::delay_ms(uint32_t n) {
  if (initial_ms_ <= 0)
    return 0;
  double base = initial_ms_;
  for (uint32_t i = 1; i < n && base < max_ms_; ++i)
    base *= multiplier_;
  base = std::min(base, max_ms_);
  if (jitter_ <= 0)
    return base;
  // 53 random bits -> u in [0, 1): the same on every platform for a seed.
  double u = static_cast<double>(gen_() >> 11) * 0x1.0p-53;
  return base * (1 - jitter_ + 2 * jitter_ * u);
}

} // namespace colony::supervision
