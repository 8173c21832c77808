// colony-node as a separate OS process on 127.0.0.1, driven through
// remote_expert: numbers against local modules built from the same config,
// failure when the node is killed, checkpoint on SIGTERM and restore, and a
// non-zero exit when a checkpoint dir is unusable at start or at shutdown.
#include "tests/integration/integration_support.hpp"

namespace colony::it {
namespace {

class NodeProcessTest : public ::testing::Test {
protected:
  /// One node shared by the read-mostly tests; each test uses its own uid.
  static void SetUpTestSuite() {
    dir_ = std::make_unique<temp_dir>();
    write_file(dir_->file("node.yaml"), ffn_node_yaml());
    node_ = std::make_unique<node_process>(*dir_, dir_->file("node.yaml"), "shared");
    client_ = std::make_unique<client>();
  }

  static void TearDownTestSuite() {
    client_.reset();
    node_.reset();
    dir_.reset();
  }

  void require_shared_node() {
    ASSERT_TRUE(node_->ready()) << node_->error();
  }

  static inline std::unique_ptr<temp_dir> dir_;
  static inline std::unique_ptr<node_process> node_;
  static inline std::unique_ptr<client> client_;

  node_config cfg_ = parse_or_throw(ffn_node_yaml());
};

TEST_F(NodeProcessTest, ForwardMatchesLocalModuleWithSameSeed) {
  ASSERT_NO_FATAL_FAILURE(require_shared_node());
  auto local = local_module(cfg_);
  auto remote = client_->expert(node_->where(), "ffn.0.0");
  auto info = remote.info();
  ASSERT_TRUE(ok(info));
  EXPECT_EQ(info->module_type, "ffn");
  int64_t local_params = 0;
  for (auto& p : local->parameters())
    local_params += p.numel();
  EXPECT_EQ(info->num_parameters, static_cast<uint64_t>(local_params));
  for (uint64_t seed : {11u, 12u}) {
    auto x = seeded_randn({5, 8}, seed);
    auto out = remote.forward(blobs({x}));
    ASSERT_TRUE(ok(out));
    ASSERT_EQ(out->size(), 1u);
    EXPECT_TRUE(near(to_tensor((*out)[0]), local_forward(*local, x), 1e-6));
  }
}

TEST_F(NodeProcessTest, BackwardGradInputsMatchLocalAutograd) {
  ASSERT_NO_FATAL_FAILURE(require_shared_node());
  auto local = local_module(cfg_);
  auto remote = client_->expert(node_->where(), "ffn.0.1");
  auto x = seeded_randn({4, 8}, 21);
  auto g = seeded_randn({4, 8}, 22);
  auto grads = remote.backward(blobs({x}), blobs({g}));
  ASSERT_TRUE(ok(grads));
  ASSERT_EQ(grads->size(), 1u);
  auto leaf = x.clone().requires_grad_(true);
  torch::autograd::backward(local->forward({leaf}), {g});
  EXPECT_TRUE(near(to_tensor((*grads)[0]), leaf.grad(), 1e-6));
}

TEST_F(NodeProcessTest, BackwardUpdatesParametersLikeOneLocalSgdStep) {
  ASSERT_NO_FATAL_FAILURE(require_shared_node());
  auto local = local_module(cfg_);
  torch::optim::SGD sgd{local->parameters(), torch::optim::SGDOptions{0.1}};
  auto remote = client_->expert(node_->where(), "ffn.0.2");
  auto probe = seeded_randn({3, 8}, 31);
  auto before = local_forward(*local, probe);
  auto x = seeded_randn({6, 8}, 32);
  auto g = seeded_randn({6, 8}, 33);
  ASSERT_TRUE(ok(remote.backward(blobs({x}), blobs({g}))));
  torch::autograd::backward(local->forward({x}), {g});
  sgd.step();
  auto after_local = local_forward(*local, probe);
  ASSERT_GT(max_abs_diff(before, after_local), 1e-3) << "the SGD step changed nothing";
  auto after_remote = remote.forward(blobs({probe}));
  ASSERT_TRUE(ok(after_remote));
  EXPECT_TRUE(near(to_tensor((*after_remote)[0]), after_local, 1e-6));
  auto info = remote.info();
  ASSERT_TRUE(ok(info));
  EXPECT_EQ(info->updates, 1u);
  EXPECT_EQ(info->backward_batches, 1u);
  EXPECT_EQ(info->backward_samples, 6u);
}

// Its own suite, so its own process: run after NodeProcessTest's shared
// node and client (a second actor system in the same process), the kill
// went unnoticed in 2 of 4 runs and the call timed out instead (alone, 4
// of 4 passed). The cause is not known yet; a node's processes hold one
// actor system each.
TEST(NodeKillTest, KilledNodeFailsNextCallWithinTimeoutAsUnreachable) {
  temp_dir dir;
  write_file(dir.file("node.yaml"), ffn_node_yaml());
  node_process node{dir, dir.file("node.yaml"), "victim"};
  ASSERT_TRUE(node.ready()) << node.error();
  client c;
  auto timeout = 2s;
  auto remote = c.expert(node.where(), "ffn.0.0", timeout);
  auto x = seeded_randn({2, 8}, 41);
  ASSERT_TRUE(ok(remote.forward(blobs({x}))));
  node.kill_now();
  auto start = steady::now();
  auto out = remote.forward(blobs({x}));
  auto took = ms_since(start);
  EXPECT_TRUE(fails_with(out, errc::unreachable));
  if (!out) {
    EXPECT_NE(describe(out.error()).find("unreachable"), std::string::npos)
      << describe(out.error());
  }
  EXPECT_LT(took, 2000 + 1000);
  // The connection was dropped: the next call tries to reconnect and is
  // refused, again as unreachable and within the timeout.
  start = steady::now();
  EXPECT_TRUE(fails_with(remote.forward(blobs({x})), errc::unreachable));
  EXPECT_LT(ms_since(start), 2000 + 1000);
}

TEST_F(NodeProcessTest, SigtermCheckpointsAndRestartRestoresUpdatesAndOutputs) {
  temp_dir dir;
  auto ckpt = dir.file("ckpt");
  write_file(dir.file("node.yaml"), ffn_node_yaml(ckpt));
  auto probe = seeded_randn({5, 8}, 51);
  std::vector<torch::Tensor> outputs_before;
  uint64_t updates_before = 0;
  {
    node_process node{dir, dir.file("node.yaml"), "first"};
    ASSERT_TRUE(node.ready()) << node.error();
    client c;
    for (auto uid : {"ffn.0.0", "ffn.0.3"}) {
      auto remote = c.expert(node.where(), uid);
      for (uint64_t i = 0; i < 3; ++i) {
        auto x = seeded_randn({4, 8}, 60 + i);
        auto g = seeded_randn({4, 8}, 70 + i);
        ASSERT_TRUE(ok(remote.backward(blobs({x}), blobs({g}))));
      }
      auto out = remote.forward(blobs({probe}));
      ASSERT_TRUE(ok(out));
      outputs_before.push_back(to_tensor((*out)[0]));
    }
    auto info = c.expert(node.where(), "ffn.0.0").info();
    ASSERT_TRUE(ok(info));
    updates_before = info->updates;
    ASSERT_EQ(updates_before, 3u);
    auto status = node.stop(SIGTERM, 10s);
    ASSERT_TRUE(status.has_value()) << "no exit within 10 s after SIGTERM";
    ASSERT_TRUE(WIFEXITED(*status)) << "status " << *status;
    EXPECT_EQ(WEXITSTATUS(*status), 0) << node.log();
  }
  for (auto uid : {"ffn.0.0", "ffn.0.1", "ffn.0.2", "ffn.0.3"})
    EXPECT_TRUE(std::filesystem::exists(ckpt + "/" + uid + ".pt")) << uid;
  node_process node{dir, dir.file("node.yaml"), "second"};
  ASSERT_TRUE(node.ready()) << node.error();
  client c;
  size_t k = 0;
  for (auto uid : {"ffn.0.0", "ffn.0.3"}) {
    auto remote = c.expert(node.where(), uid);
    auto info = remote.info();
    ASSERT_TRUE(ok(info));
    EXPECT_EQ(info->updates, updates_before) << uid;
    auto out = remote.forward(blobs({probe}));
    ASSERT_TRUE(ok(out));
    EXPECT_TRUE(torch::equal(to_tensor((*out)[0]), outputs_before[k++])) << uid;
  }
  // An expert without updates restores its (untouched) seeded parameters.
  auto untouched = c.expert(node.where(), "ffn.0.1").forward(blobs({probe}));
  ASSERT_TRUE(ok(untouched));
  EXPECT_TRUE(near(to_tensor((*untouched)[0]), local_forward(*local_module(cfg_), probe), 1e-6));
}

TEST_F(NodeProcessTest, SigtermAfterUpdatesExitsPromptlyWithCheckpointsEveryTime) {
  // A clean shutdown takes well under a second; repeat it a few times since
  // a shutdown that hangs (node never exits) may not show up on every run.
  constexpr int rounds = 5;
  for (int round = 0; round < rounds; ++round) {
    temp_dir dir;
    auto ckpt = dir.file("ckpt");
    write_file(dir.file("node.yaml"), ffn_node_yaml(ckpt));
    node_process node{dir, dir.file("node.yaml"), "round" + std::to_string(round)};
    ASSERT_TRUE(node.ready()) << node.error();
    {
      client c;
      auto remote = c.expert(node.where(), "ffn.0.1");
      auto x = seeded_randn({2, 8}, 80 + round);
      ASSERT_TRUE(ok(remote.backward(blobs({x}), blobs({x}))));
    }
    auto start = steady::now();
    auto status = node.stop(SIGTERM, 10s);
    ASSERT_TRUE(status.has_value()) << "round " << round << ": no exit within 10 s after SIGTERM";
    ASSERT_TRUE(WIFEXITED(*status)) << "round " << round << ": status " << *status;
    EXPECT_EQ(WEXITSTATUS(*status), 0) << node.log();
    EXPECT_LT(ms_since(start), 5000) << "round " << round;
    EXPECT_TRUE(std::filesystem::exists(ckpt + "/ffn.0.1.pt")) << "round " << round;
  }
}

TEST_F(NodeProcessTest, CheckpointDirUnderARegularFileFailsStartPromptly) {
  temp_dir dir;
  write_file(dir.file("plain"), "not a directory");
  auto ckpt = dir.file("plain") + "/ckpt";
  write_file(dir.file("node.yaml"), ffn_node_yaml(ckpt));
  auto res = run_command({COLONY_NODE_BIN, "--config", dir.file("node.yaml")}, dir, 20s);
  ASSERT_FALSE(res.timed_out) << "colony-node served with an unusable checkpoint dir";
  EXPECT_EQ(res.exit_code, 1) << res.err;
  EXPECT_NE(res.err.find("checkpoint.dir '" + ckpt + "': cannot create: Not a directory"),
            std::string::npos)
    << res.err;
  EXPECT_EQ(res.out.find("listening"), std::string::npos) << res.out;
  EXPECT_LT(res.took_ms, 10000);
}

TEST_F(NodeProcessTest, PartlyFailedShutdownCheckpointExitsNonZero) {
  temp_dir dir;
  auto ckpt = dir.file("ckpt");
  auto other = dir.file("other");
  write_file(dir.file("node.yaml"),
             ffn_node_yaml(ckpt, "  - uid: ffn.1.0\n    module: {type: ffn, input_dim: 8}\n"
                                 "    checkpoint: {dir: " + other + "}\n"));
  node_process node{dir, dir.file("node.yaml"), "doomed"};
  ASSERT_TRUE(node.ready()) << node.error();
  // Tests run as root, where a read-only mode would not stop the writes:
  // put a regular file where one group's checkpoint dir was.
  std::filesystem::rename(other, dir.file("other.away"));
  write_file(other, "in the way");
  auto status = node.stop(SIGTERM, 10s);
  ASSERT_TRUE(status.has_value()) << "no exit within 10 s after SIGTERM";
  ASSERT_TRUE(WIFEXITED(*status)) << "status " << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 1) << node.log();
  EXPECT_NE(node.log().find("shutdown checkpoint: 1 of 5 experts failed to save"),
            std::string::npos)
    << node.log();
  EXPECT_NE(node.log().find("expert=ffn.1.0 event=checkpoint error="), std::string::npos)
    << node.log();
  for (auto uid : {"ffn.0.0", "ffn.0.1", "ffn.0.2", "ffn.0.3"})
    EXPECT_TRUE(std::filesystem::exists(ckpt + "/" + uid + ".pt")) << uid;
  EXPECT_TRUE(std::filesystem::is_empty(dir.file("other.away")));
}

} // namespace
} // namespace colony::it
