// Spec "poison" (tests only): a linear layer whose forward throws when any
// input element exceeds 1e6, as a module with a bug on some inputs would;
// it otherwise trains like any expert. Registered in the test binary.
#include <stdexcept>

#include <torch/torch.h>

#include "actors/expert/expert_spec.hpp"

namespace colony::expert {
namespace {

class poison_module : public expert_module {
public:
  explicit poison_module(int64_t dim) : fc_(register_module("fc", torch::nn::Linear(dim, dim))) {}

  std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& xs) override {
    if (xs[0].gt(1e6).any().item<bool>())
      throw std::runtime_error("poisoned input");
    return {fc_->forward(xs[0])};
  }

private:
  torch::nn::Linear fc_;
};

caf::expected<built_module> make_poison(spec_params& p) {
  auto dim = p.get_int("dim", 4);
  return built_module{std::make_shared<poison_module>(dim), {tensor_schema{{dim}, "float32"}},
                      {tensor_schema{{dim}, "float32"}}};
}

} // namespace

COLONY_REGISTER_EXPERT_SPEC("poison", make_poison);

} // namespace colony::expert
