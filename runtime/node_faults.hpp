// The node's `faults:` section: simulated latency on its outgoing expert
// calls and DHT messages, a fraction of expert requests that fail, and a
// rate of injected expert-actor crashes. Off by default; for the tests, the
// benchmarks and rehearsing a bad network (the paper's latency and
// failure experiments).
//
//   faults:
//     latency: {distribution: exponential, mean_ms: 1000}  # expert calls + DHT
//     dht_latency: {distribution: fixed, mean_ms: 50}      # optional DHT override
//     fail_fraction: 0.1       # of outgoing expert requests: lost, fail at deadline
//     crash_rate_per_min: 2    # expert actors killed per minute on this node
//     seed: 7                  # each stream gets its own seed derived from it
#pragma once

#include <cstdint>

#include <caf/error.hpp>

#include "runtime/fault_injection.hpp"

namespace YAML {
class Node;
} // namespace YAML

namespace colony {

/// What the node's `faults:` section asks for.
struct node_faults {
  /// Delay and loss of the node's outgoing expert requests (trainers).
  fault_config expert_calls;
  /// Delay of the node's outgoing DHT messages (its DHT peer's transport).
  fault_config dht;
  /// Expert actors killed per minute (0 = none), see crash_injector.hpp.
  double crash_rate_per_min = 0;
  /// The section's seed; the streams above use seeds derived from it.
  uint64_t seed = 0;

  /// Whether the section asks for nothing.
  bool is_noop() const {
    return expert_calls.is_noop() && dht.is_noop() && crash_rate_per_min <= 0;
  }

  /// The seed of the crash injector (distinct from the two fault streams).
  uint64_t crash_seed() const;
};

/// A distinct seed for stream `stream` of a section seeded with `seed`
/// (splitmix64 of both).
uint64_t derive_seed(uint64_t seed, uint64_t stream);

/// Reads the `faults` map into `out` (absent or null = all off). Errors are
/// errc::bad_config naming the key ("faults.fail_fraction: 1.5 out of range
/// [0, 1]"); unknown keys are refused.
caf::error parse_node_faults(const YAML::Node& yaml, node_faults& out);

} // namespace colony
