// Batching under concurrency, over loopback: many clients' requests to one
// expert are computed in shared batches and every client gets exactly its
// own rows back; a request over max_batch_size is split and still answered.
#include <future>

#include "tests/integration/integration_support.hpp"

namespace colony::it {
namespace {

/// One compute slot, so that a slow nop_delay batch ("blocker") holds the
/// node while the ffn requests queue up behind it: they must then be
/// batched, whatever the thread timing.
constexpr const char* batching_yaml = R"(node:
  host: 127.0.0.1
  port: 0
  scheduler_threads: 2
  torch_threads: 1
  compute_slots: 1
log:
  level: warn
experts:
  - uid: ffn.0.0
    max_batch_size: 64
    module:
      type: ffn
      seed: 17
      input_dim: 8
      hidden_dim: 16
      output_dim: 8
    optimizer:
      type: sgd
      lr: 0.1
  - uid: nop.0.0
    max_batch_size: 64
    module:
      type: nop_delay
      dim: 8
      delay_ms: 400
)";

class BatchingTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    cfg_ = std::make_unique<node_config>(parse_or_throw(batching_yaml));
    node_ = std::make_unique<in_process_node>(*cfg_);
    client_ = std::make_unique<client>();
  }

  static void TearDownTestSuite() {
    client_.reset();
    node_.reset();
    cfg_.reset();
  }

  remote_expert expert(const std::string& uid, caf::timespan timeout = std::chrono::seconds{10}) {
    return client_->expert(node_->where(), uid, timeout);
  }

  static inline std::unique_ptr<node_config> cfg_;
  static inline std::unique_ptr<in_process_node> node_;
  static inline std::unique_ptr<client> client_;
};

TEST_F(BatchingTest, ConcurrentClientsGetTheirOwnRowsFromSharedBatches) {
  constexpr size_t clients = 32;
  auto local = local_module(*cfg_, 0);
  auto before = expert("ffn.0.0").info(); // also opens the connection
  ASSERT_TRUE(ok(before));
  // Occupy the only compute slot for delay_ms.
  auto blocker = std::async(std::launch::async, [this] {
    return expert("nop.0.0").forward(blobs({seeded_randn({1, 8}, 5)}));
  });
  std::this_thread::sleep_for(50ms);
  std::promise<void> go;
  auto gate = go.get_future().share();
  std::vector<torch::Tensor> inputs;
  std::vector<caf::expected<std::vector<tensor_blob>>> answers(clients, caf::error{});
  std::vector<std::thread> threads;
  int64_t total_rows = 0;
  for (size_t i = 0; i < clients; ++i) {
    auto rows = static_cast<int64_t>(1 + i % 3);
    total_rows += rows;
    inputs.push_back(seeded_randn({rows, 8}, 1000 + i));
    threads.emplace_back([&, i, x = inputs.back()] {
      auto remote = expert("ffn.0.0");
      auto request = blobs({x});
      gate.wait();
      answers[i] = remote.forward(std::move(request));
    });
  }
  auto start = steady::now();
  go.set_value();
  for (auto& t : threads)
    t.join();
  auto took = ms_since(start);
  ASSERT_EQ(blocker.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(ok(blocker.get()));
  for (size_t i = 0; i < clients; ++i) {
    ASSERT_TRUE(ok(answers[i])) << "client " << i;
    ASSERT_EQ(answers[i]->size(), 1u);
    EXPECT_TRUE(near(to_tensor((*answers[i])[0]), local_forward(*local, inputs[i]), 1e-6))
      << "client " << i;
  }
  auto after = expert("ffn.0.0").info();
  ASSERT_TRUE(ok(after));
  auto batches = after->forward_batches - before->forward_batches;
  EXPECT_LT(batches, clients) << "requests were not batched (" << took << " ms)";
  EXPECT_GE(batches, 1u);
  EXPECT_EQ(after->forward_samples - before->forward_samples,
            static_cast<uint64_t>(total_rows));
}

TEST_F(BatchingTest, RequestLargerThanMaxBatchSizeIsSplitAndAnsweredWhole) {
  auto local = local_module(*cfg_, 0);
  auto before = expert("ffn.0.0").info();
  ASSERT_TRUE(ok(before));
  ASSERT_EQ(before->max_batch_size, 64u);
  auto x = seeded_randn({3 * 64 + 5, 8}, 2024);
  auto out = expert("ffn.0.0").forward(blobs({x}));
  ASSERT_TRUE(ok(out));
  EXPECT_TRUE(near(to_tensor((*out)[0]), local_forward(*local, x), 1e-6));
  auto after = expert("ffn.0.0").info();
  ASSERT_TRUE(ok(after));
  EXPECT_GE(after->forward_batches - before->forward_batches, 4u);
  EXPECT_EQ(after->forward_samples - before->forward_samples, 3u * 64 + 5);
}

TEST_F(BatchingTest, ConcurrentBackwardsOfSplitRequestsReturnTheirOwnGradients) {
  // nop_delay is the identity: grad_inputs must equal each client's own
  // grad_outputs row for row, even when requests are merged and split.
  constexpr size_t clients = 4;
  std::vector<torch::Tensor> grads;
  std::vector<caf::expected<std::vector<tensor_blob>>> answers(clients, caf::error{});
  std::vector<std::thread> threads;
  ASSERT_TRUE(ok(expert("nop.0.0").info()));
  for (size_t i = 0; i < clients; ++i) {
    auto rows = static_cast<int64_t>(30 + 11 * i);
    grads.push_back(seeded_randn({rows, 8}, 3000 + i));
    threads.emplace_back([&, i, g = grads.back(), rows] {
      auto x = seeded_randn({rows, 8}, 4000 + i);
      answers[i] = expert("nop.0.0").backward(blobs({x}), blobs({g}));
    });
  }
  for (auto& t : threads)
    t.join();
  for (size_t i = 0; i < clients; ++i) {
    ASSERT_TRUE(ok(answers[i])) << "client " << i;
    EXPECT_TRUE(torch::equal(to_tensor((*answers[i])[0]), grads[i])) << "client " << i;
  }
}

} // namespace
} // namespace colony::it
