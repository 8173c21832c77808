// A trainer's model built from its layer list: local torch layers, DMoE
// layers (gating network + the node's gate actor for that layer) and, for
// the model-parallel baseline, fixed_experts layers that call a fixed list
// of remote experts one after another and wait for each.
#pragma once

#include <memory>
#include <vector>

#include <caf/actor_system.hpp>
#include <torch/nn/module.h>

#include "actors/client/remote_expert.hpp"
#include "actors/gate/dmoe_layer.hpp"
#include "actors/trainer/trainer_config.hpp"

namespace colony::trainer {

/// What a model's remote layers use: gates[i] serves the i-th dmoe layer.
struct model_deps {
  caf::actor_system* sys = nullptr;
  std::vector<gate::gate_ref> gates;
  std::shared_ptr<node_connections> conns;
};

class modelImpl : public torch::nn::Module {
public:
  /// Builds the layers of `specs`, initialized from `seed`. Throws
  /// std::invalid_argument for a spec that cannot be built (e.g. a
  /// fixed_experts entry that does not parse).
  modelImpl(const std::vector<layer_spec>& specs, const model_deps& deps, uint64_t seed);

  /// Logits for a batch; throws std::runtime_error when a remote layer fails.
  torch::Tensor forward(torch::Tensor x);

  /// The DMoE layers' counters since the last call, summed, reset.
  gate::dmoe_stats take_stats();

private:
  struct layer {
    std::string type;
    bool residual = false;
    std::shared_ptr<torch::nn::Module> module;
    std::function<torch::Tensor(const torch::Tensor&)> run;
  };
  std::vector<layer> layers_;
  std::vector<gate::dmoe_layer> dmoe_;
};

TORCH_MODULE(model);

/// The model-parallel baseline's layer: `experts` (uid, node) called in
/// sequence, each call awaited up to `timeout`, outputs averaged; backward
/// the same way. No expert is ever skipped: a failure fails the step.
class fixed_experts_layerImpl : public torch::nn::Module {
public:
  fixed_experts_layerImpl(std::shared_ptr<node_connections> conns,
                          std::vector<std::pair<std::string, endpoint>> experts,
                          caf::timespan timeout);

  torch::Tensor forward(torch::Tensor x);

  // Used by the autograd function.
  torch::Tensor call_forward(const torch::Tensor& x);
  torch::Tensor call_backward(const torch::Tensor& x, const torch::Tensor& grad);

private:
  std::shared_ptr<node_connections> conns_;
  std::vector<remote_expert> experts_;
};

TORCH_MODULE(fixed_experts_layer);

} // namespace colony::trainer
