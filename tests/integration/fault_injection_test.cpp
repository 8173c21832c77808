// The client's delay/drop hook (the seam of the paper's latency and failure
// experiments) over loopback.
#include "tests/integration/integration_support.hpp"

namespace colony::it {
namespace {

constexpr const char* ffn_yaml = R"(node: {host: 127.0.0.1, port: 0}
log: {level: warn}
experts:
  - uid: ffn.0.*
    count: 2
    module: {type: ffn, seed: 3, input_dim: 8, hidden_dim: 16, output_dim: 8}
)";

std::shared_ptr<fault_injection> faults(fault_config::delay_kind kind, double ms, double drop) {
  fault_config cfg;
  cfg.delay = kind;
  cfg.delay_ms = ms;
  cfg.drop_probability = drop;
  cfg.seed = 11;
  return std::make_shared<fault_injection>(cfg);
}

TEST(FaultInjectionTest, DelayedRequestsArriveLateButIntact) {
  auto cfg = parse_or_throw(ffn_yaml);
  in_process_node node{cfg};
  client c;
  auto e = c.expert(node.where(), "ffn.0.1", 2s);
  ASSERT_TRUE(ok(e.info()));
  c.conns().set_faults(faults(fault_config::delay_kind::fixed, 150, 0));
  auto x = seeded_randn({3, 8}, 5);
  auto start = steady::now();
  auto y = e.forward(blobs({x}));
  auto took = ms_since(start);
  ASSERT_TRUE(ok(y));
  EXPECT_GE(took, 150);
  EXPECT_LT(took, 1500);
  EXPECT_TRUE(near(to_tensor((*y)[0]), local_forward(*local_module(cfg, 0), x), 1e-6));
}

TEST(FaultInjectionTest, DroppedOrTooLateRequestsFailAsTimeoutAtTheDeadline) {
  auto cfg = parse_or_throw(ffn_yaml);
  in_process_node node{cfg};
  client c;
  auto e = c.expert(node.where(), "ffn.0.0", 300ms);
  ASSERT_TRUE(ok(e.info()));
  auto x = seeded_randn({2, 8}, 6);
  for (auto f : {faults(fault_config::delay_kind::none, 0, 1.0),
                 faults(fault_config::delay_kind::fixed, 800, 0)}) {
    c.conns().set_faults(f);
    auto start = steady::now();
    auto y = e.forward(blobs({x}));
    auto took = ms_since(start);
    EXPECT_TRUE(fails_with(y, errc::timeout));
    EXPECT_GE(took, 290);
    EXPECT_LT(took, 300 + 400);
  }
  c.conns().set_faults(nullptr);
  EXPECT_TRUE(ok(e.forward(blobs({x}))));
}

TEST(FaultInjectionTest, FanOutKeepsAnswersOfTheRequestsThatGotThrough) {
  auto cfg = parse_or_throw(ffn_yaml);
  in_process_node node{cfg};
  client c;
  c.conns().set_faults(faults(fault_config::delay_kind::exponential, 20, 0.5));
  std::vector<expert_call> calls;
  auto x = seeded_randn({2, 8}, 7);
  for (int i = 0; i < 20; ++i)
    calls.push_back(expert_call{node.where(), forward_request{"ffn.0." + std::to_string(i % 2),
                                                              blobs({x})}});
  auto answers = call_many(c.conns(), std::move(calls), 1s);
  int good = 0, timed_out = 0;
  for (auto& a : answers) {
    good += a ? 1 : 0;
    timed_out += !a && code_of(a.error()) == errc::timeout ? 1 : 0;
  }
  EXPECT_EQ(good + timed_out, 20);
  EXPECT_GT(good, 2);
  EXPECT_GT(timed_out, 2);
}

} // namespace
} // namespace colony::it
