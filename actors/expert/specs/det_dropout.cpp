// Test spec "det_dropout": deterministic dropout. Inputs x [B, dim] and a
// 0/1 mask [B, dim]; output x * mask / keep_prob. Lets a test reproduce a
// dropout layer exactly on both sides of the wire. No parameters.
#include <torch/torch.h>

#include "actors/expert/expert_spec.hpp"

namespace colony::expert {
namespace {

class det_dropout_module : public expert_module {
public:
  explicit det_dropout_module(double keep_prob) : keep_prob_(keep_prob) {
    // nop
  }

  std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& xs) override {
    return {xs[0] * xs[1] / keep_prob_};
  }

private:
  double keep_prob_;
};

caf::expected<built_module> make_det_dropout(spec_params& p) {
  auto dim = p.get_int("dim", 16);
  auto keep = p.get_real("keep_prob", 0.5, 1e-6, 1.0);
  return built_module{std::make_shared<det_dropout_module>(keep),
                      {tensor_schema{{dim}, "float32"}, tensor_schema{{dim}, "float32"}},
                      {tensor_schema{{dim}, "float32"}}};
}

} // namespace

COLONY_REGISTER_EXPERT_SPEC("det_dropout", make_det_dropout);

} // namespace colony::expert
