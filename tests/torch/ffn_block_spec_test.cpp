// Spec "ffn_block" (experiment 1's block): its output equals a hand-written
// torch reference over the same weights, for [B, d] and [B, T, d] inputs;
// schemas follow seq_input; bad configs are refused naming the key.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "actors/expert/expert_spec.hpp"
#include "messages/errc.hpp"

using namespace colony;
using namespace colony::expert;

namespace {

module_config block_config(double dim, double hidden, double seq = 0) {
  module_config cfg;
  cfg.type = "ffn_block";
  cfg.params = {{"dim", dim}, {"hidden", hidden}, {"seq_input", seq}};
  cfg.seed = 3;
  return cfg;
}

torch::Tensor param(expert_module& m, const std::string& name) {
  auto named = m.named_parameters();
  EXPECT_TRUE(named.contains(name)) << name;
  return named[name].detach();
}

/// x + W3 relu(W2 relu(W1 LN(x) + b1) + b2) + b3, LayerNorm written out
/// (biased variance, eps 1e-5 as torch's default).
torch::Tensor reference(expert_module& m, const torch::Tensor& x) {
  auto mean = x.mean(-1, true);
  auto var = (x - mean).pow(2).mean(-1, true);
  auto ln = (x - mean) / torch::sqrt(var + 1e-5) * param(m, "ln.weight") + param(m, "ln.bias");
  auto h = torch::relu(ln.matmul(param(m, "fc1.weight").t()) + param(m, "fc1.bias"));
  h = torch::relu(h.matmul(param(m, "fc2.weight").t()) + param(m, "fc2.bias"));
  return x + h.matmul(param(m, "fc3.weight").t()) + param(m, "fc3.bias");
}

} // namespace

TEST(FfnBlockSpecTest, MatchesHandWrittenReferenceOnRows) {
  auto built = make_module(block_config(8, 32));
  ASSERT_TRUE(built) << describe(built.error());
  // Non-trivial LayerNorm affine parameters, so that they are checked too.
  {
    torch::NoGradGuard no_grad;
    param(*built->module, "ln.weight").copy_(torch::linspace(0.5, 1.5, 8));
    param(*built->module, "ln.bias").copy_(torch::linspace(-0.2, 0.2, 8));
  }
  torch::manual_seed(11);
  auto x = torch::randn({5, 8});
  auto y = built->module->forward({x});
  ASSERT_EQ(y.size(), 1u);
  EXPECT_EQ(y[0].sizes(), x.sizes());
  auto want = reference(*built->module, x);
  EXPECT_TRUE(torch::allclose(y[0], want, 1e-5, 1e-5))
    << "max diff " << (y[0] - want).abs().max().item<float>();
  // The residual: the block does not just return x.
  EXPECT_GT((y[0] - x).abs().max().item<float>(), 1e-3);
}

TEST(FfnBlockSpecTest, MatchesReferenceOnSequencesAndHasSequenceSchema) {
  auto built = make_module(block_config(6, 12, 1));
  ASSERT_TRUE(built) << describe(built.error());
  ASSERT_EQ(built->inputs.size(), 1u);
  EXPECT_EQ(built->inputs[0].shape, (std::vector<int64_t>{-1, 6}));
  EXPECT_EQ(built->outputs[0].shape, (std::vector<int64_t>{-1, 6}));
  torch::manual_seed(12);
  auto x = torch::randn({3, 4, 6});
  auto y = built->module->forward({x});
  EXPECT_TRUE(torch::allclose(y[0], reference(*built->module, x), 1e-5, 1e-5));
}

TEST(FfnBlockSpecTest, ParameterCountAndDefaults) {
  module_config cfg;
  cfg.type = "ffn_block";
  cfg.params = {{"dim", 4}};
  std::map<std::string, double> resolved;
  auto built = make_module(cfg, resolved);
  ASSERT_TRUE(built) << describe(built.error());
  EXPECT_EQ(resolved.at("hidden"), 16); // 4 * dim
  EXPECT_EQ(resolved.at("seq_input"), 0);
  EXPECT_EQ(built->inputs[0].shape, (std::vector<int64_t>{4}));
  int64_t n = 0;
  for (auto& p : built->module->parameters())
    n += p.numel();
  // LN 2*4, fc1 4*16+16, fc2 16*16+16, fc3 16*4+4.
  EXPECT_EQ(n, 8 + 80 + 272 + 68);
}

TEST(FfnBlockSpecTest, SameSeedSameParameters) {
  auto a = make_module(block_config(8, 16));
  auto b = make_module(block_config(8, 16));
  ASSERT_TRUE(a && b);
  auto x = torch::ones({2, 8});
  EXPECT_TRUE(torch::equal(a->module->forward({x})[0], b->module->forward({x})[0]));
}

TEST(FfnBlockSpecTest, RefusesBadConfigNamingTheKey) {
  auto zero = make_module(block_config(0, 16));
  ASSERT_FALSE(zero);
  EXPECT_EQ(code_of(zero.error()), errc::bad_config);
  EXPECT_NE(describe(zero.error()).find("module.dim"), std::string::npos)
    << describe(zero.error());
  auto negative = make_module(block_config(8, -4));
  ASSERT_FALSE(negative);
  EXPECT_EQ(code_of(negative.error()), errc::bad_config);
  EXPECT_NE(describe(negative.error()).find("module.hidden"), std::string::npos);
  auto seq = make_module(block_config(8, 16, 2));
  ASSERT_FALSE(seq);
  EXPECT_NE(describe(seq.error()).find("module.seq_input"), std::string::npos);
  module_config unknown = block_config(8, 16);
  unknown.params["width"] = 3;
  auto u = make_module(unknown);
  ASSERT_FALSE(u);
  EXPECT_NE(describe(u.error()).find("module.width"), std::string::npos);
}
