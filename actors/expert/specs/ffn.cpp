// Spec "ffn": Linear(input_dim, hidden_dim) -> GELU -> Linear(hidden_dim,
// output_dim) on inputs [B, input_dim].
#include <torch/torch.h>

#include "actors/expert/expert_spec.hpp"

namespace colony::expert {
namespace {

class ffn_module : public expert_module {
public:
  ffn_module(int64_t in, int64_t hidden, int64_t out)
    : fc1_(register_module("fc1", torch::nn::Linear(in, hidden))),
      fc2_(register_module("fc2", torch::nn::Linear(hidden, out))) {
    // nop
  }

  std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& xs) override {
    return {fc2_->forward(torch::gelu(fc1_->forward(xs[0])))};
  }

private:
  torch::nn::Linear fc1_;
  torch::nn::Linear fc2_;
};

caf::expected<built_module> make_ffn(spec_params& p) {
  auto in = p.get_int("input_dim", 1024);
  auto hidden = p.get_int("hidden_dim", 4 * in);
  auto out = p.get_int("output_dim", in);
  return built_module{std::make_shared<ffn_module>(in, hidden, out),
                      {tensor_schema{{in}, "float32"}},
                      {tensor_schema{{out}, "float32"}}};
}

} // namespace

COLONY_REGISTER_EXPERT_SPEC("ffn", make_ffn);

} // namespace colony::expert
