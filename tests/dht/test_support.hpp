// Shared helpers of the DHT tests: an actor system configured like every
// Colony process, a manual DHT clock, and small swarm builders.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/dht/swarm.hpp"
#include "runtime/system_config.hpp"

namespace colony::dht::testing {

/// A DHT clock that moves only when told to; thread-safe, shareable.
class manual_clock {
public:
  explicit manual_clock(double start = 1'000'000) : now_(std::make_shared<std::atomic<double>>(start)) {}

  double now() const { return now_->load(); }
  void advance(double seconds) { now_->store(now_->load() + seconds); }

  /// A peer_config::clock reading this clock.
  std::function<double()> fn() const {
    auto now = now_;
    return [now] { return now->load(); };
  }

private:
  std::shared_ptr<std::atomic<double>> now_;
};

/// The value of `x`, or `fallback` on error.
template <class T>
T value_or(const caf::expected<T>& x, T fallback) {
  return x ? *x : fallback;
}

/// Swarm options for tests: short timeouts, seeded, optional manual clock.
inline swarm_options test_swarm(uint64_t seed, const manual_clock* clock = nullptr) {
  swarm_options opts;
  opts.seed = seed;
  opts.peer.rpc_timeout = std::chrono::milliseconds{500};
  opts.peer.maintenance_period = std::chrono::seconds{1};
  if (clock != nullptr)
    opts.peer.clock = clock->fn();
  return opts;
}

/// A test fixture owning an actor system with Colony's configuration.
class system_fixture : public ::testing::Test {
protected:
  system_fixture() : sys_(cfg_) {}

  system_config cfg_;
  caf::actor_system sys_;
};

} // namespace colony::dht::testing
