// An expert group's spec <-> expert_spec_msg (runtime/expert_spec_wire.hpp):
// exact round trips, and the config parser's errors renamed to "spec.*".
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "messages/errc.hpp"
#include "runtime/expert_spec_wire.hpp"

using namespace colony;

namespace {

expert_group_config sample_group() {
  expert_group_config g;
  g.uid = "ffn.3.*";
  g.count = 8;
  g.max_batch_size = 96;
  g.module.type = "ffn";
  g.module.params = {{"input_dim", 1024}, {"hidden_dim", 4096}, {"dropout", 0.125}};
  g.module.seed = 1234567890123ull;
  auto& o = g.optimizer;
  o.type = "sgd";
  o.lr = 0.05;
  o.momentum = 0.9;
  o.beta1 = 0.8;
  o.beta2 = 0.99;
  o.eps = 1e-7;
  o.weight_decay = 1e-4;
  o.clip_grad_norm = 1.5;
  o.warmup_steps = 10;
  o.total_steps = 1000;
  o.accumulate_rows = 512;
  g.checkpoint.dir = "/var/lib/colony/ckpt dir";
  g.checkpoint.every_updates = 100;
  g.checkpoint.load = false;
  g.checkpoint.on_mismatch = "fresh";
  return g;
}

void expect_same(const expert_group_config& a, const expert_group_config& b) {
  EXPECT_EQ(a.uid, b.uid);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.max_batch_size, b.max_batch_size);
  EXPECT_EQ(a.module.type, b.module.type);
  EXPECT_EQ(a.module.params, b.module.params);
  EXPECT_EQ(a.module.seed, b.module.seed);
  EXPECT_EQ(a.optimizer.type, b.optimizer.type);
  EXPECT_EQ(a.optimizer.lr, b.optimizer.lr);
  EXPECT_EQ(a.optimizer.momentum, b.optimizer.momentum);
  EXPECT_EQ(a.optimizer.beta1, b.optimizer.beta1);
  EXPECT_EQ(a.optimizer.beta2, b.optimizer.beta2);
  EXPECT_EQ(a.optimizer.eps, b.optimizer.eps);
  EXPECT_EQ(a.optimizer.weight_decay, b.optimizer.weight_decay);
  EXPECT_EQ(a.optimizer.clip_grad_norm, b.optimizer.clip_grad_norm);
  EXPECT_EQ(a.optimizer.warmup_steps, b.optimizer.warmup_steps);
  EXPECT_EQ(a.optimizer.total_steps, b.optimizer.total_steps);
  EXPECT_EQ(a.optimizer.accumulate_rows, b.optimizer.accumulate_rows);
  EXPECT_EQ(a.checkpoint.dir, b.checkpoint.dir);
  EXPECT_EQ(a.checkpoint.every_updates, b.checkpoint.every_updates);
  EXPECT_EQ(a.checkpoint.load, b.checkpoint.load);
  EXPECT_EQ(a.checkpoint.on_mismatch, b.checkpoint.on_mismatch);
}

/// Asserts bad_config whose context starts with `start`.
template <class T>
void expect_bad(const caf::expected<T>& x, const std::string& start) {
  ASSERT_FALSE(x);
  EXPECT_EQ(code_of(x.error()), errc::bad_config);
  auto ctx = context_of(x.error());
  EXPECT_EQ(ctx.substr(0, start.size()), start) << ctx;
}

} // namespace

TEST(ExpertSpecWire, RoundTripKeepsEveryField) {
  auto g = sample_group();
  auto back = from_wire(to_wire(g), "ffn.3", 8);
  ASSERT_TRUE(back) << describe(back.error());
  expect_same(*back, g);
}

TEST(ExpertSpecWire, RoundTripOfDefaultsAndAwkwardReals) {
  expert_group_config g;
  g.uid = "x.*";
  g.count = 1;
  g.module.type = "linear";
  g.module.params = {{"a", 0.1}, {"b", -3}, {"c", 1e-300}, {"d", 123456789.123456789}};
  auto back = from_wire(to_wire(g), "x", 1);
  ASSERT_TRUE(back) << describe(back.error());
  expect_same(*back, g);
}

TEST(ExpertSpecWire, AbsentOptimizerParamsKeepDefaults) {
  expert_spec_msg m;
  m.module_type = "ffn";
  auto g = from_wire(m, "ffn.0", 2);
  ASSERT_TRUE(g) << describe(g.error());
  EXPECT_EQ(g->uid, "ffn.0.*");
  EXPECT_EQ(g->count, 2u);
  EXPECT_EQ(g->optimizer.lr, optimizer_config{}.lr);
  EXPECT_EQ(g->optimizer.type, "adam");
  EXPECT_EQ(expand_uids(*g).back(), "ffn.0.1");
}

TEST(ExpertSpecWire, BadValuesAreRefusedNamingTheKey) {
  auto m = to_wire(sample_group());
  auto with = [&](auto change) {
    auto x = m;
    change(x);
    return from_wire(x, "ffn.3", 8);
  };
  expect_bad(with([](auto& x) { x.optimizer_params["lr"] = -1; }),
             "spec.optimizer.lr: -1 out of range > 0");
  expect_bad(with([](auto& x) { x.optimizer_params["eps"] = std::nan(""); }),
             "spec.optimizer.eps: expected a number, got 'nan'");
  expect_bad(with([](auto& x) { x.optimizer_params["warmup_steps"] = 1.5; }),
             "spec.optimizer.warmup_steps: expected an integer, got '1.5'");
  expect_bad(with([](auto& x) { x.optimizer_params["lrr"] = 0.1; }),
             "spec.optimizer: unknown parameter 'lrr'");
  expect_bad(with([](auto& x) { x.optimizer_type = "adagrad"; }),
             "spec.optimizer.type: 'adagrad' is not one of adam|sgd");
  expect_bad(with([](auto& x) { x.module_type.clear(); }), "spec.module.type: required");
  expect_bad(with([](auto& x) { x.module_params["seed"] = 3; }), "spec.module.seed: ");
  expect_bad(with([](auto& x) { x.max_batch_size = 0; }),
             "spec.max_batch_size: 0 out of range");
  expect_bad(with([](auto& x) { x.checkpoint_on_mismatch = "maybe"; }),
             "spec.checkpoint.on_mismatch: 'maybe' is not one of fail|fresh");
  expect_bad(from_wire(m, "3ffn", 1), "prefix: invalid uid '3ffn.*'");
  expect_bad(from_wire(m, "ffn.3", 0), "count: 0 out of range");
}

TEST(ExpertSpecWire, SpecFileReadsOneGroupsKeys) {
  auto m = spec_from_yaml("max_batch_size: 32\n"
                          "module: {type: ffn, seed: 7, input_dim: 16}\n"
                          "optimizer: {type: sgd, lr: 0.5}\n"
                          "checkpoint: {dir: /tmp/c, every_updates: 10}\n");
  ASSERT_TRUE(m) << describe(m.error());
  EXPECT_EQ(m->max_batch_size, 32u);
  EXPECT_EQ(m->module_type, "ffn");
  EXPECT_EQ(m->module_seed, 7u);
  EXPECT_EQ(m->module_params, (std::map<std::string, double>{{"input_dim", 16}}));
  EXPECT_EQ(m->optimizer_type, "sgd");
  EXPECT_EQ(m->optimizer_params.at("lr"), 0.5);
  EXPECT_EQ(m->optimizer_params.at("beta2"), 0.999);
  EXPECT_EQ(m->checkpoint_dir, "/tmp/c");
  EXPECT_EQ(m->checkpoint_every_updates, 10u);
  auto g = from_wire(*m, "ffn.3", 4);
  ASSERT_TRUE(g) << describe(g.error());
  EXPECT_EQ(g->module.params.at("input_dim"), 16);
}

TEST(ExpertSpecWire, BadSpecFilesAreRefusedNamingTheKey) {
  expect_bad(spec_from_yaml("module: {type: ffn}\nmodul: {}\n"), "spec: unknown key 'modul'");
  expect_bad(spec_from_yaml("uid: ffn.0.*\nmodule: {type: ffn}\n"), "spec.uid: not allowed");
  expect_bad(spec_from_yaml("count: 2\nmodule: {type: ffn}\n"), "spec.count: not allowed");
  expect_bad(spec_from_yaml("module: {type: ffn}\noptimizer: {lr: fast}\n"),
             "spec.optimizer.lr: expected a number, got 'fast'");
  expect_bad(spec_from_yaml("module: {type: ffn}\noptimizer: {rate: 1}\n"),
             "unknown key 'rate' in spec.optimizer");
  expect_bad(spec_from_yaml("max_batch_size: 4\n"), "spec.module: required");
  expect_bad(spec_from_yaml("- a\n- b\n"), "spec: expected a map");
  expect_bad(spec_from_yaml("module: [\n"), "spec: invalid YAML");
}
