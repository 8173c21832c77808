// Shared set-up of the DMoE layer tests: expert nodes in the test process
// (their own actor systems, loopback TCP), a small in-process DHT swarm on
// the client side in which the tests declare those nodes' experts, and a
// gate + dmoe_layer built with the same factories the trainer node uses.
#pragma once

#include <torch/torch.h>

#include "actors/dht/expert_directory.hpp"
#include "actors/dht/swarm.hpp"
#include "actors/gate/dmoe_layer.hpp"
#include "tests/integration/integration_support.hpp"

namespace colony::it {

/// A node config with one ffn expert (8 -> 16 -> 8, SGD lr 0.1) per uid,
/// seeded differently, so that every expert computes something else.
inline std::string distinct_ffn_yaml(const std::vector<std::string>& uids, uint64_t seed0 = 1) {
  auto yaml = test_node_header();
  for (size_t i = 0; i < uids.size(); ++i)
    yaml += "  - uid: " + uids[i] + "\n    module: {type: ffn, seed: " + std::to_string(seed0 + i)
            + ", input_dim: 8, hidden_dim: 16, output_dim: 8}\n"
              "    optimizer: {type: sgd, lr: 0.1}\n";
  return yaml;
}

/// The client side: an actor system, a 3-peer DHT swarm and connections.
class dmoe_client {
public:
  dmoe_client()
    : cfg_(test_system_options()), sys_(cfg_), swarm_(sys_, swarm_opts()),
      conns_(std::make_shared<node_connections>(sys_)) {
    if (auto err = swarm_.grow(3))
      throw std::runtime_error("swarm: " + describe(err));
  }

  /// Declares `uids` as served at `ep` for a minute.
  void declare(const std::vector<std::string>& uids, const endpoint& ep) {
    auto c = swarm_.client_of(0);
    auto r = dht::declare_experts(c, uids, ep, dht::unix_time() + 60, key_);
    if (!r)
      throw std::runtime_error("declare: " + describe(r.error()));
  }

  gate::gate_actor spawn_gate(const gate::gate_config& cfg) {
    return gate::spawn_gate(sys_, cfg, swarm_.peer(1), conns_);
  }

  gate::dmoe_layer layer(const gate::gate_config& cfg, uint64_t seed = 3) {
    return gate::dmoe_layer(sys_, cfg, spawn_gate(cfg), seed);
  }

  caf::actor_system& system() { return sys_; }
  node_connections& conns() { return *conns_; }
  /// A peer of the client-side swarm (what a trainer host's gates use).
  dht::peer_actor dht_peer() { return swarm_.peer(1); }

private:
  static dht::swarm_options swarm_opts() {
    dht::swarm_options opts;
    opts.seed = 5;
    opts.peer.rpc_timeout = std::chrono::milliseconds{500};
    return opts;
  }

  system_config cfg_;
  caf::actor_system sys_;
  dht::swarm swarm_;
  std::shared_ptr<node_connections> conns_;
  identity::node_key key_ = identity::node_key::generate(); ///< seals the declarations
};

/// A gate config over grid `prefix` [1, n] of 8-wide experts.
inline gate::gate_config small_gate(const std::string& prefix, uint32_t n, uint32_t k) {
  gate::gate_config g;
  g.grid.prefix = prefix;
  g.grid.dims = {1, n};
  g.input_dim = 8;
  g.k_best = k;
  g.k_min = 1;
  // Short deadlines: CAF 0.17 keeps an actor alive until its pending
  // request timeouts fire, so they bound each test's shutdown.
  g.timeout_after_k_min_s = 3;
  g.forward_timeout_s = 3;
  g.backward_timeout_s = 3;
  return g;
}

} // namespace colony::it
