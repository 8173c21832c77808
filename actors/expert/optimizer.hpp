// The per-expert optimizer: SGD with momentum or Adam (weight decay),
// optional global gradient-norm clipping, and a linear warm-up / linear
// decay learning-rate schedule driven by the update count (so restoring the
// update count restores the schedule).
#pragma once

#include <memory>
#include <vector>

#include <caf/expected.hpp>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include "runtime/node_config.hpp"

namespace colony::expert {

/// Learning rate of update number `step` (0-based) under `cfg`'s schedule.
double scheduled_lr(const optimizer_config& cfg, uint64_t step);

class expert_optimizer {
public:
  /// Builds the optimizer over `params`; errc::bad_config for a bad type.
  static caf::expected<std::unique_ptr<expert_optimizer>>
  make(const optimizer_config& cfg, std::vector<torch::Tensor> params);

  /// Multiplies the gradients by `grad_scale` (1 / the number of backward
  /// batches they accumulate, so a step follows their mean), clips them, sets
  /// the scheduled lr for update `step`, applies one step and clears the
  /// gradients. No-op for a parameterless module.
  void step(uint64_t step, double grad_scale = 1.0);

  /// Clears the gradients without a step.
  void zero_grad();

  void save(torch::serialize::OutputArchive& ar) const;
  void load(torch::serialize::InputArchive& ar);

  const optimizer_config& config() const { return cfg_; }

private:
  expert_optimizer(optimizer_config cfg, std::vector<torch::Tensor> params,
                   std::unique_ptr<torch::optim::Optimizer> impl);

  optimizer_config cfg_;
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::Optimizer> impl_;
};

} // namespace colony::expert
