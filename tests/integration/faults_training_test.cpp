// Training through a bad network set up from the config alone: the trainer
// node's faults: section delays every outgoing expert call and DHT message
// (exponential, mean 100 ms) and loses 10% of its expert requests, and the
// expert nodes crash a random expert now and then (faults.crash_rate_per_min),
// which their supervisors restore. Two trainers must still lower their loss.
#include <gtest/gtest.h>

#include <regex>

#include "tests/integration/integration_support.hpp"

using namespace colony;
using namespace colony::it;

namespace {

std::string expert_yaml(int row, const std::string& bootstrap, const std::string& ckpt) {
  return R"(node: {host: 127.0.0.1, port: 0, scheduler_threads: 1, torch_threads: 1}
log: {level: info}
dht: {port: 0, initial_peers: [)" + bootstrap + R"(], expiration_s: 30, update_period_s: 5}
faults: {crash_rate_per_min: 6, seed: )" + std::to_string(row + 11) + R"(}
experts:
  - uid: syn.)" + std::to_string(row) + R"(.*
    count: 2
    module: {type: ffn, input_dim: 16, hidden_dim: 32, output_dim: 16, seed: )"
         + std::to_string(row + 1) + R"(}
    optimizer: {type: adam, lr: 3.0e-3}
    checkpoint: {dir: )" + ckpt + R"(, every_updates: 10}
)";
}

std::string trainer_yaml(const std::string& bootstrap) {
  return R"(node: {host: 127.0.0.1, port: 0, scheduler_threads: 2}
log: {level: info}
dht: {port: 0, initial_peers: [)" + bootstrap + R"(], client_mode: true}
faults:
  latency: {distribution: exponential, mean_ms: 100}
  fail_fraction: 0.1
  seed: 5
trainers:
  count: 2
  batch_size: 32
  steps: 100
  seed: 3
  lr: 3.0e-3
  log_every: 10
  data: {kind: synthetic, features: 16, classes: 4, train_size: 2048, test_size: 512, seed: 9}
  model:
    - {type: linear, in: 16, out: 16}
    - {type: relu}
    - {type: dmoe, prefix: syn, grid: [2, 2], dim: 16, k_best: 4, k_min: 1,
       timeout_after_k_min: 0.3, forward_timeout: 3, backward_timeout: 3}
    - {type: layernorm, dim: 16}
    - {type: linear, in: 16, out: 4}
)";
}

std::vector<double> losses(const std::string& log, int t) {
  std::vector<double> result;
  std::regex re{"trainer=" + std::to_string(t) + " step=\\d+ loss=([0-9.]+)"};
  for (std::sregex_iterator i{log.begin(), log.end(), re}, end; i != end; ++i)
    result.push_back(std::stod((*i)[1]));
  return result;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto i = text.find(what); i != std::string::npos; i = text.find(what, i + 1))
    ++n;
  return n;
}

} // namespace

TEST(FaultsTrainingTest, TwoTrainersLowerTheLossWithLatencyFailuresAndCrashesFromConfig) {
  temp_dir dir;
  pid_t dht_pid = -1;
  auto bootstrap = bootstrap_peer(dir, dht_pid);
  ASSERT_FALSE(bootstrap.empty()) << "the DHT bootstrap peer did not start";
  write_file(dir.file("a.yaml"), expert_yaml(0, bootstrap, dir.file("ckpt-a")));
  write_file(dir.file("b.yaml"), expert_yaml(1, bootstrap, dir.file("ckpt-b")));
  node_process a{dir, dir.file("a.yaml"), "a"};
  node_process b{dir, dir.file("b.yaml"), "b"};
  ASSERT_TRUE(a.ready()) << a.error();
  ASSERT_TRUE(b.ready()) << b.error();
  write_file(dir.file("t.yaml"), trainer_yaml(bootstrap));
  node_process trainer{dir, dir.file("t.yaml"), "t"};
  ASSERT_TRUE(trainer.ready()) << trainer.error();
  auto status = trainer.wait(300s);
  ASSERT_TRUE(status.has_value()) << "trainer node still running: " << trainer.log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << trainer.log();
  auto log = read_file(dir.file("t.log"));
  for (int t = 0; t < 2; ++t) {
    auto l = losses(log, t);
    ASSERT_EQ(l.size(), 10u) << log.substr(0, 4000);
    // Stated factor: the last window's mean loss is at most 1/2 of the first.
    EXPECT_LT(l.back(), l.front() / 2) << "trainer " << t << ": " << l.front() << " -> "
                                       << l.back();
  }
  // The faults really happened: crashes were injected and each restored.
  auto experts_log = read_file(dir.file("a.log")) + read_file(dir.file("b.log"));
  auto crashes = count_of(experts_log, "event=crash_injected");
  EXPECT_GT(crashes, 0u) << experts_log.substr(0, 3000);
  EXPECT_GE(count_of(experts_log, "event=child_restarted"), crashes);
  std::printf("[ measure  ] injected crashes: %zu, trainer run: %s\n", crashes,
              lines_of(read_file(dir.file("t.stdout"))).back().c_str());
  ::kill(dht_pid, SIGKILL);
  wait_exit(dht_pid, 10s);
}
