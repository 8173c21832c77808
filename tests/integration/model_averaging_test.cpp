// Trainer nodes of one run averaging their models (trainers.averaging over
// the averaging component, in process over loopback): a round leaves both
// models at the mean of what they sent, and a node that joins late starts
// from the run's state instead of its own initialization.
#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "actors/dht/swarm.hpp"
#include "actors/trainer/trainer_host.hpp"
#include "tests/integration/integration_support.hpp"

using namespace colony;
using namespace colony::it;

namespace {

trainer::trainer_config averaging_node(uint64_t seed) {
  auto yaml = "seed: " + std::to_string(seed) + R"(
count: 1
steps: 20
batch_size: 16
log_every: 1000
averaging: {run: avg-test, join_window_s: 1, round_timeout_s: 20}
data: {kind: synthetic, features: 8, classes: 2, train_size: 256, test_size: 64, seed: 3}
model:
  - {type: linear, in: 8, out: 6}
  - {type: relu}
  - {type: linear, in: 6, out: 2}
)";
  auto cfg = trainer::parse_trainer_config(yaml);
  if (!cfg)
    throw std::runtime_error(describe(cfg.error()));
  return *cfg;
}

dht::swarm_options swarm_opts() {
  dht::swarm_options opts;
  opts.seed = 11;
  opts.peer.rpc_timeout = std::chrono::milliseconds{1000};
  return opts;
}

std::vector<torch::Tensor> values_of(trainer::trainer_host& h) {
  return h.owner().current()->values;
}

} // namespace

TEST(ModelAveragingTest, ARoundLeavesBothNodesAtTheMeanAndALateJoinerStartsFromIt) {
  system_config cfg{test_system_options()};
  caf::actor_system sys{cfg};
  dht::swarm swarm{sys, swarm_opts()};
  ASSERT_FALSE(swarm.grow(3));
  auto a = trainer::trainer_host::make(sys, averaging_node(1), swarm.peer(0));
  ASSERT_TRUE(a) << describe(a.error());
  auto b = trainer::trainer_host::make(sys, averaging_node(2), swarm.peer(1));
  ASSERT_TRUE(b) << describe(b.error());
  (*a)->run();
  (*b)->run();
  auto before_a = values_of(**a), before_b = values_of(**b);
  ASSERT_FALSE(torch::allclose(before_a[0], before_b[0])); // different seeds, different models
  caf::error err_a, err_b;
  std::thread ta{[&] { err_a = (*a)->averaging()->average_now(); }};
  std::thread tb{[&] { err_b = (*b)->averaging()->average_now(); }};
  ta.join();
  tb.join();
  ASSERT_FALSE(err_a) << describe(err_a);
  ASSERT_FALSE(err_b) << describe(err_b);
  auto after_a = values_of(**a), after_b = values_of(**b);
  for (size_t i = 0; i < before_a.size(); ++i) {
    auto mean = (before_a[i] + before_b[i]) / 2;
    EXPECT_TRUE(torch::allclose(after_a[i], mean, 0, 1e-6)) << "parameter " << i;
    EXPECT_TRUE(torch::allclose(after_b[i], mean, 0, 1e-6)) << "parameter " << i;
  }
  auto sa = (*a)->averaging()->stats();
  EXPECT_EQ(sa.rounds, 1u);
  EXPECT_EQ(sa.last_group, 2u);
  EXPECT_GT(sa.bytes_sent, 0u);
  // A third node of the run, no checkpoint: it downloads the state first.
  auto c = trainer::trainer_host::make(sys, averaging_node(3), swarm.peer(2));
  ASSERT_TRUE(c) << describe(c.error());
  auto joined = values_of(**c);
  auto va = (*a)->owner().version(), vb = (*b)->owner().version();
  EXPECT_TRUE((*c)->owner().version() == va || (*c)->owner().version() == vb);
  for (size_t i = 0; i < joined.size(); ++i)
    EXPECT_TRUE(torch::allclose(joined[i], after_a[i], 0, 1e-6)) << "parameter " << i;
}

TEST(ModelAveragingTest, AveragingWithoutADhtIsAClearConfigError) {
  system_config cfg{test_system_options()};
  caf::actor_system sys{cfg};
  auto h = trainer::trainer_host::make(sys, averaging_node(1), std::nullopt);
  ASSERT_FALSE(h);
  EXPECT_EQ(code_of(h.error()), errc::bad_config);
  EXPECT_NE(describe(h.error()).find("trainers.averaging"), std::string::npos);
}
