// Counts events on a per-message path and says when to log them: at most
// once per interval, with the number of events since the last log line.
#pragma once

#include <chrono>
#include <cstdint>

namespace colony {

class rate_limited_counter {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit rate_limited_counter(std::chrono::nanoseconds interval) : interval_(interval) {}

  /// Adds `n` events at `now`; returns the count to log now, or 0.
  uint64_t add(uint64_t n, time_point now) {
    pending_ += n;
    if (pending_ == 0 || (logged_once_ && now - last_ < interval_))
      return 0;
    logged_once_ = true;
    last_ = now;
    auto result = pending_;
    pending_ = 0;
    return result;
  }

private:
  std::chrono::nanoseconds interval_;
  time_point last_{};
  bool logged_once_ = false;
  uint64_t pending_ = 0;
};

} // namespace colony
