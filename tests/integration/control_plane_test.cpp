// The control plane of a live colony-node (processes on loopback): `colony
// ctl spawn` adds experts that are declared at once and get traffic from a
// running trainer within two declaration periods; a wrong token and a bad
// spec are refused with clear errors; the published data-plane handle
// refuses the node's internal messages.
#include <gtest/gtest.h>

#include <regex>

#include <caf/io/all.hpp>

#include "tests/integration/integration_support.hpp"

using namespace colony;
using namespace colony::it;

namespace {

constexpr double declare_period_s = 3;

std::string expert_yaml(const std::string& bootstrap, const std::string& token_file) {
  return R"(node: {host: 127.0.0.1, port: 0, scheduler_threads: 2, torch_threads: 1}
log: {level: info}
dht: {port: 0, initial_peers: [)" + bootstrap + R"(], expiration_s: 9, update_period_s: 3}
control: {port: 0, token_file: )" + token_file + R"(}
experts:
  - uid: syn.0.*
    count: 2
    module: {type: ffn, input_dim: 16, hidden_dim: 32, output_dim: 16, seed: 1}
    optimizer: {type: adam, lr: 3.0e-3}
)";
}

std::string trainer_yaml(const std::string& bootstrap) {
  return R"(node: {host: 127.0.0.1, port: 0, scheduler_threads: 2}
log: {level: info}
dht: {port: 0, initial_peers: [)" + bootstrap + R"(], client_mode: true}
trainers:
  count: 1
  batch_size: 16
  steps: 100000
  seed: 3
  lr: 3.0e-3
  log_every: 10
  data: {kind: synthetic, features: 16, classes: 4, train_size: 1024, test_size: 128, seed: 9}
  model:
    - {type: linear, in: 16, out: 16}
    - {type: dmoe, prefix: syn, grid: [2, 2], dim: 16, k_best: 4, k_min: 1,
       timeout_after_k_min: 0.5, forward_timeout: 5, backward_timeout: 5}
    - {type: linear, in: 16, out: 4}
)";
}

/// "colony-node control on HOST:PORT" from a node's stdout.
std::string control_endpoint(const temp_dir& dir, const std::string& tag) {
  std::smatch m;
  auto out = read_file(dir.file(tag + ".stdout"));
  std::regex re{"control on (\\S+)"};
  return std::regex_search(out, m, re) ? m[1].str() : std::string{};
}

uint64_t forward_samples(const temp_dir& dir, const endpoint& node, const std::string& uid) {
  auto r = run_command({COLONY_CLI_BIN, "expert", "info", "--node", node.to_string(), "--uid", uid},
                       dir, 10s);
  std::smatch m;
  std::regex re{"forward_samples: (\\d+)"};
  return r.exit_code == 0 && std::regex_search(r.out, m, re) ? std::stoull(m[1].str()) : 0;
}

} // namespace

TEST(ControlPlaneTest, CtlSpawnAddsExpertsThatTrainersUseAndRefusesBadRequests) {
  temp_dir dir;
  pid_t dht_pid = -1;
  auto bootstrap = bootstrap_peer(dir, dht_pid);
  ASSERT_FALSE(bootstrap.empty()) << "the DHT bootstrap peer did not start";
  auto token = dir.file("token");
  write_file(token, "0123456789abcdef0123456789abcdef\n");
  ::chmod(token.c_str(), 0600);
  write_file(dir.file("a.yaml"), expert_yaml(bootstrap, token));
  node_process a{dir, dir.file("a.yaml"), "a"};
  ASSERT_TRUE(a.ready()) << a.error();
  auto ctl = control_endpoint(dir, "a");
  ASSERT_FALSE(ctl.empty()) << read_file(dir.file("a.stdout"));
  write_file(dir.file("t.yaml"), trainer_yaml(bootstrap));
  node_process trainer{dir, dir.file("t.yaml"), "t"};
  ASSERT_TRUE(trainer.ready()) << trainer.error();
  // The trainer is training on syn.0.*.
  auto deadline = steady::now() + 60s;
  while (forward_samples(dir, a.where(), "syn.0.0") == 0 && steady::now() < deadline)
    std::this_thread::sleep_for(100ms);
  ASSERT_GT(forward_samples(dir, a.where(), "syn.0.0"), 0u) << trainer.log();

  // A wrong token is refused and logged; the node keeps serving.
  auto wrong = dir.file("wrong");
  write_file(wrong, "ffffffffffffffffffffffffffffffff\n");
  ::chmod(wrong.c_str(), 0600);
  auto refused = run_command({COLONY_CLI_BIN, "ctl", "spawn", "--node", ctl, "--prefix", "syn.1",
                              "--count", "2", "--token-file", wrong},
                             dir, 30s);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("unauthorized"), std::string::npos) << refused.err;
  // A bad spec is refused naming the key.
  write_file(dir.file("bad.yaml"), "module: {type: ffn, input_dim: 16, output_dim: 16}\n"
                                   "optimizer: {lr: fast}\n");
  auto bad = run_command({COLONY_CLI_BIN, "ctl", "spawn", "--node", ctl, "--prefix", "syn.1",
                          "--count", "2", "--spec", dir.file("bad.yaml"), "--token-file", token},
                         dir, 30s);
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("optimizer.lr"), std::string::npos) << bad.err;

  // Two experts under syn.1 (copying syn.0's spec): registered, declared at
  // once, and used by the running trainer within two declaration periods.
  auto t0 = steady::now();
  auto spawned = run_command({COLONY_CLI_BIN, "ctl", "spawn", "--node", ctl, "--prefix", "syn.1",
                              "--count", "2", "--token-file", token},
                             dir, 60s);
  ASSERT_EQ(spawned.exit_code, 0) << spawned.err;
  EXPECT_EQ(lines_of(spawned.out), (std::vector<std::string>{"syn.1.0", "syn.1.1"}));
  deadline = steady::now() + 30s;
  while ((forward_samples(dir, a.where(), "syn.1.0") == 0
          || forward_samples(dir, a.where(), "syn.1.1") == 0)
         && steady::now() < deadline)
    std::this_thread::sleep_for(100ms);
  auto took_s = ms_since(t0) / 1000;
  EXPECT_GT(forward_samples(dir, a.where(), "syn.1.0"), 0u) << trainer.log();
  EXPECT_GT(forward_samples(dir, a.where(), "syn.1.1"), 0u) << trainer.log();
  // Two periods, plus the trainer's own prefix cache and a loaded machine.
  EXPECT_LT(took_s, 2 * declare_period_s + 6) << "new experts got traffic after " << took_s << " s";
  std::printf("[ measure  ] ctl spawn -> first trainer traffic on both: %.1f s\n", took_s);

  // The tree shows them; ctl stop removes one.
  auto status = run_command({COLONY_CLI_BIN, "ctl", "status", "--node", ctl, "--token-file", token},
                            dir, 30s);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("syn.1.1"), std::string::npos) << status.out;
  auto stopped = run_command({COLONY_CLI_BIN, "ctl", "stop", "--node", ctl, "--uid", "syn.1.1",
                              "--token-file", token},
                             dir, 60s);
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  auto listed = run_command({COLONY_CLI_BIN, "expert", "list", "--node", a.where().to_string()},
                            dir, 10s);
  EXPECT_EQ(listed.out.find("syn.1.1"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("syn.1.0"), std::string::npos) << listed.out;
  ::kill(dht_pid, SIGKILL);
  wait_exit(dht_pid, 10s);
}

TEST(ControlPlaneTest, ThePublishedExpertServerRefusesInternalMessages) {
  temp_dir dir;
  write_file(dir.file("n.yaml"), ffn_node_yaml(dir.file("ckpt")));
  node_process n{dir, dir.file("n.yaml"), "n"};
  ASSERT_TRUE(n.ready()) << n.error();
  system_config cfg{test_system_options()};
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  // Connect through the middleman and take the handle untyped, so that
  // messages outside the published interface can be sent at all.
  std::optional<caf::actor> h;
  self->request(sys.middleman().actor_handle(), 10s, caf::connect_atom::value, n.where().host,
                n.where().port)
    .receive([&](const caf::node_id&, caf::strong_actor_ptr& ptr,
                 std::set<std::string>&) { h = caf::actor_cast<caf::actor>(std::move(ptr)); },
             [&](caf::error& err) { FAIL() << sys.render(err); });
  ASSERT_TRUE(h && *h);
  // Checkpointing, the dispatcher's and the pool's messages are not part
  // of the published interface: each request is refused.
  auto refused = [&](auto... xs) {
    bool unexpected = false;
    self->request(*h, 10s, xs...)
      .receive([](uint64_t) {},
               [&](caf::error& err) { unexpected = err == caf::sec::unexpected_message; });
    return unexpected;
  };
  EXPECT_TRUE(refused(save_atom::value));
  EXPECT_TRUE(refused(grant_atom::value, uint8_t{0}));
  EXPECT_TRUE(refused(computed_atom::value));
  EXPECT_TRUE(refused(tick_atom::value));
  // While the public interface answers.
  bool pong = false;
  self->request(*h, 10s, ping_atom::value).receive([&](uint64_t n) { pong = n == 4; },
                                                    [](caf::error&) {});
  EXPECT_TRUE(pong);
  EXPECT_FALSE(std::filesystem::exists(dir.file("ckpt/ffn.0.0.pt")));
}
