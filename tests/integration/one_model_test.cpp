// One model per trainer node (trainer_host over shared_model, in process):
// two trainers that share the trainer-side parameters learn more per
// sample than two separate models with the same samples in total, every
// micro-batch is one version of the model, one chain is exactly plain
// sequential SGD (never stale by its own gradient, warm-up and decay
// followed), and a restarted node goes on from the model's checkpoint.
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "actors/trainer/dataset.hpp"
#include "actors/trainer/trainer_host.hpp"
#include "runtime/lr_schedule.hpp"
#include "tests/integration/integration_support.hpp"

using namespace colony;
using namespace colony::it;

namespace {

trainer::trainer_config one_model_config(uint32_t count, uint64_t steps, uint64_t seed,
                                         const std::string& extra = {}) {
  auto yaml = "count: " + std::to_string(count) + "\nsteps: " + std::to_string(steps)
              + "\nseed: " + std::to_string(seed) + R"(
batch_size: 16
lr: 0.002
log_every: 1000
data: {kind: synthetic, features: 16, classes: 4, train_size: 2048, test_size: 1024, seed: 9}
model:
  - {type: linear, in: 16, out: 32}
  - {type: relu}
  - {type: linear, in: 32, out: 4}
)" + extra;
  auto cfg = trainer::parse_trainer_config(yaml);
  if (!cfg)
    throw std::runtime_error(describe(cfg.error()));
  return *cfg;
}

/// The test-set cross-entropy of the host's model now.
double test_loss(trainer::trainer_host& host) {
  auto& c = host.config();
  auto test = trainer::make_synthetic(c.data.test_size, c.data.features, c.data.classes,
                                      c.data.seed, c.data.seed + 2);
  trainer::model net{c.model, trainer::model_deps{}, 0};
  host.owner().bind(*net);
  torch::NoGradGuard no_grad;
  return torch::nn::functional::cross_entropy(net->forward(test.x), test.y).item<double>();
}

struct trained {
  double loss = 0;
  trainer::model_summary model;
  std::vector<trainer::trainer_summary> trainers;
};

trained train(caf::actor_system& sys, const trainer::trainer_config& cfg) {
  auto host = trainer::trainer_host::make(sys, cfg, std::nullopt);
  if (!host)
    throw std::runtime_error(describe(host.error()));
  trained t;
  t.trainers = (*host)->run();
  t.model = (*host)->model_result();
  t.loss = test_loss(**host);
  return t;
}

} // namespace

TEST(OneModelTest, TwoTrainersSharingOneModelLearnMorePerSampleThanTwoSeparateModels) {
  system_config cfg{test_system_options()};
  caf::actor_system sys{cfg};
  // 2 x 60 micro-batches of 16 rows: 1,920 samples in total either way.
  auto shared = train(sys, one_model_config(2, 60, 1));
  auto a = train(sys, one_model_config(1, 60, 1));
  auto b = train(sys, one_model_config(1, 60, 2));
  std::printf("[ measure  ] test loss: one model of 2 trainers %.4f; separate models %.4f and "
              "%.4f (accuracy %.4f vs %.4f, %.4f)\n",
              shared.loss, a.loss, b.loss, shared.model.test_accuracy, a.model.test_accuracy,
              b.model.test_accuracy);
  EXPECT_EQ(shared.model.version, 120u);
  EXPECT_EQ(shared.model.applied, 120u);
  EXPECT_EQ(a.model.version, 60u);
  // Stated margin: the shared model's loss is below both separate models'
  // by at least a tenth of their mean.
  auto separate = (a.loss + b.loss) / 2;
  EXPECT_LT(shared.loss, std::min(a.loss, b.loss));
  EXPECT_LT(shared.loss, 0.9 * separate);
}

TEST(OneModelTest, InFlightChainsTrainTheSameModelAndEveryMicroBatchIsAVersion) {
  system_config cfg{test_system_options()};
  caf::actor_system sys{cfg};
  auto t = train(sys, one_model_config(2, 30, 1, "in_flight: 3\n"));
  ASSERT_EQ(t.trainers.size(), 2u);
  for (auto& s : t.trainers) {
    EXPECT_EQ(s.steps, 30u);
    EXPECT_EQ(s.failed_steps, 0u);
  }
  EXPECT_EQ(t.model.chains, 6u);
  EXPECT_EQ(t.model.version, 60u);
  EXPECT_EQ(t.model.dropped, 0u);
  EXPECT_GE(t.model.test_accuracy, 0.0);
  EXPECT_EQ(t.model.test_samples, 1024u);
}

TEST(OneModelTest, OneChainIsPlainSequentialSgdWithItsSchedule) {
  system_config cfg{test_system_options()};
  caf::actor_system sys{cfg};
  const uint64_t steps = 12;
  auto c = one_model_config(1, steps, 3, "optimizer: sgd\nlr_warmup: 3\nlr_decay: linear\n");
  c.lr = 0.1; // large enough that a gradient one version stale would show
  ASSERT_EQ(c.lr_total_versions(), steps);
  auto host = trainer::trainer_host::make(sys, c, std::nullopt);
  ASSERT_TRUE(host) << describe(host.error());
  (*host)->run();
  auto m = (*host)->model_result();
  EXPECT_EQ(m.version, steps);
  // Each micro-batch read the version that its predecessor made.
  EXPECT_EQ(m.staleness_max, 0u);
  // The reference: the same initialization, the same batches (the chain's
  // sampler seed), one SGD step each at the scheduled learning rate.
  auto train = trainer::make_synthetic(c.data.train_size, c.data.features, c.data.classes,
                                       c.data.seed, c.data.seed + 1);
  trainer::batch_sampler sampler{train, c.batch_size, c.sampler_seed()};
  trainer::model net{c.model, trainer::model_deps{}, c.seed};
  auto params = net->parameters();
  for (uint64_t v = 0; v < steps; ++v) {
    auto [x, y] = sampler.next();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    for (auto& p : params)
      p.mutable_grad() = torch::Tensor();
    loss.backward();
    torch::NoGradGuard no_grad;
    auto lr = scheduled_lr(c.lr, c.lr_warmup, steps, v);
    for (auto& p : params)
      p.sub_(p.grad(), lr);
  }
  auto snap = (*host)->owner().current();
  ASSERT_EQ(snap->values.size(), params.size());
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_TRUE(torch::allclose(snap->values[i], params[i].detach(), 1e-5, 1e-6))
      << "parameter " << i << " differs from sequential SGD by "
      << (snap->values[i] - params[i].detach()).abs().max().item<double>();
}

TEST(OneModelTest, ARestartedNodeGoesOnFromTheModelCheckpoint) {
  temp_dir dir;
  system_config cfg{test_system_options()};
  caf::actor_system sys{cfg};
  auto extra = "checkpoint_dir: " + dir.file("ckpt") + "\n";
  auto first = train(sys, one_model_config(1, 25, 1, extra));
  EXPECT_EQ(first.model.version, 25u);
  ASSERT_TRUE(std::filesystem::exists(dir.file("ckpt/model.pt")));
  auto second = train(sys, one_model_config(1, 25, 1, extra));
  EXPECT_EQ(second.model.version, 50u);
  // Restored, then trained on: not worse than where the first run ended.
  EXPECT_LE(second.loss, first.loss + 1e-3);
}
