// Gates and trainers under the trainer host's supervisor (in process): a
// trainer killed mid-run is rebuilt and started again, and run() still
// returns every trainer's summary; a gate killed mid-run is replaced and
// the DMoE layers' next calls go to the new one.
#include <atomic>

#include <gtest/gtest.h>

#include "actors/trainer/trainer_host.hpp"
#include "tests/integration/dmoe_support.hpp"
#include "tests/integration/log_capture.hpp"

using namespace colony;
using namespace colony::it;

namespace {

struct TrainerSupervisionTest : ::testing::Test {
  scoped_capture capture{{"supervisor", "trainer"}};
  std::shared_ptr<log_capture> sink = capture.sink;
};

trainer::trainer_config parse_trainers(const std::string& yaml) {
  auto cfg = trainer::parse_trainer_config(yaml);
  if (!cfg)
    throw std::runtime_error(describe(cfg.error()));
  return *cfg;
}

} // namespace

TEST_F(TrainerSupervisionTest, AKilledTrainerIsRebuiltAndItsSummaryStillArrives) {
  system_config cfg{test_system_options()};
  caf::actor_system sys{cfg};
  auto tc = parse_trainers(R"(count: 2
batch_size: 16
steps: 60
log_every: 10
data: {kind: synthetic, features: 8, classes: 2, train_size: 256, test_size: 64, seed: 4}
model:
  - {type: linear, in: 8, out: 2}
)");
  auto th = trainer::trainer_host::make(sys, tc, std::nullopt);
  ASSERT_TRUE(th) << describe(th.error());
  auto first = (*th)->trainer(0);
  std::atomic<bool> killed{false};
  // Kill trainer 0 once it has logged its first progress line.
  sink->on_line = [&](const std::string& l) {
    if (l.find("trainer=0 step=") != std::string::npos && !killed.exchange(true))
      crash_actor(first, make_error(errc::compute_failed, "test kill"));
  };
  auto summaries = (*th)->run();
  sink->on_line = nullptr;
  ASSERT_TRUE(killed);
  ASSERT_EQ(summaries.size(), 2u);
  for (auto& s : summaries)
    EXPECT_EQ(s.steps, 60u) << "trainer " << s.index;
  EXPECT_EQ(sink->count("event=child_restarted", "child=trainer.0 "), 1u);
  EXPECT_EQ(sink->count("event=child_exited", "test kill"), 1u);
  EXPECT_NE((*th)->trainer(0), first);
}

TEST_F(TrainerSupervisionTest, AKilledGateIsReplacedAndTheLayersUseTheNewOne) {
  std::vector<std::string> uids{"ffn.0.0", "ffn.0.1"};
  in_process_node node{parse_or_throw(distinct_ffn_yaml(uids))};
  dmoe_client c;
  c.declare(uids, node.where());
  auto tc = parse_trainers(R"(count: 1
batch_size: 8
steps: 40
log_every: 5
data: {kind: synthetic, features: 8, classes: 2, train_size: 128, test_size: 32, seed: 4}
model:
  - {type: dmoe, prefix: ffn, grid: [1, 2], dim: 8, k_best: 2, k_min: 1,
     timeout_after_k_min: 1, forward_timeout: 5, backward_timeout: 5}
  - {type: linear, in: 8, out: 2}
)");
  auto th = trainer::trainer_host::make(c.system(), tc, c.dht_peer());
  ASSERT_TRUE(th) << describe(th.error());
  auto first = (*th)->gate(0);
  std::atomic<bool> killed{false};
  sink->on_line = [&](const std::string& l) {
    if (l.find("trainer=0 step=") != std::string::npos && !killed.exchange(true))
      crash_actor(first, make_error(errc::compute_failed, "test gate kill"));
  };
  auto summaries = (*th)->run();
  sink->on_line = nullptr;
  ASSERT_TRUE(killed);
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(summaries[0].steps, 40u);
  // At most the step in flight when the gate died failed; the rest used the new gate.
  EXPECT_LE(summaries[0].failed_steps, 1u);
  EXPECT_EQ(sink->count("event=child_restarted", "child=gate.0 "), 1u);
  EXPECT_NE((*th)->gate(0), first);
}
