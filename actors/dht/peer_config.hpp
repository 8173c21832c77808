// Settings of one DHT peer, and the DHT clock. Defaults follow hivemind:
// k = 20, alpha = 3, 5 replicas, split depth modulo 5, 3 s RPC timeout,
// 5 s bans doubling per repeat; a get reads 3 replicas (250 ms grace).
// Added: RTT-based RPC timeouts, republish, hand-off, read-repair.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "actors/dht/node_id.hpp"
#include "runtime/endpoint.hpp"

namespace colony::dht {

/// Seconds since the Unix epoch: the default DHT clock. Expirations are
/// absolute times on this clock, so peers of a swarm need roughly
/// synchronized clocks (as in hivemind).
double unix_time();

/// How one peer behaves. Copyable; `clock` is called from the peer's actor
/// and must be thread-safe when several peers share it.
struct peer_config {
  endpoint self_ep{"127.0.0.1", 0}; ///< advertised endpoint (a bootstrap may set it)
  std::optional<node_id> id;   ///< none: random from `seed`
  uint64_t seed = 0;           ///< 0: seeded from std::random_device
  bool client_mode = false;    ///< asks, but is never stored in others' tables
  size_t k = 20;               ///< bucket size and lookup width
  size_t alpha = 3;            ///< requests in flight per lookup
  size_t num_replicas = 5;     ///< peers that store each value
  /// A get gathers the copies of this many replicas (merged per subkey, the
  /// later expiration winning) besides the local one; 1 = the first copy.
  size_t values_wanted = 3;
  /// ... but waits at most this long after the first copy arrived.
  std::chrono::nanoseconds value_grace = std::chrono::milliseconds{250};
  size_t depth_modulo = 5;     ///< routing table split rule (hivemind's b)
  size_t max_records = 0;      ///< record store capacity; 0 = unbounded
  /// The longest an RPC waits (a peer never measured gets it); a measured
  /// peer gets srtt + 4 x rttvar, at least rpc_timeout_min (rtt.hpp).
  std::chrono::nanoseconds rpc_timeout = std::chrono::seconds{3};
  std::chrono::nanoseconds rpc_timeout_min = std::chrono::milliseconds{500};
  /// Holders re-store each key on its current replicas when nobody stored
  /// it for this long (Kademlia's republish; 0: never).
  double republish_s = 60;
  /// A put stores straight on the replicas a lookup found for the same key
  /// less than this long ago (a declarer re-declaring every period); a
  /// replica that fails a store is dropped from the cache at once (0: every
  /// put looks up). Newly joined nearer peers get the key by hand-off.
  double replica_cache_s = 60;
  /// A new contact nearer to a held key than its replicas receives the key
  /// (Kademlia's hand-off on join).
  bool hand_off = true;
  /// A get stores the merged value on the replicas it read that answered
  /// with an older copy or none.
  bool read_repair = true;
  std::chrono::nanoseconds maintenance_period = std::chrono::seconds{5};
  double refresh_interval_s = 600; ///< refresh buckets idle this long
  double ban_base_s = 5;           ///< first ban; doubles per repeat
  std::function<double()> clock = unix_time;
};

} // namespace colony::dht
