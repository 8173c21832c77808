#include "actors/expert/optimizer.hpp"

#include <algorithm>

#include <torch/torch.h>

#include "messages/errc.hpp"
#include "runtime/lr_schedule.hpp"

namespace colony::expert {

double scheduled_lr(const optimizer_config& cfg, uint64_t step) {
  return colony::scheduled_lr(cfg.lr, cfg.warmup_steps, cfg.total_steps, step);
}

caf::expected<std::unique_ptr<expert_optimizer>>
expert_optimizer::make(const optimizer_config& cfg, std::vector<torch::Tensor> params) {
  std::unique_ptr<torch::optim::Optimizer> impl;
  if (cfg.type == "sgd") {
    torch::optim::SGDOptions opts{cfg.lr};
    opts.momentum(cfg.momentum).weight_decay(cfg.weight_decay);
    impl = std::make_unique<torch::optim::SGD>(params, opts);
  } else if (cfg.type == "adam") {
    torch::optim::AdamOptions opts{cfg.lr};
    opts.betas({cfg.beta1, cfg.beta2}).eps(cfg.eps).weight_decay(cfg.weight_decay);
    impl = std::make_unique<torch::optim::Adam>(params, opts);
  } else {
    return make_error(errc::bad_config,
                      "optimizer.type: want 'sgd' or 'adam', got '" + cfg.type + "'");
  }
  return std::unique_ptr<expert_optimizer>{
    new expert_optimizer(cfg, std::move(params), std::move(impl))};
}

expert_optimizer::expert_optimizer(optimizer_config cfg, std::vector<torch::Tensor> params,
                                   std::unique_ptr<torch::optim::Optimizer> impl)
  : cfg_(std::move(cfg)), params_(std::move(params)), impl_(std::move(impl)) {
  // nop
}

void expert_optimizer::step(uint64_t step, double grad_scale) {
  if (params_.empty())
    return;
  if (grad_scale != 1.0) {
    torch::NoGradGuard no_grad;
    for (auto& p : params_)
      if (p.grad().defined())
        p.mutable_grad().mul_(grad_scale);
  }
  if (cfg_.clip_grad_norm > 0)
    torch::nn::utils::clip_grad_norm_(params_, cfg_.clip_grad_norm);
  auto lr = scheduled_lr(cfg_, step);
  for (auto& group : impl_->param_groups())
    group.options().set_lr(lr);
  impl_->step();
  impl_->zero_grad();
}

void expert_optimizer::zero_grad() {
  impl_->zero_grad();
}

void expert_optimizer::save(torch::serialize::OutputArchive& ar) const {
  impl_->save(ar);
}

void expert_optimizer::load(torch::serialize::InputArchive& ar) {
  impl_->load(ar);
}

} // namespace colony::expert
