// The trainers section of a node config: layers, DMoE knobs and the checks
// that make a bad model a clear start-up error.
#include <gtest/gtest.h>

#include "actors/trainer/trainer_config.hpp"
#include "messages/errc.hpp"

using namespace colony;
using namespace colony::trainer;

namespace {

std::string with_model(const std::string& layers, const std::string& extra = "") {
  return "count: 2\nbatch_size: 8\ndata: {kind: synthetic, features: 16, classes: 4}\n" + extra
         + "model:\n" + layers;
}

const std::string good_layers = R"(  - {type: linear, in: 16, out: 32}
  - {type: relu}
  - {type: dmoe, prefix: ffn, grid: [4, 4], dim: 32, k_best: 4, k_min: 2,
     forward_timeout: 2.5, timeout_after_k_min: 0.1}
  - {type: layernorm, dim: 32}
  - {type: linear, in: 32, out: 4}
)";

void expect_bad(const std::string& yaml, const std::string& fragment) {
  auto cfg = parse_trainer_config(yaml);
  ASSERT_FALSE(cfg) << "accepted: " << yaml;
  EXPECT_EQ(code_of(cfg.error()), errc::bad_config);
  EXPECT_NE(describe(cfg.error()).find(fragment), std::string::npos) << describe(cfg.error());
}

} // namespace

TEST(TrainerConfigTest, ParsesAModelWithADmoeLayer) {
  auto cfg = parse_trainer_config(with_model(good_layers));
  ASSERT_TRUE(cfg) << describe(cfg.error());
  ASSERT_EQ(cfg->model.size(), 5u);
  auto& g = cfg->model[2].gate;
  EXPECT_EQ(g.grid.prefix, "ffn");
  EXPECT_EQ(g.grid.dims, (std::vector<uint32_t>{4, 4}));
  EXPECT_EQ(g.k_best, 4u);
  EXPECT_EQ(g.k_min, 2u);
  EXPECT_DOUBLE_EQ(g.forward_timeout_s, 2.5);
  EXPECT_DOUBLE_EQ(g.timeout_after_k_min_s, 0.1);
  EXPECT_TRUE(cfg->model[2].residual);
  EXPECT_EQ(cfg->count, 2u);
}

TEST(TrainerConfigTest, EveryGateKnobHasAFiniteDefault) {
  gate::gate_config g;
  EXPECT_GT(g.forward_timeout_s, 0);
  EXPECT_LT(g.forward_timeout_s, 3600);
  EXPECT_LT(g.backward_timeout_s, 3600);
  EXPECT_LT(g.timeout_after_k_min_s, 3600);
  EXPECT_LT(g.cache.expiry_s, 3600);
  EXPECT_LT(g.cache.negative_expiry_s, 3600);
  EXPECT_GT(g.cache.max_entries, 0u);
}

TEST(TrainerConfigTest, UnknownLayerKindIsRejected) {
  expect_bad(with_model("  - {type: convolution, in: 16, out: 4}\n"),
             "trainers.model[0].type: unknown layer kind 'convolution'");
}

TEST(TrainerConfigTest, ImpossibleGridsAreRejected) {
  expect_bad(with_model("  - {type: dmoe, prefix: ffn, grid: [0, 4], dim: 16}\n"),
             "trainers.model[0].grid[0]");
  expect_bad(with_model("  - {type: dmoe, prefix: ffn, grid: [1], dim: 16, k_best: 4}\n"),
             "cannot fill k_best=4");
  expect_bad(with_model("  - {type: dmoe, prefix: 'a.b', grid: [4], dim: 16}\n"),
             "trainers.model[0].grid");
  expect_bad(with_model("  - {type: dmoe, prefix: ffn, grid: [4], dim: 16, k_best: 2, "
                        "k_min: 3}\n"),
             "k_min");
}

TEST(TrainerConfigTest, LayersThatDoNotFitTogetherAreRejected) {
  expect_bad(with_model("  - {type: linear, in: 8, out: 4}\n"),
             "trainers.model[0]: takes 8 features but gets 16");
  expect_bad(with_model("  - {type: linear, in: 16, out: 5}\n"), "ends with 5 outputs");
}

TEST(TrainerConfigTest, BadKeysAndValuesNameTheirPath) {
  expect_bad(with_model(good_layers, "colour: blue\n"), "unknown key 'colour'");
  expect_bad(with_model("  - {type: dmoe, prefix: ffn, grid: [4], dim: 16, k_best: 2, "
                        "forward_timeout: -1}\n"),
             "trainers.model[0].forward_timeout");
  expect_bad(with_model(good_layers, "faults: {drop_probability: 2}\n"),
             "trainers.faults.drop_probability");
}

TEST(TrainerConfigTest, TheOneModelKnobsParseAndSizeThePool) {
  auto cfg = parse_trainer_config(with_model(good_layers,
                                             "in_flight: 4\naccumulate: 8\nmax_staleness: 16\n"
                                             "on_stale: scale\nstaleness_scale: true\n"
                                             "optimizer: sgd\nclip_grad_norm: 1.5\n"));
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->in_flight, 4u);
  EXPECT_EQ(cfg->accumulate, 8u);
  EXPECT_EQ(cfg->max_staleness, 16u);
  EXPECT_EQ(cfg->on_stale, "scale");
  EXPECT_TRUE(cfg->staleness_scale);
  EXPECT_EQ(cfg->optimizer, "sgd");
  EXPECT_DOUBLE_EQ(cfg->clip_grad_norm, 1.5);
  EXPECT_EQ(cfg->pool_threads(), 8u); // a thread per chain: 2 trainers x 4
  EXPECT_EQ(cfg->lr_total_versions(), 0u); // no decay by default
}

TEST(TrainerConfigTest, TheLearningRateScheduleCountsTheNodesVersions) {
  auto cfg = parse_trainer_config(with_model(good_layers, "steps: 100\naccumulate: 3\n"
                                                          "lr_warmup: 5\nlr_decay: linear\n"));
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->lr_warmup, 5u);
  // 2 trainers x 100 micro-batches, one version per 3: the last is 67.
  EXPECT_EQ(cfg->lr_total_versions(), 67u);
  expect_bad(with_model(good_layers, "lr_decay: cosine\n"), "trainers.lr_decay");
  expect_bad(with_model(good_layers, "lr_warmup: -1\n"), "trainers.lr_warmup");
}

TEST(TrainerConfigTest, BadOneModelKnobsNameTheirKey) {
  expect_bad(with_model(good_layers, "on_stale: ignore\n"), "trainers.on_stale");
  expect_bad(with_model(good_layers, "optimizer: lion\n"), "trainers.optimizer");
  expect_bad(with_model(good_layers, "in_flight: 0\n"), "trainers.in_flight");
  expect_bad(with_model(good_layers, "accumulate: 0\n"), "trainers.accumulate");
  expect_bad(with_model(good_layers, "in_flight: 3000\n"), "trainers.in_flight");
}

TEST(TrainerConfigTest, TimeoutAfterKMinAutoTurnsOnTheAdaptiveGrace) {
  auto layers = std::string{good_layers};
  layers.replace(layers.find("timeout_after_k_min: 0.1"), 24, "timeout_after_k_min: auto");
  auto cfg = parse_trainer_config(with_model(layers));
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_TRUE(cfg->model[2].gate.grace_auto);
  EXPECT_DOUBLE_EQ(cfg->model[2].gate.timeout_after_k_min_s, 0.5); // until it has measured
  auto fixed = parse_trainer_config(with_model(good_layers));
  ASSERT_TRUE(fixed);
  EXPECT_FALSE(fixed->model[2].gate.grace_auto);
  layers.replace(layers.find("timeout_after_k_min: auto"), 25, "timeout_after_k_min: soon");
  expect_bad(with_model(layers), "timeout_after_k_min");
}
