// Spec "ffn_block": the feed-forward block of the Learning@home throughput
// prototype (paper section 4.1), d -> h -> h -> d with a pre-LayerNorm and
// a residual: x + fc3(relu(fc2(relu(fc1(LayerNorm(x)))))).
// Params: dim (d), hidden (h, default 4 d), seq_input (0: inputs [B, d];
// 1: inputs [B, T, d], e.g. token sequences).
#include <torch/torch.h>

#include "messages/errc.hpp"

#include "actors/expert/expert_spec.hpp"

namespace colony::expert {
namespace {

class ffn_block_module : public expert_module {
public:
  ffn_block_module(int64_t dim, int64_t hidden)
    : ln_(register_module("ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))),
      fc1_(register_module("fc1", torch::nn::Linear(dim, hidden))),
      fc2_(register_module("fc2", torch::nn::Linear(hidden, hidden))),
      fc3_(register_module("fc3", torch::nn::Linear(hidden, dim))) {
    // nop
  }

  std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& xs) override {
    const auto& x = xs[0];
    auto h = torch::relu(fc1_->forward(ln_->forward(x)));
    h = torch::relu(fc2_->forward(h));
    return {x + fc3_->forward(h)};
  }

private:
  torch::nn::LayerNorm ln_;
  torch::nn::Linear fc1_;
  torch::nn::Linear fc2_;
  torch::nn::Linear fc3_;
};

caf::expected<built_module> make_ffn_block(spec_params& p) {
  auto dim = p.get_int("dim", 1024);
  auto hidden = p.get_int("hidden", 4 * dim);
  auto seq = p.get_int("seq_input", 0, 0);
  if (seq > 1)
    return make_error(errc::bad_config,
                      "module.seq_input: want 0 ([B, dim]) or 1 ([B, T, dim]), got "
                        + std::to_string(seq));
  auto err = p.finish();
  if (err)
    return err;
  std::vector<int64_t> shape = seq ? std::vector<int64_t>{-1, dim} : std::vector<int64_t>{dim};
  return built_module{std::make_shared<ffn_block_module>(dim, hidden),
                      {tensor_schema{shape, "float32"}},
                      {tensor_schema{shape, "float32"}}};
}

} // namespace

COLONY_REGISTER_EXPERT_SPEC("ffn_block", make_ffn_block);

} // namespace colony::expert
