// A slow expert and a short client timeout, over loopback: the call fails
// as errc::timeout close to the timeout, and the node keeps answering.
#include "tests/integration/integration_support.hpp"

namespace colony::it {
namespace {

/// Two compute slots: the slow batch must not keep the other expert waiting.
constexpr const char* slow_yaml = R"(node:
  host: 127.0.0.1
  port: 0
  scheduler_threads: 2
  torch_threads: 1
  compute_slots: 2
log:
  level: warn
experts:
  - uid: slow.0.0
    module:
      type: nop_delay
      dim: 8
      delay_ms: 1500
  - uid: ffn.0.0
    module:
      type: ffn
      seed: 7
      input_dim: 8
      hidden_dim: 16
      output_dim: 8
    optimizer:
      type: sgd
      lr: 0.1
)";

TEST(SlowExpertTest, ForwardPastClientTimeoutFailsAsTimeoutAndNodeStillAnswers) {
  auto cfg = parse_or_throw(slow_yaml);
  in_process_node node{cfg};
  client c;
  auto slow = c.expert(node.where(), "slow.0.0", 300ms);
  ASSERT_TRUE(ok(slow.info())); // connects, so that the timing covers the call only
  auto x = seeded_randn({2, 8}, 1);
  auto start = steady::now();
  auto out = slow.forward(blobs({x}));
  auto took = ms_since(start);
  EXPECT_TRUE(fails_with(out, errc::timeout));
  if (!out) {
    auto ctx = context_of(out.error());
    EXPECT_NE(ctx.find("slow.0.0"), std::string::npos) << "context names no expert: " << ctx;
    EXPECT_NE(ctx.find(node.where().to_string()), std::string::npos) << ctx;
  }
  EXPECT_GE(took, 290);
  EXPECT_LT(took, 300 + 400);
  // Another expert of the node answers right away...
  start = steady::now();
  auto other = c.expert(node.where(), "ffn.0.0", 1s);
  auto y = other.forward(blobs({x}));
  ASSERT_TRUE(ok(y));
  EXPECT_TRUE(near(to_tensor((*y)[0]), local_forward(*local_module(cfg, 1), x), 1e-6));
  EXPECT_LT(ms_since(start), 1000);
  // ... the slow one answers info at once even while its batch computes
  // (torch work runs on the worker pool, not in the actor), and its
  // counters show the batch once it is done.
  auto patient = c.expert(node.where(), "slow.0.0", 1s);
  caf::expected<expert_info> info{caf::error{}};
  for (int i = 0; i < 50; ++i) { // at most ~2.5 s
    info = patient.info();
    ASSERT_TRUE(ok(info));
    if (info->forward_batches == 1u)
      break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(info->forward_batches, 1u);
  EXPECT_EQ(info->forward_samples, 2u);
}

} // namespace
} // namespace colony::it
