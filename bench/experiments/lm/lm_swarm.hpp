// The DMoE side of experiment 3: a `colony dht serve` bootstrap peer and
// colony-node expert processes over loopback (port 0, ready files), each
// expert a "transformer" block with its own seed and Adam, declared in the
// DHT by its node; plus this process's client-mode DHT peer that the gates
// search. Layer l's grid is `lm<l>.<row>.<col>`; row r lives on node
// r % nodes. The children are SIGKILLed when the swarm is destroyed (and
// by bench::die on any fatal error).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/dht/io_peer.hpp"
#include "bench/experiments/lm/lm_model.hpp"
#include "bench/recovery_support.hpp"

namespace colony::lm {

struct swarm_options {
  std::string work_dir;   ///< configs, ready files, logs of the children
  lm_shape expert;        ///< the experts' block (d_model, heads, ff_dim)
  int layers = 4;
  uint32_t rows = 4, cols = 4;
  int nodes = 2;
  double expert_lr = 1e-3;
  uint32_t accumulate_rows = 0; ///< the experts' optimizer.accumulate_rows
  uint32_t max_batch_size = 1024;
};

class lm_swarm {
public:
  /// Starts the bootstrap, the nodes (each up to 90 s) and the client peer.
  lm_swarm(caf::actor_system& sys, swarm_options opts);
  ~lm_swarm();

  lm_swarm(const lm_swarm&) = delete;
  lm_swarm& operator=(const lm_swarm&) = delete;

  /// The client peer (what the gates search).
  dht::peer_actor peer() const { return client_.peer; }

  /// The uid prefix of layer `l`.
  static std::string prefix(int l) { return "lm" + std::to_string(l); }

  size_t expert_count() const;

private:
  std::string node_yaml(int node, const std::string& bootstrap) const;

  caf::actor_system& sys_;
  swarm_options opts_;
  bench::child bootstrap_;
  std::vector<std::unique_ptr<bench::child>> nodes_;
  dht::io_peer client_;
};

} // namespace colony::lm
