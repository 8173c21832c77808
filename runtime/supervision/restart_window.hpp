// The pure parts of a supervisor's restart decision, free of CAF: the
// restart intensity (at most N restarts within a sliding window) and the
// exponential backoff with seeded jitter. Times are seconds on any
// monotonic clock the caller chooses (the supervisor uses its actor clock,
// so that virtual time works on the test scheduler).
#pragma once

#include <cstdint>
#include <deque>
#include <random>

namespace colony::supervision {

/// Sliding-window restart intensity: at most `max_restarts` restarts whose
/// time lies in (now - window_s, now].
class restart_window {
public:
  restart_window(uint32_t max_restarts, double window_s);

  /// Records a restart at `now_s` and returns true, or returns false (and
  /// records nothing) when it would be restart max_restarts + 1 in the window.
  bool admit(double now_s);

  /// Restarts recorded within the window that ends at `now_s`.
  uint32_t in_window(double now_s);

private:
  void expire(double now_s);

  uint32_t max_restarts_;
  double window_s_;
  std::deque<double> times_;
};

/// Delay before restart n (1-based): initial_ms * multiplier^(n-1), capped at
/// max_ms, times a factor drawn uniformly from [1 - jitter, 1 + jitter] by a
/// generator seeded with `seed` (same seed, same sequence of delays).
class backoff_schedule {
public:
  backoff_schedule(double initial_ms, double max_ms, double multiplier, double jitter,
                   uint64_t seed);

  /// 0 when initial_ms <= 0 (no backoff); draws from the generator otherwise.
  double delay_ms(uint32_t n);

private:
  double initial_ms_;
  double max_ms_;
  double multiplier_;
  double jitter_;
  std::mt19937_64 gen_;
};

} // namespace colony::supervision
