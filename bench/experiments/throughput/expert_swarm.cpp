// Experiment 1's expert nodes and DHT (see expert_swarm.hpp).
#include "bench/experiments/throughput/expert_swarm.hpp"

#include <chrono>
#include <fstream>

#include "actors/dht/expert_directory.hpp"
#include "messages/errc.hpp"

namespace colony::throughput {
namespace {

std::string module_yaml(const chain_config& c, uint32_t seed) {
  auto s = [](uint32_t v) { return std::to_string(v); };
  if (c.block() == "transformer")
    return "{type: transformer, d_model: " + s(c.dim) + ", heads: " + s(c.heads)
           + ", ff_dim: " + s(c.hidden) + ", seed: " + s(seed) + "}";
  return "{type: ffn_block, dim: " + s(c.dim) + ", hidden: " + s(c.hidden)
         + ", seq_input: " + (c.seq ? "1" : "0") + ", seed: " + s(seed) + "}";
}

} // namespace

std::string expert_swarm::node_yaml(const experiment_config& cfg, uint32_t i) {
  std::string y = "node: {host: 127.0.0.1, port: 0, scheduler_threads: 1, torch_threads: 1, "
                  "compute_slots: 1}\nlog: {level: warn}\nexperts:\n";
  for (auto& c : cfg.chains)
    for (uint32_t l = 0; l < c.layers; ++l)
      for (uint32_t r = 0; r < c.rows; ++r) {
        if (r % cfg.nodes != i)
          continue;
        y += "  - {uid: " + c.prefix + std::to_string(l) + "." + std::to_string(r)
             + ".*, count: " + std::to_string(c.cols) + ", max_batch_size: "
             + std::to_string(cfg.max_batch_size) + ", module: "
             + module_yaml(c, 1000 * l + r + 1) + ", optimizer: {type: adam, lr: 1.0e-4}}\n";
      }
  return y;
}

expert_swarm::expert_swarm(caf::actor_system& sys, const experiment_config& cfg,
                           const std::string& work_dir) {
  for (uint32_t i = 0; i < cfg.nodes; ++i) {
    auto base = work_dir + "/node" + std::to_string(i);
    std::ofstream{base + ".yaml"} << node_yaml(cfg, i);
    std::remove((base + ".ready").c_str());
    auto node = std::make_unique<bench::child>();
    node->start({COLONY_NODE_BIN, "--config", base + ".yaml", "--ready-file", base + ".ready"},
                base + ".log");
    nodes_.push_back(std::move(node));
  }
  for (uint32_t i = 0; i < cfg.nodes; ++i) {
    auto base = work_dir + "/node" + std::to_string(i);
    auto text = nodes_[i]->wait_ready(base + ".ready", std::chrono::seconds{120});
    auto ep = parse_endpoint(text);
    if (!ep)
      bench::die("node " + std::to_string(i) + " wrote a bad ready file: " + text);
    endpoints_.push_back(*ep);
  }
  dht_ = std::make_unique<dht::swarm>(sys, dht::swarm_options{});
  if (auto err = dht_->grow(3))
    bench::die("DHT: " + describe(err));
  auto client = dht_->client_of(0);
  auto key = identity::node_key::generate(); // the owner of every declaration
  for (auto& c : cfg.chains)
    for (uint32_t r = 0; r < c.rows; ++r) {
      std::vector<std::string> uids;
      for (uint32_t l = 0; l < c.layers; ++l)
        for (uint32_t col = 0; col < c.cols; ++col)
          uids.push_back(c.uid(l, r, col));
      if (!dht::declare_experts(client, uids, node_of(r), dht::unix_time() + 24 * 3600,
                                 key))
        bench::die("DHT: declaring " + c.prefix + " row " + std::to_string(r) + " failed");
    }
}

expert_swarm::~expert_swarm() {
  dht_.reset();
  for (auto& n : nodes_)
    n->stop();
}

} // namespace colony::throughput
