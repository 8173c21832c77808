// The language models of experiment 3 (see lm_model.hpp).
#include "bench/experiments/lm/lm_model.hpp"

#include <stdexcept>

#include <torch/torch.h>

#include "actors/expert/expert_spec.hpp"
#include "messages/errc.hpp"

namespace colony::lm {

lm_shape shape_for(const std::string& model, int64_t vocab, int64_t context, int64_t layers) {
  lm_shape s;
  s.vocab = vocab;
  s.context = context;
  s.layers = layers;
  bool large = model == "large";
  s.d_model = large ? 128 : 64;
  s.ff_dim = large ? 288 : 144;
  s.heads = large ? 8 : 4;
  return s;
}

lm_block local_block(const lm_shape& s, uint64_t seed) {
  module_config cfg;
  cfg.type = "transformer";
  cfg.params = {{"d_model", static_cast<double>(s.d_model)},
                {"heads", static_cast<double>(s.heads)},
                {"ff_dim", static_cast<double>(s.ff_dim)}};
  cfg.seed = seed;
  auto built = expert::make_module(cfg);
  if (!built)
    throw std::runtime_error("transformer block: " + describe(built.error()));
  auto m = built->module;
  return {m, [m](const torch::Tensor& x) { return m->forward({x})[0]; }};
}

lm_netImpl::lm_netImpl(const lm_shape& s, std::vector<lm_block> blocks, uint64_t seed)
  : shape_(s), blocks_(std::move(blocks)) {
  torch::manual_seed(seed);
  embed_ = register_module("embed", torch::nn::Embedding(s.vocab, s.d_model));
  pos_ = register_parameter("pos", torch::randn({s.context, s.d_model}) * 0.02);
  ln_ = register_module("ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({s.d_model})));
  head_ = register_module("head", torch::nn::Linear(s.d_model, s.vocab));
  torch::NoGradGuard no_grad;
  embed_->weight.normal_(0, 0.02);
  head_->weight.normal_(0, 0.02);
  head_->bias.zero_();
  for (size_t i = 0; i < blocks_.size(); ++i)
    register_module("block" + std::to_string(i), blocks_[i].module);
}

torch::Tensor lm_netImpl::forward(const torch::Tensor& tokens) {
  auto h = embed_->forward(tokens) + pos_.unsqueeze(0);
  for (auto& b : blocks_)
    h = b.run(h);
  return head_->forward(ln_->forward(h.select(1, h.size(1) - 1)));
}

lm_batch sample_batch(const std::vector<int32_t>& stream, int64_t context, int64_t batch,
                      std::mt19937_64& rng) {
  std::uniform_int_distribution<size_t> pick{0, stream.size() - static_cast<size_t>(context) - 1};
  auto inputs = torch::empty({batch, context}, torch::kLong);
  auto targets = torch::empty({batch}, torch::kLong);
  auto* in = inputs.data_ptr<int64_t>();
  auto* out = targets.data_ptr<int64_t>();
  for (int64_t b = 0; b < batch; ++b) {
    auto p = pick(rng);
    for (int64_t t = 0; t < context; ++t)
      in[b * context + t] = stream[p + static_cast<size_t>(t)];
    out[b] = stream[p + static_cast<size_t>(context)];
  }
  return {inputs, targets};
}

lm_batch fixed_windows(const std::vector<int32_t>& stream, int64_t context, int64_t count) {
  auto inputs = torch::empty({count, context}, torch::kLong);
  auto targets = torch::empty({count}, torch::kLong);
  auto* in = inputs.data_ptr<int64_t>();
  auto* out = targets.data_ptr<int64_t>();
  auto span = static_cast<double>(stream.size() - static_cast<size_t>(context) - 1);
  for (int64_t b = 0; b < count; ++b) {
    auto p = static_cast<size_t>(span * static_cast<double>(b) / static_cast<double>(count));
    for (int64_t t = 0; t < context; ++t)
      in[b * context + t] = stream[p + static_cast<size_t>(t)];
    out[b] = stream[p + static_cast<size_t>(context)];
  }
  return {inputs, targets};
}

double mean_cross_entropy(lm_net& net, const lm_batch& w, int64_t chunk) {
  torch::NoGradGuard no_grad;
  double sum = 0;
  auto n = w.inputs.size(0);
  for (int64_t at = 0; at < n; at += chunk) {
    auto len = std::min(chunk, n - at);
    auto logits = net->forward(w.inputs.narrow(0, at, len));
    sum += torch::nn::functional::cross_entropy(
             logits, w.targets.narrow(0, at, len),
             torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
             .item<double>();
  }
  return sum / static_cast<double>(n);
}

int64_t block_params(const lm_shape& s) {
  auto d = s.d_model, f = s.ff_dim;
  return 4 * d * d + 4 * d   // attention in/out projections
         + 2 * d * f + f + d // feed-forward
         + 4 * d;            // two LayerNorms
}

double block_flops(const lm_shape& s) {
  double d = static_cast<double>(s.d_model), f = static_cast<double>(s.ff_dim);
  double t = static_cast<double>(s.context);
  double per_token = 2 * (4 * d * d + 2 * d * f) + 2 * 2 * t * d; // projections + QK^T, AV
  return per_token * t;
}

double head_flops(const lm_shape& s) {
  return 2.0 * static_cast<double>(s.d_model) * static_cast<double>(s.vocab);
}

void copy_parameters(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto src = from.parameters();
  auto dst = to.parameters();
  for (size_t i = 0; i < src.size(); ++i)
    dst[i].copy_(src[i]);
}

void add_gradients(torch::nn::Module& from, torch::nn::Module& to) {
  auto src = from.parameters();
  auto dst = to.parameters();
  for (size_t i = 0; i < src.size(); ++i) {
    auto& g = dst[i].mutable_grad();
    if (!g.defined())
      g = torch::zeros_like(dst[i]);
    if (src[i].grad().defined())
      g.add_(src[i].grad());
  }
}

int64_t count_parameters(torch::nn::Module& m) {
  int64_t n = 0;
  for (auto& p : m.parameters())
    n += p.numel();
  return n;
}

} // namespace colony::lm
