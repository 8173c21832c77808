// An in-process swarm of DHT peers on one sim_directory, for tests and
// benchmarks: peers join in waves that double up to `wave` peers (each
// from a few random earlier peers),
// can be killed abruptly, and are stopped when the swarm is destroyed.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

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

/// Peers numbered 0..size()-1 at endpoints "sim:1", "sim:2", ...
class swarm {
public:
  swarm(caf::actor_system& sys, swarm_options opts);
  ~swarm();

  swarm(const swarm&) = delete;
  swarm& operator=(const swarm&) = delete;

  /// Spawns `n` more peers and bootstraps them in waves; the first error
  /// of a bootstrap, if any.
  caf::error grow(size_t n);

  /// Kills peer `i` abruptly (no goodbye; its records are lost).
  void kill(size_t i);

  size_t size() const { return peers_.size(); }
  bool alive(size_t i) const { return alive_[i]; }
  const peer_actor& peer(size_t i) const { return peers_[i]; }
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

  caf::actor_system& sys_;
  swarm_options opts_;
  std::mt19937_64 rng_;
  std::shared_ptr<sim_directory> directory_;
  std::vector<peer_actor> peers_;
  std::vector<bool> alive_;
};

} // namespace colony::dht
