// Training across processes: a DHT bootstrap peer (`colony dht serve`), two
// expert nodes and one trainer node with two trainers, all colony
// processes on loopback, learn a synthetic teacher task; the trainers'
// progress lines must show the loss falling by a stated factor.
#include <gtest/gtest.h>

#include <regex>

#include "tests/integration/integration_support.hpp"

using namespace colony;
using namespace colony::it;

namespace {

std::string expert_yaml(int row, const std::string& bootstrap) {
  return R"(node: {host: 127.0.0.1, port: 0, scheduler_threads: 1, torch_threads: 1}
log: {level: info}
dht: {port: 0, initial_peers: [)" + bootstrap + R"(], expiration_s: 30, update_period_s: 5}
experts:
  - uid: syn.)" + std::to_string(row) + R"(.*
    count: 2
    module: {type: ffn, input_dim: 16, hidden_dim: 32, output_dim: 16, seed: )"
         + std::to_string(row + 1) + R"(}
    optimizer: {type: adam, lr: 3.0e-3}
)";
}

std::string trainer_yaml(const std::string& bootstrap, const std::string& ckpt) {
  return R"(node: {host: 127.0.0.1, port: 0, scheduler_threads: 2}
log: {level: info}
dht: {port: 0, initial_peers: [)" + bootstrap + R"(], client_mode: true}
trainers:
  count: 2
  batch_size: 32
  steps: 200
  seed: 3
  lr: 3.0e-3
  log_every: 20
  checkpoint_dir: )" + ckpt + R"(
  data: {kind: synthetic, features: 16, classes: 4, train_size: 2048, test_size: 512, seed: 9}
  model:
    - {type: linear, in: 16, out: 16}
    - {type: relu}
    - {type: dmoe, prefix: syn, grid: [2, 2], dim: 16, k_best: 2, k_min: 1,
       timeout_after_k_min: 0.5, forward_timeout: 10, backward_timeout: 10}
    - {type: layernorm, dim: 16}
    - {type: linear, in: 16, out: 4}
)";
}

/// The loss of every progress line of trainer `t` in `log`, in order.
std::vector<double> losses(const std::string& log, int t) {
  std::vector<double> result;
  std::regex re{"trainer=" + std::to_string(t) + " step=\\d+ loss=([0-9.]+)"};
  for (std::sregex_iterator i{log.begin(), log.end(), re}, end; i != end; ++i)
    result.push_back(std::stod((*i)[1]));
  return result;
}

} // namespace

TEST(TrainerProcessTest, TwoTrainersAndTwoExpertNodesDriveTheLossDown) {
  temp_dir dir;
  pid_t dht_pid = -1;
  auto bootstrap = bootstrap_peer(dir, dht_pid);
  ASSERT_FALSE(bootstrap.empty()) << "the DHT bootstrap peer did not start";
  write_file(dir.file("a.yaml"), expert_yaml(0, bootstrap));
  write_file(dir.file("b.yaml"), expert_yaml(1, bootstrap));
  node_process a{dir, dir.file("a.yaml"), "a"};
  node_process b{dir, dir.file("b.yaml"), "b"};
  ASSERT_TRUE(a.ready()) << a.error();
  ASSERT_TRUE(b.ready()) << b.error();
  write_file(dir.file("t.yaml"), trainer_yaml(bootstrap, dir.file("ckpt")));
  node_process trainer{dir, dir.file("t.yaml"), "t"};
  ASSERT_TRUE(trainer.ready()) << trainer.error();
  auto status = trainer.wait(240s); // 2 x 200 small steps; generous for a loaded machine
  ::kill(dht_pid, SIGKILL);
  wait_exit(dht_pid, 10s);
  ASSERT_TRUE(status.has_value()) << "trainer node still running: " << trainer.log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << trainer.log();
  auto log = read_file(dir.file("t.log"));
  for (int t = 0; t < 2; ++t) {
    auto l = losses(log, t);
    ASSERT_EQ(l.size(), 10u) << log.substr(0, 4000);
    // Stated factor: the last window's mean loss is at most 1/3 of the first.
    EXPECT_LT(l.back(), l.front() / 3) << "trainer " << t << ": " << l.front() << " -> "
                                       << l.back();
  }
  auto out = read_file(dir.file("t.stdout"));
  EXPECT_NE(out.find("failed_steps=0"), std::string::npos) << out;
  // One model: both trainers' 200 steps each updated it (accumulate 1).
  EXPECT_NE(out.find("model_version=400 "), std::string::npos) << out;
  // The model's checkpoint (local layers, gates, optimizer) was written atomically.
  EXPECT_TRUE(std::filesystem::exists(dir.file("ckpt/model.pt")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("ckpt/model.pt.tmp")));
}
