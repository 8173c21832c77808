// The node's one model (shared_model): gradients applied by the owner with
// their staleness counted and bounded, replicas bound to a version without
// a copy, and a checkpoint that restores version and optimizer.
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "actors/trainer/shared_model.hpp"

using namespace colony::trainer;

namespace {

std::shared_ptr<torch::nn::LinearImpl> linear(double w) {
  auto m = std::make_shared<torch::nn::LinearImpl>(2, 1);
  torch::NoGradGuard no_grad;
  m->weight.fill_(w);
  m->bias.fill_(0);
  return m;
}

/// A gradient of all `g` for the 2x1 linear, computed at `version`.
model_gradient grad_of(double g, uint64_t version) {
  model_gradient x;
  x.version = version;
  x.samples = 1;
  x.grads = {torch::full({1, 2}, g), torch::full({1}, g)};
  return x;
}

model_options sgd(double lr) {
  model_options o;
  o.optimizer = "sgd";
  o.lr = lr;
  return o;
}

float weight_of(shared_model& m) {
  return m.current()->values[0][0][0].item<float>();
}

} // namespace

TEST(SharedModelTest, GradientsAtTheCurrentVersionStepTheModelOnceEach) {
  shared_model m{linear(1.0), sgd(0.1)};
  for (int i = 0; i < 3; ++i)
    m.submit(grad_of(1.0, m.version())).wait();
  EXPECT_EQ(m.version(), 3u);
  EXPECT_NEAR(weight_of(m), 1.0 - 3 * 0.1, 1e-6);
  auto s = m.take_stats();
  EXPECT_EQ(s.applied, 3u);
  EXPECT_EQ(s.staleness, (std::vector<uint32_t>{0, 0, 0}));
}

TEST(SharedModelTest, TheLearningRateFollowsWarmUpAndDecayByOptimizerStep) {
  auto o = sgd(0.1);
  o.lr_warmup = 2;
  o.lr_total = 4;
  shared_model m{linear(1.0), o};
  // lr per optimizer step 0..4: 0.05, 0.1 (warm-up), 0.1, 0.05 (decay), 0.
  double expected = 1.0;
  int step = 0;
  for (double lr : {0.05, 0.1, 0.1, 0.05, 0.0}) {
    if (step++ == 2) // an averaging round: a version, not a step of the schedule
      m.add_delta({torch::zeros({1, 2}), torch::zeros({1})});
    m.submit(grad_of(1.0, m.version())).wait();
    expected -= lr;
    EXPECT_NEAR(weight_of(m), expected, 1e-6) << "at version " << m.version();
  }
  EXPECT_EQ(m.version(), 6u);
}

TEST(SharedModelTest, AccumulateStepsOnTheMeanOfItsMicroBatches) {
  auto o = sgd(0.1);
  o.accumulate = 2;
  shared_model m{linear(1.0), o};
  m.submit(grad_of(1.0, 0)).wait();
  EXPECT_EQ(m.version(), 0u);
  m.submit(grad_of(3.0, 0)).wait();
  EXPECT_EQ(m.version(), 1u);
  EXPECT_NEAR(weight_of(m), 1.0 - 0.1 * 2.0, 1e-6); // mean of 1 and 3
}

TEST(SharedModelTest, AGradientBeyondMaxStalenessIsDropped) {
  auto o = sgd(0.1);
  o.max_staleness = 2;
  shared_model m{linear(1.0), o};
  for (int i = 0; i < 3; ++i)
    m.submit(grad_of(1.0, m.version())).wait();
  auto before = weight_of(m);
  m.submit(grad_of(100.0, 0)).wait(); // 3 versions behind
  EXPECT_EQ(m.version(), 3u);
  EXPECT_EQ(weight_of(m), before);
  m.submit(grad_of(1.0, 1)).wait();   // 2 behind: within the bound
  EXPECT_EQ(m.version(), 4u);
  auto s = m.take_stats();
  EXPECT_EQ(s.dropped, 1u);
  EXPECT_EQ(s.applied, 4u);
  EXPECT_EQ(s.staleness.back(), 2u);
}

TEST(SharedModelTest, AGradientBeyondMaxStalenessIsScaledWhenConfigured) {
  auto o = sgd(0.1);
  o.max_staleness = 2;
  o.drop_stale = false;
  shared_model m{linear(1.0), o};
  for (int i = 0; i < 3; ++i)
    m.submit(grad_of(1.0, m.version())).wait();
  auto before = weight_of(m);
  m.submit(grad_of(8.0, 0)).wait(); // staleness 3: weight 1/4
  EXPECT_NEAR(weight_of(m), before - 0.1 * 8.0 / 4.0, 1e-6);
  EXPECT_EQ(m.take_stats().scaled, 1u);
}

TEST(SharedModelTest, StalenessScaleWeighsEveryGradientByItsLag) {
  auto o = sgd(0.1);
  o.staleness_scale = true;
  shared_model m{linear(1.0), o};
  m.submit(grad_of(1.0, 0)).wait();
  auto before = weight_of(m);
  m.submit(grad_of(2.0, 0)).wait(); // staleness 1: weight 1/2
  EXPECT_NEAR(weight_of(m), before - 0.1 * 2.0 / 2.0, 1e-6);
}

TEST(SharedModelTest, ABoundReplicaSharesTheSnapshotAndItsGradientsMoveOut) {
  shared_model m{linear(2.0), sgd(0.5)};
  auto replica = linear(-7.0);
  auto v = m.bind(*replica);
  EXPECT_EQ(v, 0u);
  // No copy: the replica's weight is the snapshot's storage.
  EXPECT_EQ(replica->weight.data_ptr(), m.current()->values[0].data_ptr());
  auto y = replica->forward(torch::ones({1, 2})).sum();
  y.backward();
  auto g = shared_model::take_gradients(*replica, v, 1);
  EXPECT_FALSE(replica->weight.grad().defined());
  ASSERT_EQ(g.grads.size(), 2u);
  EXPECT_TRUE(torch::allclose(g.grads[0], torch::ones({1, 2})));
  m.submit(std::move(g)).wait();
  // The old snapshot is untouched; the new one moved by -lr * grad.
  EXPECT_FLOAT_EQ(replica->weight[0][0].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(weight_of(m), 1.5f);
  m.bind(*replica);
  EXPECT_FLOAT_EQ(replica->weight[0][0].item<float>(), 1.5f);
}

TEST(SharedModelTest, CheckpointRestoresVersionParametersAndOptimizer) {
  auto dir = std::filesystem::temp_directory_path()
             / ("colony-shared-model-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  model_options o; // Adam: its moments change the next step
  o.lr = 0.1;
  o.lr_total = 10; // the schedule's position (3 steps, not 4 versions) is restored too
  o.checkpoint_path = (dir / "model.pt").string();
  shared_model a{linear(1.0), o};
  for (double g : {1.0, -2.0, 0.5})
    a.submit(grad_of(g, a.version())).wait();
  a.add_delta({torch::zeros({1, 2}), torch::zeros({1})}); // a version, not a step
  a.save();
  shared_model b{linear(5.0), o};
  ASSERT_TRUE(b.load());
  EXPECT_EQ(b.version(), 4u);
  EXPECT_TRUE(torch::equal(a.current()->values[0], b.current()->values[0]));
  auto w = weight_of(a);
  a.submit(grad_of(0.3, 4)).wait();
  b.submit(grad_of(0.3, 4)).wait();
  EXPECT_FLOAT_EQ(weight_of(a), weight_of(b));
  // A fresh Adam at the same values would move by exactly lr on this step
  // (m / sqrt(v) = sign(g)); the restored one keeps its history instead.
  EXPECT_GT(std::abs((w - weight_of(b)) - 0.1), 0.01) << w << " -> " << weight_of(b);
  std::filesystem::remove_all(dir);
}

TEST(SharedModelTest, AGradientOfTheWrongShapeIsRefusedAndTheModelLivesOn) {
  shared_model m{linear(1.0), sgd(0.1)};
  model_gradient bad;
  bad.grads = {torch::ones({1, 2})}; // one tensor for a model of two
  m.submit(std::move(bad)).wait();
  EXPECT_EQ(m.version(), 0u);
  model_gradient transposed = grad_of(1.0, 0);
  transposed.grads[0] = torch::ones({2, 1}); // would broadcast silently
  m.submit(std::move(transposed)).wait();
  EXPECT_EQ(m.version(), 0u);
  EXPECT_FLOAT_EQ(weight_of(m), 1.0f);
  m.submit(grad_of(1.0, 0)).wait();
  EXPECT_EQ(m.version(), 1u);
}

TEST(SharedModelTest, AnUnknownOptimizerIsAClearError) {
  model_options o;
  o.optimizer = "lion";
  EXPECT_THROW((shared_model{linear(1.0), o}), std::invalid_argument);
}
