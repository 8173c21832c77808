// An in-process swarm of DHT peers on one sim_directory, for tests and
// benchmarks: peers join in waves that double up to `wave` peers (each
// from a few random earlier peers), or one at a time in the background
// (join, replace: churn); they can be killed (resolves fail at once) or
// vanish (requests to them time out), and are stopped when the swarm is
// destroyed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>

#include "actors/dht/client.hpp"
#include "actors/dht/peer_config.hpp"
#include "actors/dht/sim_directory.hpp"

namespace colony::dht {

/// How a swarm is built.
struct swarm_options {
  peer_config peer;          ///< template of every peer (id, seed, endpoint set per peer)
  fault_config faults;       ///< delay/drop hook of the shared directory
  uint64_t seed = 1;         ///< ids, bootstrap choices
  size_t wave = 250;         ///< peers bootstrapping at the same time
  size_t initial_peers = 3;  ///< earlier peers each newcomer bootstraps from
  caf::timespan wave_timeout = std::chrono::seconds{60};
};

/// Background joins so far (join, replace); thread-safe.
struct join_counts {
  std::atomic<uint64_t> started{0};
  std::atomic<uint64_t> ok{0};      ///< bootstraps that replied with stats
  std::atomic<uint64_t> failed{0};  ///< bootstraps that failed or timed out
};

/// Peers numbered 0..size()-1 at endpoints "sim:1", "sim:2", ... (see
/// endpoint_of). Not thread-safe: one thread drives a swarm.
class swarm {
public:
  swarm(caf::actor_system& sys, swarm_options opts);
  ~swarm();

  swarm(const swarm&) = delete;
  swarm& operator=(const swarm&) = delete;

  /// Spawns `n` more peers and bootstraps them in waves; the first error
  /// of a bootstrap, if any.
  caf::error grow(size_t n);

  /// Kills peer `i` abruptly (no goodbye; its records are lost); requests
  /// to it fail at once (unreachable).
  void kill(size_t i);

  /// Peer `i` vanishes like a host that stopped answering: its actor stops
  /// (its records are lost) but its endpoint still resolves, to a silent
  /// front, so requests to it end only by the requester's own timeout.
  void vanish(size_t i);

  /// Spawns one fresh peer (the next index, a new endpoint and id) and
  /// bootstraps it in the background through up to initial_peers random
  /// live peers; its index. joins() counts how the bootstraps ended. It
  /// may be used at once (requests queue behind the bootstrap).
  size_t join();

  /// vanish(i), then join(): the newcomer's index.
  size_t replace(size_t i);

  /// How the background joins ended so far.
  const join_counts& joins() const { return *joins_; }

  size_t size() const { return peers_.size(); }
  bool alive(size_t i) const { return alive_[i]; }
  bool vanished(size_t i) const { return vanished_[i]; }
  const peer_actor& peer(size_t i) const { return peers_[i]; }

  /// "sim:i+1" for i < 65535, then "simN:(i % 65535) + 1" with N = i / 65535.
  static endpoint endpoint_of(size_t i);

  /// Indices of the live peers.
  std::vector<size_t> alive_indices() const;

  /// A blocking client of peer `i`.
  client client_of(size_t i, caf::timespan timeout = std::chrono::seconds{30});

  sim_directory& directory() { return *directory_; }

  /// The directory, for peers spawned outside the swarm (e.g. clients).
  std::shared_ptr<sim_directory> shared_directory() { return directory_; }

private:
  std::vector<std::string> pick_initial(size_t joined);
  size_t spawn_one();
  void stop(size_t i);

  caf::actor_system& sys_;
  swarm_options opts_;
  std::mt19937_64 rng_;
  std::shared_ptr<sim_directory> directory_;
  std::vector<peer_actor> peers_;
  std::vector<bool> alive_;
  std::vector<bool> vanished_;
  peer_front_actor silent_;  ///< stands in for every vanished peer
  std::shared_ptr<join_counts> joins_ = std::make_shared<join_counts>();
  std::vector<caf::actor> waiters_;  ///< one per background join
};

} // namespace colony::dht
