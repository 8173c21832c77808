// Starts and stops experiment 3's expert swarm (see lm_swarm.hpp).
#include "bench/experiments/lm/lm_swarm.hpp"

#include <filesystem>
#include <fstream>

#include <caf/all.hpp>

#include "actors/dht/node_dht.hpp"
#include "messages/errc.hpp"

namespace colony::lm {

using namespace std::chrono_literals;

lm_swarm::lm_swarm(caf::actor_system& sys, swarm_options opts)
  : sys_(sys), opts_(std::move(opts)) {
  auto& dir = opts_.work_dir;
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir + "/dht.ready"); // a stale one would name a dead peer
  bootstrap_.start({COLONY_CLI_BIN, "dht", "serve", "--port", "0", "--ready-file",
                    dir + "/dht.ready", "--log-level", "warn"},
                   dir + "/dht.log");
  auto bootstrap = bootstrap_.wait_ready(dir + "/dht.ready", 30s);
  for (int n = 0; n < opts_.nodes; ++n) {
    auto tag = dir + "/node" + std::to_string(n);
    std::ofstream{tag + ".yaml"} << node_yaml(n, bootstrap);
    std::filesystem::remove(tag + ".ready");
    nodes_.push_back(std::make_unique<bench::child>());
    nodes_.back()->start({COLONY_NODE_BIN, "--config", tag + ".yaml", "--ready-file",
                          tag + ".ready"},
                         tag + ".log");
  }
  for (int n = 0; n < opts_.nodes; ++n) {
    auto tag = dir + "/node" + std::to_string(n);
    nodes_[static_cast<size_t>(n)]->wait_ready(tag + ".ready", 90s);
  }
  dht_config dc;
  dc.client_mode = true;
  dc.initial_peers = {bootstrap};
  auto peer = dht::start_io_peer(sys_, dht::peer_config_of(dc), dc.initial_peers);
  if (!peer)
    bench::die("client DHT peer: " + describe(peer.error()));
  client_ = std::move(*peer);
}

lm_swarm::~lm_swarm() {
  dht::stop_io_peer(sys_, client_);
  for (auto& n : nodes_)
    n->stop();
  bootstrap_.stop();
}

size_t lm_swarm::expert_count() const {
  return static_cast<size_t>(opts_.layers) * opts_.rows * opts_.cols;
}

std::string lm_swarm::node_yaml(int node, const std::string& bootstrap) const {
  auto& e = opts_.expert;
  std::string y = "node: {host: 127.0.0.1, port: 0, scheduler_threads: 1, torch_threads: 1, "
                  "compute_slots: 1}\nlog: {level: warn}\n"
                  "dht: {port: 0, initial_peers: [" + bootstrap + "], expiration_s: 300}\n"
                  "experts:\n";
  // One group per expert: a group's experts would share module.seed (and
  // start identical).
  for (int l = 0; l < opts_.layers; ++l)
    for (uint32_t r = 0; r < opts_.rows; ++r) {
      if (static_cast<int>(r) % opts_.nodes != node)
        continue;
      for (uint32_t c = 0; c < opts_.cols; ++c) {
        auto uid = prefix(l) + "." + std::to_string(r) + "." + std::to_string(c);
        auto seed = 1000 * (l + 1) + 10 * static_cast<int>(r) + static_cast<int>(c);
        y += "  - {uid: " + uid + ", max_batch_size: " + std::to_string(opts_.max_batch_size)
             + ", module: {type: transformer, d_model: " + std::to_string(e.d_model)
             + ", heads: " + std::to_string(e.heads) + ", ff_dim: " + std::to_string(e.ff_dim)
             + ", seed: " + std::to_string(seed) + "}, optimizer: {type: adam, lr: "
             + std::to_string(opts_.expert_lr) + ", clip_grad_norm: 1.0, accumulate_rows: "
             + std::to_string(opts_.accumulate_rows) + "}}\n";
      }
    }
  return y;
}

} // namespace colony::lm
