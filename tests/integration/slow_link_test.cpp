// Links with seconds of latency: colony-node behind a delaying TCP relay on
// loopback. CAF 0.17.6's heartbeat cut every such connection after 0.5 s;
// Colony turns it off and finds hung nodes with its own pings (actors/
// client/liveness.hpp), which must still notice a SIGSTOPped node.
#include <csignal>

#include "actors/dht/client.hpp"
#include "actors/dht/expert_directory.hpp"
#include "tests/integration/delay_relay.hpp"
#include "tests/integration/integration_support.hpp"

namespace colony::it {
namespace {

constexpr auto one_way = std::chrono::milliseconds{1000};

/// A node with 4 ffn experts and its own DHT (first peer), declared.
std::string slow_node_yaml() {
  return ffn_node_yaml() + R"(dht:
  port: 0
  expiration_s: 600
)";
}

liveness_config test_liveness() {
  liveness_config l;
  l.interval_ms = 500;
  l.timeout_ms = 3000;
  l.first_reply_ms = 10000;
  return l;
}

class SlowLinkTest : public ::testing::Test {
protected:
  void SetUp() override {
    write_file(dir_.file("node.yaml"), slow_node_yaml());
    node_ = std::make_unique<node_process>(dir_, dir_.file("node.yaml"), "slow");
    ASSERT_TRUE(node_->ready()) << node_->error();
    auto dht_ep = wait_dht_endpoint();
    ASSERT_TRUE(dht_ep) << "no dht endpoint in " << node_->log();
    dht_port_ = dht_ep->port;
  }

  /// colony-node prints "colony-node dht on HOST:PORT" on stdout.
  std::optional<endpoint> wait_dht_endpoint() {
    auto deadline = steady::now() + 20s;
    while (steady::now() < deadline) {
      for (auto& line : lines_of(read_file(dir_.file("slow.stdout")))) {
        auto at = line.find("colony-node dht on ");
        if (at != std::string::npos)
          if (auto ep = parse_endpoint(line.substr(at + 19)))
            return *ep;
      }
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }

  temp_dir dir_;
  std::unique_ptr<node_process> node_;
  uint16_t dht_port_ = 0;
  node_config cfg_ = parse_or_throw(ffn_node_yaml());
};

/// What one client saw over the slow link.
struct round_result {
  bool forward_ok = false, forward_matches = false, backward_ok = false, dht_ok = false;
  bool marked_lost = false;
  std::string error;
};

TEST_F(SlowLinkTest, TwentyClientsConnectAndWorkAcrossOneSecondOneWayDelay) {
  delay_relay experts{node_->where().port, one_way};
  delay_relay dht{dht_port_, one_way};
  endpoint via{"127.0.0.1", experts.port()};
  endpoint dht_via{"127.0.0.1", dht.port()};
  auto local = local_module(cfg_);
  auto x = seeded_randn({3, 8}, 5);
  auto want = local_forward(*local, x);
  constexpr int clients = 20;
  std::vector<round_result> results(clients);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i)
    threads.emplace_back([&, i] {
      auto& r = results[i];
      // Each client is its own actor system: its own connection through
      // the relay, and the default options (CAF heartbeat off).
      system_options opts;
      opts.scheduler_threads = 1;
      system_config cfg{opts};
      caf::actor_system sys{cfg};
      node_connections conns{sys};
      conns.enable_liveness(test_liveness());
      // Forward on ffn.0.0 only: backward steps an expert's parameters.
      remote_expert fwd{conns, via, "ffn.0.0", 20s};
      auto out = fwd.forward(blobs({x}));
      r.forward_ok = static_cast<bool>(out);
      if (!out) {
        r.error = describe(out.error());
        return;
      }
      r.forward_matches = near(to_tensor((*out)[0]), want, 1e-6);
      remote_expert bwd{conns, via, "ffn.0." + std::to_string(1 + i % 3), 20s};
      auto grads = bwd.backward(blobs({x}), blobs({torch::ones({3, 8})}));
      r.backward_ok = grads && grads->size() == 1;
      if (!grads)
        r.error = describe(grads.error());
      auto peer = net::connect_blocking<dht::peer_front_actor>(sys, dht_via, 20s, "dht peer");
      if (!peer) {
        r.error = describe(peer.error());
        return;
      }
      dht::client c{sys, *peer, 20s};
      auto found = dht::get_experts(c, {"ffn.0.2"});
      r.dht_ok = found && found->size() == 1 && (*found)[0].has_value();
      if (!found)
        r.error = describe(found.error());
      r.marked_lost = conns.lost(via);
    });
  for (auto& t : threads)
    t.join();
  int ok = 0;
  for (int i = 0; i < clients; ++i) {
    auto& r = results[i];
    EXPECT_TRUE(r.forward_ok && r.forward_matches && r.backward_ok && r.dht_ok)
      << "client " << i << ": forward " << r.forward_ok << " matches " << r.forward_matches
      << " backward " << r.backward_ok << " dht " << r.dht_ok << " error: " << r.error;
    EXPECT_FALSE(r.marked_lost) << "client " << i << ": liveness called a slow node hung";
    ok += r.forward_ok && r.forward_matches && r.backward_ok && r.dht_ok;
  }
  EXPECT_EQ(ok, clients);
  EXPECT_GE(experts.connections(), size_t{clients});
}

TEST_F(SlowLinkTest, HungNodeBehindTheRelayIsDetected) {
  delay_relay experts{node_->where().port, one_way};
  endpoint via{"127.0.0.1", experts.port()};
  client c;
  c.conns().enable_liveness(test_liveness());
  auto remote = c.expert(via, "ffn.0.3", 20s);
  ASSERT_TRUE(ok(remote.info()));
  // Healthy for longer than the silence timeout: no false alarm.
  auto healthy_until = steady::now() + 4s;
  while (steady::now() < healthy_until) {
    ASSERT_TRUE(ok(remote.info()));
    ASSERT_FALSE(c.conns().lost(via));
  }
  ASSERT_EQ(kill(node_->pid(), SIGSTOP), 0);
  auto stopped = steady::now();
  auto deadline = stopped + 15s;
  while (!c.conns().lost(via) && steady::now() < deadline)
    std::this_thread::sleep_for(20ms);
  auto detected_ms = ms_since(stopped);
  kill(node_->pid(), SIGCONT);
  ASSERT_TRUE(c.conns().lost(via)) << "a SIGSTOPped node was not noticed in 15 s";
  // Answers already in the relay arrive up to one_way after the stop; then
  // timeout_ms of silence and at most one probe interval.
  EXPECT_GT(detected_ms, 2500.0);
  EXPECT_LT(detected_ms, 1000.0 + 3000.0 + 500.0 + 2000.0);
  std::cout << "hung node detected after " << detected_ms << " ms" << std::endl;
}

} // namespace
} // namespace colony::it
