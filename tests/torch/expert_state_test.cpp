// Expert modules, optimizer and checkpoints, without actors.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "actors/expert/expert_spec.hpp"
#include "actors/expert/expert_state.hpp"
#include "actors/expert/optimizer.hpp"
#include "messages/errc.hpp"

using namespace colony;
using namespace colony::expert;

namespace {

expert_group_config ffn_group(const std::string& opt = "sgd") {
  expert_group_config g;
  g.uid = "ffn.0.0";
  g.max_batch_size = 16;
  g.module.type = "ffn";
  g.module.params = {{"input_dim", 8}, {"hidden_dim", 16}, {"output_dim", 4}};
  g.module.seed = 7;
  g.optimizer.type = opt;
  g.optimizer.lr = 0.1;
  return g;
}

std::unique_ptr<expert_state> make_state(const expert_group_config& g) {
  auto st = expert_state::make(g.uid, g);
  EXPECT_TRUE(st) << describe(st.error());
  return st ? std::move(*st) : nullptr;
}

std::vector<torch::Tensor> params_of(expert_module& m) {
  std::vector<torch::Tensor> out;
  for (auto& p : m.parameters())
    out.push_back(p.detach().clone());
  return out;
}

bool same_params(expert_module& a, expert_module& b) {
  auto pa = params_of(a);
  auto pb = params_of(b);
  if (pa.size() != pb.size())
    return false;
  for (size_t i = 0; i < pa.size(); ++i)
    if (!torch::equal(pa[i], pb[i]))
      return false;
  return true;
}

bool close_params(expert_module& a, expert_module& b, double tol) {
  auto pa = params_of(a);
  auto pb = params_of(b);
  if (pa.size() != pb.size())
    return false;
  for (size_t i = 0; i < pa.size(); ++i)
    if (!torch::allclose(pa[i], pb[i], tol, tol))
      return false;
  return true;
}

/// A fresh module of `g` after one plain SGD step (lr of `g`) on the mean of
/// the parameter gradients of the batches (xs[i], gys[i]).
built_module mean_sgd_reference(const expert_group_config& g,
                                const std::vector<torch::Tensor>& xs,
                                const std::vector<torch::Tensor>& gys) {
  auto ref = make_module(g.module);
  EXPECT_TRUE(ref);
  for (size_t i = 0; i < xs.size(); ++i)
    torch::autograd::backward(ref->module->forward({xs[i]}), {gys[i]});
  for (auto& p : ref->module->parameters())
    p.mutable_grad().div_(static_cast<double>(xs.size()));
  torch::optim::SGD sgd{ref->module->parameters(), torch::optim::SGDOptions{g.optimizer.lr}};
  sgd.step();
  return std::move(*ref);
}

/// The mismatch error of loading a checkpoint made with another spec.
std::string mismatch(const std::string& path, const std::string& keys) {
  return "checkpoint " + path + " was made with a different spec: " + keys
         + " (set checkpoint.on_mismatch: fresh to start over)";
}

/// Files in `dir` whose name starts with `prefix`.
std::vector<std::string> files_starting(const std::filesystem::path& dir,
                                        const std::string& prefix) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::directory_iterator{dir})
    if (e.path().filename().string().rfind(prefix, 0) == 0)
      out.push_back(e.path().filename().string());
  return out;
}

std::string bytes_of(const std::filesystem::path& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    char tmpl[] = "/tmp/colony-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

} // namespace

TEST(ExpertSpecTest, RegistryHoldsEveryBuiltInSpec) {
  auto names = spec_names();
  for (auto want : {"det_dropout", "ffn", "nop_delay", "transformer"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
}

TEST(ExpertSpecTest, UnknownSpecAndUnknownParamAreConfigErrorsNamingThem) {
  module_config cfg;
  cfg.type = "mlp";
  auto bad = make_module(cfg);
  ASSERT_FALSE(bad);
  EXPECT_EQ(code_of(bad.error()), errc::bad_config);
  EXPECT_NE(context_of(bad.error()).find("'mlp'"), std::string::npos);
  cfg.type = "ffn";
  cfg.params = {{"input_dim", 4}, {"hiden_dim", 8}};
  bad = make_module(cfg);
  ASSERT_FALSE(bad);
  EXPECT_NE(context_of(bad.error()).find("module.hiden_dim"), std::string::npos);
  cfg.params = {{"input_dim", 2.5}};
  bad = make_module(cfg);
  ASSERT_FALSE(bad);
  EXPECT_NE(context_of(bad.error()).find("module.input_dim"), std::string::npos);
}

TEST(ExpertSpecTest, SameConfigGivesBitIdenticalParameters) {
  auto g = ffn_group();
  auto a = make_module(g.module);
  auto b = make_module(g.module);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(same_params(*a->module, *b->module));
  g.module.seed = 8;
  auto c = make_module(g.module);
  EXPECT_FALSE(same_params(*a->module, *c->module));
}

TEST(ExpertSpecTest, TransformerBlockMapsSequencesToSequences) {
  module_config cfg;
  cfg.type = "transformer";
  cfg.params = {{"d_model", 16}, {"heads", 4}, {"ff_dim", 32}};
  auto m = make_module(cfg);
  ASSERT_TRUE(m) << describe(m.error());
  auto x = torch::randn({3, 5, 16});
  auto y = m->module->forward({x})[0];
  EXPECT_EQ(y.sizes(), x.sizes());
  // Attention mixes positions within a sequence but never across the batch.
  auto y0 = m->module->forward({x.narrow(0, 0, 1)})[0];
  EXPECT_TRUE(torch::allclose(y.narrow(0, 0, 1), y0, 1e-5, 1e-5));
  cfg.params["heads"] = 5;
  EXPECT_FALSE(make_module(cfg));
}

TEST(ExpertSpecTest, DeterministicDropoutAppliesTheGivenMask) {
  module_config cfg;
  cfg.type = "det_dropout";
  cfg.params = {{"dim", 4}, {"keep_prob", 0.5}};
  auto m = make_module(cfg);
  ASSERT_TRUE(m);
  auto x = torch::ones({2, 4});
  auto mask = torch::tensor({{1.f, 0.f, 1.f, 0.f}, {0.f, 0.f, 1.f, 1.f}});
  auto y = m->module->forward({x, mask})[0];
  EXPECT_TRUE(torch::equal(y, mask * 2));
}

TEST(ExpertStateTest, ValidateNamesWantedAndGivenShapes) {
  auto st = make_state(ffn_group());
  auto err = st->validate({torch::zeros({2, 5})}, st->input_schema(), "inputs");
  EXPECT_EQ(code_of(err), errc::bad_shape);
  EXPECT_EQ(context_of(err), "inputs[0]: want [B, 8], got [2, 5]");
  err = st->validate({torch::zeros({2, 8}, torch::kFloat64)}, st->input_schema(), "inputs");
  EXPECT_EQ(code_of(err), errc::bad_dtype);
  EXPECT_EQ(context_of(err), "inputs[0]: want float32, got float64"); // wire spelling both
  err = st->validate({torch::zeros({2, 8}, torch::kComplexFloat)}, st->input_schema(), "inputs");
  EXPECT_EQ(context_of(err), "inputs[0]: want float32, got complexfloat (not a wire dtype)");
  err = st->validate({}, st->input_schema(), "inputs");
  EXPECT_EQ(code_of(err), errc::bad_request);
  EXPECT_FALSE(st->validate({torch::zeros({0, 8})}, st->input_schema(), "inputs"));
}

TEST(ExpertStateTest, BackwardMatchesLocalAutogradAndOneSgdStep) {
  auto g = ffn_group("sgd");
  auto st = make_state(g);
  auto local = make_module(g.module);
  ASSERT_TRUE(local);
  torch::optim::SGD sgd{local->module->parameters(), torch::optim::SGDOptions{0.1}};
  auto x = torch::randn({3, 8});
  auto gy = torch::randn({3, 4});
  auto xl = x.clone().requires_grad_(true);
  torch::autograd::backward(local->module->forward({xl}), {gy});
  sgd.step();
  auto gx = st->backward({x}, {gy});
  ASSERT_TRUE(gx) << describe(gx.error());
  EXPECT_TRUE(torch::allclose((*gx)[0], xl.grad(), 1e-6, 1e-6));
  EXPECT_TRUE(same_params(st->module(), *local->module));
  EXPECT_EQ(st->updates(), 1u);
  EXPECT_EQ(st->info().backward_samples, 3u);
}

TEST(ExpertStateTest, EmptyBatchBackwardLeavesParametersAndCountersAlone) {
  auto g = ffn_group("adam");
  auto st = make_state(g);
  ASSERT_TRUE(st->backward({torch::randn({2, 8})}, {torch::randn({2, 4})}));
  auto before = params_of(st->module());
  auto gx = st->backward({torch::zeros({0, 8})}, {torch::zeros({0, 4})});
  ASSERT_TRUE(gx) << describe(gx.error());
  EXPECT_EQ((*gx)[0].sizes(), (std::vector<int64_t>{0, 8}));
  EXPECT_EQ(st->updates(), 1u);
  auto after = params_of(st->module());
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_TRUE(torch::equal(before[i], after[i]));
}

TEST(ExpertStateTest, CheckpointRestoresParametersOptimizerAndCounters) {
  temp_dir dir;
  auto g = ffn_group("adam");
  g.checkpoint.dir = dir.path.string();
  auto a = make_state(g);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(a->backward({torch::randn({2, 8})}, {torch::randn({2, 4})}));
  ASSERT_FALSE(a->save_checkpoint());
  EXPECT_FALSE(std::filesystem::exists(a->checkpoint_path() + ".tmp"));
  auto b = make_state(g); // restores from the checkpoint at start
  EXPECT_EQ(b->updates(), 3u);
  EXPECT_TRUE(same_params(a->module(), b->module()));
  // Adam's moments came back too: the next step is identical on both.
  auto x = torch::randn({2, 8});
  auto gy = torch::randn({2, 4});
  ASSERT_TRUE(a->backward({x}, {gy}));
  ASSERT_TRUE(b->backward({x}, {gy}));
  EXPECT_TRUE(same_params(a->module(), b->module()));
}

TEST(ExpertStateTest, AccumulatedRowsMakeOneSgdStepOnTheMeanGradient) {
  auto g = ffn_group("sgd");
  g.optimizer.accumulate_rows = 8;
  auto st = make_state(g);
  torch::manual_seed(3);
  std::vector<torch::Tensor> xs{torch::randn({4, 8}), torch::randn({4, 8})};
  std::vector<torch::Tensor> gys{torch::randn({4, 4}), torch::randn({4, 4})};
  auto ref = mean_sgd_reference(g, xs, gys);
  auto initial = params_of(st->module());
  ASSERT_TRUE(st->backward({xs[0]}, {gys[0]}));
  EXPECT_EQ(st->updates(), 0u);
  auto pending = params_of(st->module());
  for (size_t i = 0; i < initial.size(); ++i)
    EXPECT_TRUE(torch::equal(initial[i], pending[i]));
  ASSERT_TRUE(st->backward({xs[1]}, {gys[1]}));
  EXPECT_EQ(st->updates(), 1u);
  EXPECT_EQ(st->info().backward_samples, 8u);
  EXPECT_EQ(st->info().backward_batches, 2u);
  EXPECT_TRUE(close_params(st->module(), *ref.module, 1e-6));
}

TEST(ExpertStateTest, BatchOfAtLeastAccumulateRowsStepsAtOnce) {
  auto g = ffn_group("sgd");
  g.optimizer.accumulate_rows = 3;
  auto st = make_state(g);
  torch::manual_seed(4);
  auto x = torch::randn({4, 8});
  auto gy = torch::randn({4, 4});
  auto ref = mean_sgd_reference(g, {x}, {gy});
  ASSERT_TRUE(st->backward({x}, {gy}));
  EXPECT_EQ(st->updates(), 1u);
  EXPECT_TRUE(close_params(st->module(), *ref.module, 1e-6));
}

TEST(ExpertStateTest, EmptyBatchKeepsPendingGradients) {
  auto g = ffn_group("sgd");
  g.optimizer.accumulate_rows = 8;
  auto st = make_state(g);
  torch::manual_seed(5);
  std::vector<torch::Tensor> xs{torch::randn({4, 8}), torch::randn({4, 8})};
  std::vector<torch::Tensor> gys{torch::randn({4, 4}), torch::randn({4, 4})};
  auto ref = mean_sgd_reference(g, xs, gys);
  ASSERT_TRUE(st->backward({xs[0]}, {gys[0]}));
  auto gx = st->backward({torch::zeros({0, 8})}, {torch::zeros({0, 4})});
  ASSERT_TRUE(gx) << describe(gx.error());
  EXPECT_EQ((*gx)[0].sizes(), (std::vector<int64_t>{0, 8}));
  EXPECT_EQ(st->updates(), 0u);
  ASSERT_TRUE(st->backward({xs[1]}, {gys[1]}));
  EXPECT_EQ(st->updates(), 1u);
  EXPECT_TRUE(close_params(st->module(), *ref.module, 1e-6));
}

TEST(ExpertStateTest, CheckpointIsDueOnlyAfterAStep) {
  temp_dir dir;
  auto g = ffn_group("sgd");
  g.optimizer.accumulate_rows = 8;
  g.checkpoint.dir = dir.path.string();
  g.checkpoint.every_updates = 1;
  auto st = make_state(g);
  auto batch = [&](int64_t rows) {
    ASSERT_TRUE(st->backward({torch::randn({rows, 8})}, {torch::randn({rows, 4})}));
  };
  batch(4);
  EXPECT_FALSE(st->checkpoint_due());
  batch(4);
  EXPECT_TRUE(st->checkpoint_due());
  batch(4);
  EXPECT_FALSE(st->checkpoint_due()); // still 1 update, but no new step
  batch(0);
  EXPECT_FALSE(st->checkpoint_due());
}

TEST(ExpertStateTest, CheckpointWithPendingGradientsRestoresTheLastStep) {
  temp_dir dir;
  auto g = ffn_group("adam");
  g.optimizer.accumulate_rows = 8;
  g.checkpoint.dir = dir.path.string();
  auto a = make_state(g);
  for (int i = 0; i < 3; ++i) // steps after the second, the third stays pending
    ASSERT_TRUE(a->backward({torch::randn({4, 8})}, {torch::randn({4, 4})}));
  ASSERT_EQ(a->updates(), 1u);
  ASSERT_FALSE(a->save_checkpoint());
  auto b = make_state(g);
  EXPECT_EQ(b->updates(), 1u);
  EXPECT_EQ(b->info().backward_samples, 12u); // rows received, pending ones too
  EXPECT_TRUE(same_params(a->module(), b->module()));
  // Loading drops a's pending gradients: both continue from the same state.
  ASSERT_FALSE(a->load_checkpoint());
  for (int i = 0; i < 2; ++i) {
    auto x = torch::randn({4, 8});
    auto gy = torch::randn({4, 4});
    ASSERT_TRUE(a->backward({x}, {gy}));
    ASSERT_TRUE(b->backward({x}, {gy}));
  }
  EXPECT_EQ(a->updates(), 2u);
  EXPECT_EQ(b->updates(), 2u);
  EXPECT_TRUE(same_params(a->module(), b->module()));
}

TEST(ExpertStateTest, CorruptCheckpointIsAnIoErrorNotACrash) {
  temp_dir dir;
  auto g = ffn_group();
  g.checkpoint.dir = dir.path.string();
  {
    std::ofstream out{(dir.path / "ffn.0.0.pt").string()};
    out << "not a checkpoint";
  }
  auto st = expert_state::make(g.uid, g);
  ASSERT_FALSE(st);
  EXPECT_EQ(code_of(st.error()), errc::io_failed);
}

TEST(OptimizerTest, LinearWarmupThenLinearDecay) {
  optimizer_config cfg;
  cfg.lr = 1.0;
  cfg.warmup_steps = 4;
  cfg.total_steps = 12;
  EXPECT_DOUBLE_EQ(scheduled_lr(cfg, 0), 0.25);
  EXPECT_DOUBLE_EQ(scheduled_lr(cfg, 3), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(cfg, 4), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(cfg, 8), 0.5);
  EXPECT_DOUBLE_EQ(scheduled_lr(cfg, 12), 0.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(cfg, 100), 0.0);
  cfg.warmup_steps = 0;
  cfg.total_steps = 0;
  EXPECT_DOUBLE_EQ(scheduled_lr(cfg, 1000), 1.0);
}

TEST(OptimizerTest, ClipsTheGlobalGradientNorm) {
  auto p = torch::zeros({2}, torch::requires_grad());
  optimizer_config cfg;
  cfg.type = "sgd";
  cfg.lr = 1.0;
  cfg.clip_grad_norm = 1.0;
  auto opt = expert_optimizer::make(cfg, {p});
  ASSERT_TRUE(opt);
  p.mutable_grad() = torch::tensor({3.f, 4.f});
  (*opt)->step(0);
  EXPECT_TRUE(torch::allclose(p.detach(), torch::tensor({-0.6f, -0.8f}), 1e-6, 1e-6));
  cfg.type = "rmsprop";
  EXPECT_EQ(code_of(expert_optimizer::make(cfg, {p}).error()), errc::bad_config);
}

// -- checkpoints that do not match their spec -----------------------------------

namespace {

/// A group with a checkpoint dir whose first state trained 3 steps and saved.
std::unique_ptr<expert_state> saved_after_steps(const expert_group_config& g) {
  auto st = make_state(g);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(st->backward({torch::randn({2, 8})}, {torch::randn({2, 4})}));
  EXPECT_FALSE(st->save_checkpoint());
  return st;
}

} // namespace

TEST(CheckpointSpecTest, ChangedHiddenDimIsAMismatchNamingFileAndKey) {
  temp_dir dir;
  auto g = ffn_group("adam");
  g.module.params["hidden_dim"] = 32;
  g.checkpoint.dir = dir.path.string();
  auto a = saved_after_steps(g);
  auto before = bytes_of(a->checkpoint_path());
  g.module.params["hidden_dim"] = 48;
  auto b = expert_state::make(g.uid, g);
  ASSERT_FALSE(b);
  EXPECT_EQ(code_of(b.error()), errc::bad_config);
  EXPECT_EQ(context_of(b.error()), mismatch(a->checkpoint_path(), "module.hidden_dim 32 -> 48"));
  EXPECT_EQ(bytes_of(a->checkpoint_path()), before); // left alone
}

TEST(CheckpointSpecTest, ChangedInputDimIsAMismatch) {
  temp_dir dir;
  auto g = ffn_group("sgd");
  g.checkpoint.dir = dir.path.string();
  auto a = saved_after_steps(g);
  g.module.params["input_dim"] = 12;
  auto b = expert_state::make(g.uid, g);
  ASSERT_FALSE(b);
  EXPECT_EQ(code_of(b.error()), errc::bad_config);
  EXPECT_EQ(context_of(b.error()), mismatch(a->checkpoint_path(), "module.input_dim 8 -> 12"));
}

TEST(CheckpointSpecTest, AdamToSgdIsAClearMismatchNotATorchAssert) {
  temp_dir dir;
  auto g = ffn_group("adam");
  g.checkpoint.dir = dir.path.string();
  auto a = saved_after_steps(g);
  g.optimizer.type = "sgd";
  auto b = expert_state::make(g.uid, g);
  ASSERT_FALSE(b);
  EXPECT_EQ(code_of(b.error()), errc::bad_config);
  auto ctx = context_of(b.error());
  EXPECT_EQ(ctx, mismatch(a->checkpoint_path(), "optimizer.type adam -> sgd"));
  EXPECT_EQ(ctx.find("PyTorch"), std::string::npos);
  EXPECT_EQ(ctx.find("ASSERT"), std::string::npos);
}

TEST(CheckpointSpecTest, SeveralChangedKeysAreAllNamed) {
  temp_dir dir;
  auto g = ffn_group("adam");
  g.checkpoint.dir = dir.path.string();
  auto a = saved_after_steps(g);
  g.module.params["hidden_dim"] = 20;
  g.optimizer.type = "sgd";
  auto b = expert_state::make(g.uid, g);
  ASSERT_FALSE(b);
  EXPECT_EQ(context_of(b.error()),
            mismatch(a->checkpoint_path(),
                     "module.hidden_dim 16 -> 20; optimizer.type adam -> sgd"));
}

TEST(CheckpointSpecTest, FreshMovesTheOldFileAsideAndStartsFromTheSeed) {
  temp_dir dir;
  auto g = ffn_group("adam");
  g.checkpoint.dir = dir.path.string();
  auto a = saved_after_steps(g);
  auto before = bytes_of(a->checkpoint_path());
  g.optimizer.type = "sgd";
  g.checkpoint.on_mismatch = "fresh";
  auto b = make_state(g);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->updates(), 0u);
  EXPECT_FALSE(same_params(a->module(), b->module()));
  auto seeded = make_module(g.module);
  ASSERT_TRUE(seeded);
  EXPECT_TRUE(same_params(b->module(), *seeded->module));
  EXPECT_FALSE(std::filesystem::exists(a->checkpoint_path()));
  auto moved = files_starting(dir.path, "ffn.0.0.pt.mismatch-");
  ASSERT_EQ(moved.size(), 1u);
  auto stamp = moved[0].substr(std::string{"ffn.0.0.pt.mismatch-"}.size());
  EXPECT_FALSE(stamp.empty());
  EXPECT_EQ(stamp.find_first_not_of("0123456789"), std::string::npos) << stamp;
  EXPECT_EQ(bytes_of(dir.path / moved[0]), before);
  // The next save writes the new spec's checkpoint; the old one stays aside.
  ASSERT_FALSE(b->save_checkpoint());
  EXPECT_EQ(make_state(g)->updates(), 0u);
  EXPECT_EQ(files_starting(dir.path, "ffn.0.0.pt.mismatch-").size(), 1u);
}

TEST(CheckpointSpecTest, ChangedLrResumesWithTheSavedParameters) {
  temp_dir dir;
  auto g = ffn_group("adam");
  g.checkpoint.dir = dir.path.string();
  auto a = saved_after_steps(g);
  g.optimizer.lr = 0.05;
  g.optimizer.warmup_steps = 10;
  auto b = make_state(g);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->updates(), 3u);
  EXPECT_TRUE(same_params(a->module(), b->module())); // torch::equal: 0 tolerance
  EXPECT_TRUE(files_starting(dir.path, "ffn.0.0.pt.mismatch-").empty());
}

TEST(CheckpointSpecTest, CheckpointWithoutRecordedSpecIsAClearError) {
  temp_dir dir;
  auto g = ffn_group("sgd");
  g.checkpoint.dir = dir.path.string();
  auto path = (dir.path / "ffn.0.0.pt").string();
  {
    // The layout Colony wrote before checkpoints recorded their spec.
    auto built = make_module(g.module);
    ASSERT_TRUE(built);
    torch::optim::SGD sgd{built->module->parameters(), torch::optim::SGDOptions{0.1}};
    torch::serialize::OutputArchive root, mod, opt;
    built->module->save(mod);
    sgd.save(opt);
    root.write("module", mod);
    root.write("optimizer", opt);
    root.write("counters", torch::zeros({5}, torch::kInt64));
    root.save_to(path);
  }
  auto st = expert_state::make(g.uid, g);
  ASSERT_FALSE(st);
  EXPECT_EQ(code_of(st.error()), errc::bad_config);
  EXPECT_EQ(context_of(st.error()),
            "checkpoint " + path + " has no recorded spec (an older Colony wrote it), so it"
            " cannot be checked against the current one (set checkpoint.on_mismatch: fresh"
            " to start over)");
  g.checkpoint.on_mismatch = "fresh";
  EXPECT_TRUE(make_state(g));
  EXPECT_EQ(files_starting(dir.path, "ffn.0.0.pt.mismatch-").size(), 1u);
}

TEST(CheckpointSpecTest, DirUnderARegularFileFailsAtMakeNamingThePath) {
  temp_dir dir;
  auto file = dir.path / "plain";
  std::ofstream{file.string()} << "x";
  auto g = ffn_group();
  g.checkpoint.dir = (file / "ckpt").string();
  auto st = expert_state::make(g.uid, g);
  ASSERT_FALSE(st);
  EXPECT_EQ(code_of(st.error()), errc::io_failed);
  EXPECT_EQ(context_of(st.error()),
            "checkpoint.dir '" + g.checkpoint.dir + "': cannot create: Not a directory");
}

TEST(CheckpointSpecTest, MissingDirIsCreatedAndLeftWithoutProbeFiles) {
  temp_dir dir;
  auto g = ffn_group();
  g.checkpoint.dir = (dir.path / "a" / "b").string();
  ASSERT_TRUE(make_state(g));
  EXPECT_TRUE(std::filesystem::is_directory(g.checkpoint.dir));
  EXPECT_TRUE(std::filesystem::is_empty(g.checkpoint.dir));
}
