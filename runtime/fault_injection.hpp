// A seeded delay/drop hook for outgoing messages: simulated latency and loss
// inside one process (DHT swarm simulations, the paper's latency
// experiments). The sampler is thread-safe, so many actors can share one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>

#include <caf/expected.hpp>

namespace colony {

/// How outgoing messages are delayed and dropped.
struct fault_config {
  /// The shape of the one-way delay distribution.
  enum class delay_kind {
    none,        ///< no delay
    fixed,       ///< always `delay_ms`
    exponential, ///< exponential with mean `delay_ms` (the paper's model)
    uniform,     ///< uniform in [0, 2 * delay_ms]
  };

  delay_kind delay = delay_kind::none;
  double delay_ms = 0;          ///< the fixed value or the mean
  double drop_probability = 0;  ///< in [0, 1]
  uint64_t seed = 0;

  /// Whether messages pass untouched.
  bool is_noop() const {
    return (delay == delay_kind::none || delay_ms <= 0) && drop_probability <= 0;
  }
};

/// Parses "none", "fixed", "exponential" or "uniform"; bad_config otherwise.
caf::expected<fault_config::delay_kind> parse_delay_kind(const std::string& text);

/// The fate of one message.
struct fault_verdict {
  bool drop = false;
  std::chrono::nanoseconds delay{0};
};

/// Samples fault verdicts from a fault_config; thread-safe.
class fault_injection {
public:
  explicit fault_injection(fault_config cfg = {});

  /// The fate of the next outgoing message.
  fault_verdict next();

  /// Replaces the configuration (and reseeds) while messages flow, e.g.
  /// to add latency to a swarm after it formed.
  void set(fault_config cfg);

  /// Whether every verdict is "deliver now" (no sampling needed).
  bool is_noop() const { return noop_.load(std::memory_order_relaxed); }

  /// A copy of the current configuration.
  fault_config config();

private:
  std::chrono::nanoseconds sample_delay();

  std::mutex mx_;
  fault_config cfg_;
  std::mt19937_64 rng_;
  std::atomic<bool> noop_;
};

} // namespace colony
