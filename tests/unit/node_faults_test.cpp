// The node's faults: section (runtime/node_faults.hpp): parsing, defaults,
// errors naming keys, and the sampler's statistics for the values it sets.
#include <gtest/gtest.h>

#include <string>

#include <yaml-cpp/yaml.h>

#include "messages/errc.hpp"
#include "runtime/fault_injection.hpp"
#include "runtime/node_config.hpp"
#include "runtime/node_faults.hpp"

using namespace colony;
using kind = fault_config::delay_kind;

namespace {

caf::expected<node_faults> parse(const std::string& text) {
  node_faults f;
  if (auto err = parse_node_faults(YAML::Load(text)["faults"], f))
    return err;
  return f;
}

/// Asserts bad_config with `want` in the context.
void expect_bad(const std::string& text, const std::string& want) {
  auto f = parse(text);
  ASSERT_FALSE(f) << text;
  EXPECT_EQ(code_of(f.error()), errc::bad_config);
  EXPECT_NE(context_of(f.error()).find(want), std::string::npos)
    << "context: " << context_of(f.error()) << ", want: " << want;
}

} // namespace

TEST(NodeFaultsTest, AbsentSectionIsOff) {
  auto f = parse("other: 1\n");
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->is_noop());
  EXPECT_TRUE(f->expert_calls.is_noop());
  EXPECT_TRUE(f->dht.is_noop());
  EXPECT_EQ(f->crash_rate_per_min, 0.0);
  auto null = parse("faults:\n");
  ASSERT_TRUE(null);
  EXPECT_TRUE(null->is_noop());
}

TEST(NodeFaultsTest, ReadsEveryKey) {
  auto f = parse(R"(
faults:
  latency: {distribution: exponential, mean_ms: 1000}
  dht_latency: {distribution: fixed, mean_ms: 50}
  fail_fraction: 0.1
  crash_rate_per_min: 2
  seed: 7
)");
  ASSERT_TRUE(f) << describe(f.error());
  EXPECT_FALSE(f->is_noop());
  EXPECT_EQ(f->expert_calls.delay, kind::exponential);
  EXPECT_EQ(f->expert_calls.delay_ms, 1000.0);
  EXPECT_EQ(f->expert_calls.drop_probability, 0.1);
  EXPECT_EQ(f->dht.delay, kind::fixed);
  EXPECT_EQ(f->dht.delay_ms, 50.0);
  EXPECT_EQ(f->dht.drop_probability, 0.0); // fail_fraction is for expert requests only
  EXPECT_EQ(f->crash_rate_per_min, 2.0);
  EXPECT_EQ(f->seed, 7u);
}

TEST(NodeFaultsTest, LatencyAppliesToDhtUnlessOverridden) {
  auto f = parse("faults:\n  latency: {distribution: uniform, mean_ms: 20}\n");
  ASSERT_TRUE(f) << describe(f.error());
  EXPECT_EQ(f->expert_calls.delay, kind::uniform);
  EXPECT_EQ(f->dht.delay, kind::uniform);
  EXPECT_EQ(f->dht.delay_ms, 20.0);
  auto none = parse("faults:\n  latency: {distribution: fixed, mean_ms: 20}\n"
                    "  dht_latency: {distribution: none}\n");
  ASSERT_TRUE(none) << describe(none.error());
  EXPECT_TRUE(none->dht.is_noop());
  EXPECT_FALSE(none->expert_calls.is_noop());
}

TEST(NodeFaultsTest, StreamsGetDistinctSeedsThatFollowTheSeed) {
  auto a = parse("faults:\n  fail_fraction: 0.5\n  seed: 7\n");
  auto b = parse("faults:\n  fail_fraction: 0.5\n  seed: 7\n");
  auto c = parse("faults:\n  fail_fraction: 0.5\n  seed: 8\n");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->expert_calls.seed, b->expert_calls.seed);
  EXPECT_NE(a->expert_calls.seed, c->expert_calls.seed);
  EXPECT_NE(a->expert_calls.seed, a->dht.seed);
  EXPECT_NE(a->expert_calls.seed, a->crash_seed());
  EXPECT_NE(a->dht.seed, a->crash_seed());
}

TEST(NodeFaultsTest, BadValuesNameTheirKey) {
  expect_bad("faults:\n  fail_fraction: 1.5\n", "faults.fail_fraction: 1.5 out of range [0, 1]");
  expect_bad("faults:\n  fail_fraction: -0.1\n", "faults.fail_fraction");
  expect_bad("faults:\n  fail_fraction: lots\n", "faults.fail_fraction: expected a number");
  expect_bad("faults:\n  crash_rate_per_min: -1\n", "faults.crash_rate_per_min");
  expect_bad("faults:\n  seed: -3\n", "faults.seed");
  expect_bad("faults:\n  latency: {distribution: gaussian, mean_ms: 1}\n",
             "faults.latency.distribution: 'gaussian' is not one of");
  expect_bad("faults:\n  latency: {distribution: fixed}\n", "faults.latency.mean_ms: required");
  expect_bad("faults:\n  latency: {mean_ms: 5}\n", "faults.latency.distribution: required");
  expect_bad("faults:\n  latency: {distribution: fixed, mean_ms: 0}\n",
             "faults.latency.mean_ms: 0 out of range > 0");
  expect_bad("faults:\n  dht_latency: {distribution: fixed, mean_ms: x}\n",
             "faults.dht_latency.mean_ms");
  expect_bad("faults:\n  latency: 1000\n", "faults.latency: expected a map");
  expect_bad("faults: 3\n", "faults: expected a map");
}

TEST(NodeFaultsTest, UnknownKeysAreRefused) {
  expect_bad("faults:\n  drop: 0.1\n", "unknown key 'drop' in faults");
  expect_bad("faults:\n  latency: {distribution: fixed, mean_ms: 1, jitter: 2}\n",
             "unknown key 'jitter' in faults.latency");
}

TEST(NodeFaultsTest, NodeConfigReadsTheSection) {
  auto cfg = parse_node_config(R"(
experts:
  - uid: ffn.0.0
    module: {type: ffn}
faults:
  fail_fraction: 0.25
  crash_rate_per_min: 1
)");
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->faults.expert_calls.drop_probability, 0.25);
  EXPECT_EQ(cfg->faults.crash_rate_per_min, 1.0);
  auto plain = parse_node_config("experts:\n  - uid: ffn.0.0\n    module: {type: ffn}\n");
  ASSERT_TRUE(plain) << describe(plain.error());
  EXPECT_TRUE(plain->faults.is_noop());
  auto bad = parse_node_config("experts:\n  - uid: ffn.0.0\n    module: {type: ffn}\n"
                               "faults:\n  fail_fraction: 2\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(context_of(bad.error()).find("faults.fail_fraction"), std::string::npos);
}

TEST(NodeFaultsTest, SamplerFailsTheConfiguredFraction) {
  auto f = parse("faults:\n  fail_fraction: 0.1\n  seed: 11\n");
  ASSERT_TRUE(f);
  fault_injection sampler{f->expert_calls};
  constexpr int draws = 10000;
  int dropped = 0;
  for (int i = 0; i < draws; ++i)
    dropped += sampler.next().drop ? 1 : 0;
  EXPECT_NEAR(dropped / double{draws}, 0.1, 0.02);
}

TEST(NodeFaultsTest, SamplerExponentialMeanMatches) {
  auto f = parse("faults:\n  latency: {distribution: exponential, mean_ms: 1000}\n  seed: 3\n");
  ASSERT_TRUE(f);
  fault_injection sampler{f->expert_calls};
  constexpr int draws = 10000;
  double total_ms = 0;
  for (int i = 0; i < draws; ++i) {
    auto v = sampler.next();
    EXPECT_FALSE(v.drop);
    total_ms += std::chrono::duration<double, std::milli>(v.delay).count();
  }
  EXPECT_NEAR(total_ms / draws, 1000.0, 50.0);
}
