// Experiment 1's swarm: the chains' experts on `nodes` colony-node
// processes over loopback (port 0, ready files; row r of every layer's grid
// on node r % nodes, one compute slot and one torch thread each, so that
// the nodes together use this machine's 2 cores), and an in-process DHT of
// 3 peers in which every expert is declared at its node's endpoint (the
// gates' beam searches run over it). The nodes are SIGKILLed when the
// swarm is destroyed (and by colony::bench::die on any error exit).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/dht/swarm.hpp"
#include "bench/experiments/throughput/experiment_config.hpp"
#include "bench/recovery_support.hpp"
#include "runtime/endpoint.hpp"

namespace colony::throughput {

class expert_swarm {
public:
  /// Starts the nodes (writing their configs and logs under `work_dir`)
  /// and declares their experts; exits via bench::die on failure.
  expert_swarm(caf::actor_system& sys, const experiment_config& cfg, const std::string& work_dir);
  ~expert_swarm();

  /// The node serving expert (row, col) of any layer.
  const endpoint& node_of(uint32_t row) const { return endpoints_[row % endpoints_.size()]; }

  /// A DHT peer for gates and trainer hosts.
  dht::peer_actor peer() const { return dht_->peer(1); }

  /// The node YAML of node `i` (for the summary / debugging).
  static std::string node_yaml(const experiment_config& cfg, uint32_t i);

private:
  std::vector<std::unique_ptr<bench::child>> nodes_;
  std::vector<endpoint> endpoints_;
  std::unique_ptr<dht::swarm> dht_;
};

} // namespace colony::throughput
