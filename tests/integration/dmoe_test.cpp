// The DMoE layer end to end: gate actor, beam search over a DHT swarm,
// remote experts on loopback nodes, the autograd function. Numbers are
// checked against the same modules computed locally.
#include <gtest/gtest.h>

#include "actors/trainer/model.hpp"
#include "tests/integration/dmoe_support.hpp"

using namespace colony;
using namespace colony::it;

namespace {

const std::vector<std::string> four = {"ffn.0.0", "ffn.0.1", "ffn.0.2", "ffn.0.3"};

class DmoeTest : public ::testing::Test {
protected:
  DmoeTest() : cfg_(parse_or_throw(distinct_ffn_yaml(four))), node_(cfg_) {
    client_.declare(four, node_.where());
  }

  /// The mixture the layer must compute, with the same gating network and
  /// local copies of the experts: top-k by score, softmax over the top-k.
  torch::Tensor reference(gate::dmoe_layerImpl& layer, const torch::Tensor& x, size_t k) {
    torch::NoGradGuard no_grad;
    auto logits = layer.gating_logits(x);
    auto out = torch::zeros({x.size(0), 8});
    for (int64_t b = 0; b < x.size(0); ++b) {
      std::vector<std::pair<float, int64_t>> s;
      for (int64_t j = 0; j < 4; ++j)
        s.emplace_back(logits[b][0].item<float>() + logits[b][1 + j].item<float>(), j);
      std::sort(s.begin(), s.end(), [](auto& a, auto& c) { return a.first > c.first; });
      auto w = torch::softmax(torch::tensor({s[0].first, s[1].first}).narrow(0, 0, k), 0);
      for (size_t i = 0; i < k; ++i) {
        auto m = local_module(cfg_, s[i].second);
        out[b] += w[i] * local_forward(*m, x.narrow(0, b, 1))[0];
      }
    }
    return out;
  }

  node_config cfg_;
  in_process_node node_;
  dmoe_client client_;
};

} // namespace

TEST_F(DmoeTest, OutputEqualsHandComputedMixtureOfLocalModules) {
  auto layer = client_.layer(small_gate("ffn", 4, 2));
  auto x = seeded_randn({6, 8}, 11);
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = layer->forward(x);
  }
  EXPECT_TRUE(near(y, reference(*layer, x, 2), 1e-5));
  auto s = layer->take_stats();
  EXPECT_LE(s.asked, 4u); // one request per chosen expert, not per (sample, expert)
  EXPECT_EQ(s.asked, s.answered);
}

TEST_F(DmoeTest, GradientsMatchFiniteDifferences) {
  auto layer = client_.layer(small_gate("ffn", 4, 2));
  auto x = seeded_randn({4, 8}, 12);
  auto r = seeded_randn({4, 8}, 13);
  auto objective = [&](const torch::Tensor& in) {
    torch::NoGradGuard no_grad;
    return (layer->forward(in) * r).sum().item<double>();
  };
  // Finite differences first: forwards only, so the experts do not change.
  const double eps = 1e-2;
  auto& bias = layer->gating->bias;
  std::vector<double> fd_bias;
  for (int64_t i = 0; i < bias.size(0); ++i) {
    double v;
    {
      torch::NoGradGuard no_grad;
      v = bias[i].item<double>();
      bias[i] = v + eps;
    }
    auto up = objective(x);
    {
      torch::NoGradGuard no_grad;
      bias[i] = v - eps;
    }
    auto down = objective(x);
    {
      torch::NoGradGuard no_grad;
      bias[i] = v;
    }
    fd_bias.push_back((up - down) / (2 * eps));
  }
  std::vector<double> fd_x;
  for (int64_t i = 0; i < 8; ++i) {
    auto up = x.clone(), down = x.clone();
    up[1][i] += eps;
    down[1][i] -= eps;
    fd_x.push_back((objective(up) - objective(down)) / (2 * eps));
  }
  auto xg = x.clone().requires_grad_(true);
  (layer->forward(xg) * r).sum().backward();
  for (int64_t i = 0; i < bias.size(0); ++i)
    EXPECT_NEAR(bias.grad()[i].item<double>(), fd_bias[i], 2e-3) << "bias " << i;
  for (int64_t i = 0; i < 8; ++i)
    EXPECT_NEAR(xg.grad()[1][i].item<double>(), fd_x[i], 2e-3) << "x[1][" << i << "]";
}

TEST_F(DmoeTest, ExpertsMoveAsALocalStepOnTheSameGradientsWould) {
  auto layer = client_.layer(small_gate("ffn", 4, 4)); // every expert gets every row
  auto x = seeded_randn({3, 8}, 14);
  auto r = seeded_randn({3, 8}, 15);
  torch::Tensor w;
  {
    torch::NoGradGuard no_grad;
    auto logits = layer->gating_logits(x);
    auto scores = logits.narrow(1, 0, 1) + logits.narrow(1, 1, 4); // [3, 4]
    w = torch::softmax(scores, 1);
  }
  (layer->forward(x) * r).sum().backward();
  auto probe = seeded_randn({2, 8}, 16);
  for (int64_t j = 0; j < 4; ++j) {
    auto m = local_module(cfg_, j);
    auto params = m->parameters();
    auto out = m->forward({x})[0];
    (out * (r * w.narrow(1, j, 1))).sum().backward();
    {
      torch::NoGradGuard no_grad;
      for (auto& p : params)
        p -= 0.1 * p.grad();
    }
    auto remote = remote_expert{client_.conns(), node_.where(), four[j]}.forward(blobs({probe}));

    ASSERT_TRUE(remote) << describe(remote.error());
    EXPECT_TRUE(near(to_tensor((*remote)[0]), local_forward(*m, probe), 1e-5)) << four[j];
  }
}

TEST_F(DmoeTest, PrefixWithNoExpertsIsAClearError) {
  auto layer = client_.layer(small_gate("nothing", 4, 2));
  auto start = steady::now();
  try {
    torch::NoGradGuard no_grad;
    layer->forward(seeded_randn({2, 8}, 1));
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find("not_found"), std::string::npos) << e.what();
    EXPECT_NE(std::string{e.what()}.find("nothing."), std::string::npos) << e.what();
  }
  EXPECT_LT(ms_since(start), 5000);
}

TEST_F(DmoeTest, WrongShapedInputIsAClearError) {
  auto gate = client_.spawn_gate(small_gate("ffn", 4, 2));
  caf::scoped_actor self{client_.system()};
  gate_forward_request req{to_blob(seeded_randn({2, 7}, 1)), std::vector<float>(10, 0.f)};
  bool failed = false;
  self->request(gate, std::chrono::seconds{10}, std::move(req))
    .receive([](gate_forward_reply&) {},
             [&](caf::error& err) {
               failed = true;
               EXPECT_EQ(code_of(err), errc::bad_shape) << describe(err);
               EXPECT_NE(context_of(err).find("[2, 7]"), std::string::npos) << describe(err);
             });
  EXPECT_TRUE(failed);
  gate_forward_request bad_scores{to_blob(seeded_randn({2, 8}, 1)), std::vector<float>(7, 0.f)};
  failed = false;
  self->request(gate, std::chrono::seconds{10}, std::move(bad_scores))
    .receive([](gate_forward_reply&) {},
             [&](caf::error& err) {
               failed = true;
               EXPECT_EQ(code_of(err), errc::bad_shape) << describe(err);
             });
  EXPECT_TRUE(failed);
}

TEST_F(DmoeTest, SampleWithNoAnswersFollowsThePolicy) {
  // "gone" experts are declared at a port where nothing listens.
  std::vector<std::string> gone = {"gone.0.0", "gone.0.1"};
  client_.declare(gone, endpoint{"127.0.0.1", dead_port()});
  auto cfg = small_gate("gone", 2, 2);
  cfg.forward_timeout_s = 3;
  {
    auto layer = client_.layer(cfg);
    torch::NoGradGuard no_grad;
    auto y = layer->forward(seeded_randn({3, 8}, 2));
    EXPECT_EQ(y.abs().sum().item<double>(), 0.0);
    EXPECT_FALSE(torch::isnan(y).any().item<bool>());
    EXPECT_EQ(layer->take_stats().short_samples, 3u);
  }
  cfg.allow_zero_outputs = false;
  auto layer = client_.layer(cfg);
  try {
    torch::NoGradGuard no_grad;
    layer->forward(seeded_randn({3, 8}, 2));
    FAIL() << "expected too_few_experts";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find("too_few_experts"), std::string::npos) << e.what();
    EXPECT_NE(std::string{e.what()}.find("0 of k_min=1"), std::string::npos) << e.what();
  }
  // The failed call still counts its requests (progress lines of failed
  // steps used to say experts_asked=0).
  auto s = layer->take_stats();
  EXPECT_GT(s.asked, 0u);
  EXPECT_EQ(s.answered, 0u);
}

TEST_F(DmoeTest, MaskedSoftmaxIsFiniteForRowsWithoutAnswers) {
  auto scores = torch::tensor({{1.f, 2.f}, {3.f, -1e30f}, {5.f, 6.f}}).requires_grad_(true);
  auto mask = torch::tensor({{1.f, 1.f}, {1.f, 0.f}, {0.f, 0.f}});
  auto w = gate::masked_softmax(scores, mask);
  w.sum().backward();
  EXPECT_TRUE(torch::isfinite(w).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(scores.grad()).all().item<bool>());
  EXPECT_NEAR(w[1][0].item<float>(), 1.f, 1e-6);
  EXPECT_EQ(w[2].abs().sum().item<float>(), 0.f);
  EXPECT_NEAR(w[0][1].item<float>(), std::exp(2.f) / (std::exp(1.f) + std::exp(2.f)), 1e-6);
}

TEST_F(DmoeTest, ExpertKilledBetweenForwardAndBackwardLosesOnlyItsShare) {
  std::vector<std::string> more = {"ffn.1.0", "ffn.1.1"};
  auto other_cfg = parse_or_throw(distinct_ffn_yaml(more, 11));
  auto other = std::make_unique<in_process_node>(other_cfg);
  client_.declare(more, other->where());
  auto g = small_gate("ffn", 4, 4);
  g.grid.dims = {2, 4}; // ffn.0.0-3 here, ffn.1.0-1 on the other node
  auto layer = client_.layer(g);
  auto x = seeded_randn({3, 8}, 21).requires_grad_(true);
  auto y = layer->forward(x);
  auto s = layer->take_stats();
  ASSERT_EQ(s.answered, s.asked);
  other.reset(); // the other node goes away before the backward
  y.sum().backward();
  auto b = layer->take_stats();
  EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>());
  EXPECT_LT(b.backward_answered, b.backward_asked); // the dead node's experts failed ...
  uint64_t updated = 0; // ... and the experts on the live node made their step
  for (auto& uid : four) {
    auto info = remote_expert{client_.conns(), node_.where(), uid}.info();
    ASSERT_TRUE(info) << describe(info.error());
    updated += info->updates;
  }
  EXPECT_EQ(updated, b.backward_answered);
  EXPECT_GT(updated, 0u);
}

TEST_F(DmoeTest, ModelParallelLayerAveragesItsFixedExpertsCalledInSequence) {
  auto conns = std::make_shared<node_connections>(client_.system());
  using expert_list = std::vector<std::pair<std::string, endpoint>>;
  caf::timespan timeout = std::chrono::seconds{5};
  trainer::fixed_experts_layer layer(
    conns, expert_list{{"ffn.0.0", node_.where()}, {"ffn.0.2", node_.where()}}, timeout);
  auto x = seeded_randn({4, 8}, 31);
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = layer->forward(x);
  }
  auto a = local_forward(*local_module(cfg_, 0), x);
  auto b = local_forward(*local_module(cfg_, 2), x);
  EXPECT_TRUE(near(y, (a + b) / 2, 1e-5));
  auto missing = std::make_shared<node_connections>(client_.system());
  trainer::fixed_experts_layer broken(missing, expert_list{{"ffn.9.9", node_.where()}},
                                      timeout);
  torch::NoGradGuard no_grad;
  EXPECT_THROW(broken->forward(x), std::runtime_error); // never skipped: the step fails
}
