// Spec "transformer": one pre-norm Transformer encoder block on sequences
// [B, T, d_model]: x + SelfAttention(LN(x)), then x + FFN(LN(x)).
#include <torch/torch.h>

#include "messages/errc.hpp"

#include "actors/expert/expert_spec.hpp"

namespace colony::expert {
namespace {

class transformer_module : public expert_module {
public:
  transformer_module(int64_t d_model, int64_t heads, int64_t ff_dim)
    : ln1_(register_module("ln1", torch::nn::LayerNorm(
                                    torch::nn::LayerNormOptions({d_model})))),
      attn_(register_module("attn", torch::nn::MultiheadAttention(d_model, heads))),
      ln2_(register_module("ln2", torch::nn::LayerNorm(
                                    torch::nn::LayerNormOptions({d_model})))),
      fc1_(register_module("fc1", torch::nn::Linear(d_model, ff_dim))),
      fc2_(register_module("fc2", torch::nn::Linear(ff_dim, d_model))) {
    // nop
  }

  std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& xs) override {
    // MultiheadAttention of torch 1.13's C++ API wants [T, B, D].
    auto x = xs[0];
    auto h = ln1_->forward(x).transpose(0, 1);
    auto attended = std::get<0>(attn_->forward(h, h, h)).transpose(0, 1);
    x = x + attended;
    x = x + fc2_->forward(torch::gelu(fc1_->forward(ln2_->forward(x))));
    return {x};
  }

private:
  torch::nn::LayerNorm ln1_;
  torch::nn::MultiheadAttention attn_;
  torch::nn::LayerNorm ln2_;
  torch::nn::Linear fc1_;
  torch::nn::Linear fc2_;
};

caf::expected<built_module> make_transformer(spec_params& p) {
  auto d = p.get_int("d_model", 512);
  auto heads = p.get_int("heads", 8);
  auto ff = p.get_int("ff_dim", 4 * d);
  if (d % heads != 0)
    return make_error(errc::bad_config, "module.d_model: " + std::to_string(d)
                                          + " is not divisible by heads="
                                          + std::to_string(heads));
  return built_module{std::make_shared<transformer_module>(d, heads, ff),
                      {tensor_schema{{-1, d}, "float32"}},
                      {tensor_schema{{-1, d}, "float32"}}};
}

} // namespace

COLONY_REGISTER_EXPERT_SPEC("transformer", make_transformer);

} // namespace colony::expert
