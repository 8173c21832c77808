#include "actors/gate/dmoe_layer.hpp"

#include <cmath>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>

#include <caf/all.hpp>
#include <torch/torch.h>

#include "messages/errc.hpp"
#include "messages/wire/torch_tensor.hpp"

namespace colony::gate {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

[[noreturn]] void fail(const caf::error& err) {
  throw std::runtime_error(describe(err));
}

tensor_blob blob_of(const torch::Tensor& t) {
  auto bytes = wire::encode_tensor(t);
  if (!bytes)
    fail(bytes.error());
  return tensor_blob{std::move(*bytes)};
}

torch::Tensor tensor_of(std::string bytes) {
  auto t = wire::decode_tensor(std::move(bytes));
  if (!t)
    fail(t.error());
  return *t;
}

/// y, mask, coords = experts(x) through the gate. The layer pointer
/// travels as an int64 because the layer outlives every graph it built.
struct expert_call_fn : torch::autograd::Function<expert_call_fn> {
  static variable_list forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor logits,
                               int64_t layer_ptr) {
    auto* layer = reinterpret_cast<dmoe_layerImpl*>(layer_ptr);
    auto reply = layer->call_forward(x, logits);
    auto& r = reply.routing;
    auto B = static_cast<int64_t>(r.batch);
    auto K = static_cast<int64_t>(r.k);
    auto D = static_cast<int64_t>(layer->config().grid.dims.size());
    auto y = tensor_of(std::move(reply.outputs.bytes));
    std::vector<float> ok(r.slot_ok.begin(), r.slot_ok.end());
    auto mask = torch::tensor(ok).view({B, K});
    auto coords = torch::tensor(r.slot_coords, torch::kLong).view({B, K, D});
    ctx->mark_non_differentiable({mask, coords});
    ctx->save_for_backward({x});
    ctx->saved_data["layer"] = layer_ptr;
    ctx->saved_data["uids"] = c10::List<std::string>(r.uids);
    ctx->saved_data["eps"] = c10::List<std::string>(r.endpoints);
    ctx->saved_data["slot_expert"] = torch::tensor(r.slot_expert, torch::kInt);
    ctx->saved_data["slot_ok"] = torch::tensor(std::vector<int32_t>(r.slot_ok.begin(),
                                                                     r.slot_ok.end()),
                                               torch::kInt);
    ctx->saved_data["batch"] = B;
    ctx->saved_data["k"] = K;
    return {y, mask, coords};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto x = ctx->get_saved_variables()[0];
    auto* layer = reinterpret_cast<dmoe_layerImpl*>(ctx->saved_data["layer"].toInt());
    gate_routing r;
    r.batch = static_cast<uint32_t>(ctx->saved_data["batch"].toInt());
    r.k = static_cast<uint32_t>(ctx->saved_data["k"].toInt());
    for (const auto& s : ctx->saved_data["uids"].toList())
      r.uids.push_back(s.get().toStringRef());
    for (const auto& s : ctx->saved_data["eps"].toList())
      r.endpoints.push_back(s.get().toStringRef());
    auto se = ctx->saved_data["slot_expert"].toTensor();
    auto so = ctx->saved_data["slot_ok"].toTensor();
    r.slot_expert.assign(se.data_ptr<int32_t>(), se.data_ptr<int32_t>() + se.numel());
    r.slot_ok.assign(so.data_ptr<int32_t>(), so.data_ptr<int32_t>() + so.numel());
    auto grad_y = grads[0].defined() ? grads[0] : torch::zeros({0});
    auto gx = layer->call_backward(x, grad_y.contiguous(), std::move(r));
    return {gx, torch::Tensor(), torch::Tensor()};
  }
};

template <class Reply, class Request>
Reply ask(caf::actor_system& sys, const gate_actor& gate, Request req, double timeout_s) {
  // The gate answers by its own deadline; the margin covers scheduling only.
  auto timeout = std::chrono::duration_cast<caf::timespan>(
    std::chrono::duration<double>(timeout_s + 10));
  caf::scoped_actor self{sys};
  caf::expected<Reply> result{caf::error{}};
  self->request(gate, timeout, std::move(req))
    .receive([&](Reply& reply) { result = std::move(reply); },
             [&](caf::error& err) { result = std::move(err); });
  if (!result)
    fail(result.error());
  return std::move(*result);
}

} // namespace

void dmoe_stats::add(const gate_call_stats& s, bool backward) {
  if (backward) {
    backward_asked += s.asked;
    backward_answered += s.answered;
    backward_missing += s.short_samples;
  } else {
    asked += s.asked;
    answered += s.answered;
    short_samples += s.short_samples;
    dht_rounds += s.dht_rounds;
  }
  timeouts += s.timeouts;
  anomalies += s.anomalies;
  latency_ms.insert(latency_ms.end(), s.latency_ms.begin(), s.latency_ms.end());
}

void dmoe_stats::merge(const dmoe_stats& o) {
  asked += o.asked;
  answered += o.answered;
  timeouts += o.timeouts;
  anomalies += o.anomalies;
  short_samples += o.short_samples;
  dht_rounds += o.dht_rounds;
  backward_asked += o.backward_asked;
  backward_answered += o.backward_answered;
  backward_missing += o.backward_missing;
  latency_ms.insert(latency_ms.end(), o.latency_ms.begin(), o.latency_ms.end());
}

dmoe_layerImpl::dmoe_layerImpl(caf::actor_system& sys, gate_config cfg, gate_actor gate,
                               uint64_t seed)
  : dmoe_layerImpl(sys, std::move(cfg), std::make_shared<gate_slot>(std::move(gate)), seed) {
  // nop
}

dmoe_layerImpl::dmoe_layerImpl(caf::actor_system& sys, gate_config cfg, gate_ref gate,
                               uint64_t seed)
  : sys_(sys), cfg_(std::move(cfg)), gate_(std::move(gate)) {
  gating = register_module("gating", torch::nn::Linear(cfg_.input_dim, cfg_.grid_total()));
  reset_linear(*gating, seed);
}

void reset_linear(torch::nn::LinearImpl& linear, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto bound = 1.0 / std::sqrt(static_cast<double>(linear.weight.size(1)));
  torch::NoGradGuard no_grad;
  linear.weight.uniform_(-bound, bound, gen);
  if (linear.bias.defined())
    linear.bias.uniform_(-bound, bound, gen);
}

torch::Tensor dmoe_layerImpl::gating_logits(const torch::Tensor& x) {
  return gating(x.dim() == 3 ? x.mean(1) : x);
}

torch::Tensor dmoe_layerImpl::slot_scores(const torch::Tensor& logits,
                                          const torch::Tensor& coords) const {
  std::vector<int64_t> offsets;
  int64_t off = 0;
  for (auto d : cfg_.grid.dims) {
    offsets.push_back(off);
    off += d;
  }
  auto B = coords.size(0), K = coords.size(1), D = coords.size(2);
  auto valid = coords >= 0;
  auto idx = coords.clamp_min(0) + torch::tensor(offsets, torch::kLong).view({1, 1, D});
  auto picked = logits.gather(1, idx.view({B, K * D})).view({B, K, D});
  return (picked * valid.to(picked.dtype())).sum(-1);
}

gate_forward_reply dmoe_layerImpl::call_forward(const torch::Tensor& x,
                                                const torch::Tensor& logits) {
  gate_forward_request req;
  req.input = blob_of(x.detach());
  auto l = logits.detach().to(torch::kFloat32).contiguous();
  req.scores.assign(l.data_ptr<float>(), l.data_ptr<float>() + l.numel());
  auto reply = ask<gate_forward_reply>(sys_, gate_->get(), std::move(req), cfg_.forward_timeout_s);
  {
    std::lock_guard<std::mutex> guard{stats_mx_};
    stats_.add(reply.stats, false); // also when the call failed: its requests were sent
  }
  if (reply.failure)
    fail(reply.failure);
  return reply;
}

torch::Tensor dmoe_layerImpl::call_backward(const torch::Tensor& x, const torch::Tensor& grad_y,
                                            gate_routing routing) {
  gate_backward_request req;
  req.input = blob_of(x.detach());
  req.grad_outputs = blob_of(grad_y);
  req.routing = std::move(routing);
  auto reply = ask<gate_backward_reply>(sys_, gate_->get(), std::move(req), cfg_.backward_timeout_s);
  {
    std::lock_guard<std::mutex> guard{stats_mx_};
    stats_.add(reply.stats, true);
  }
  return tensor_of(std::move(reply.grad_input.bytes));
}

torch::Tensor masked_softmax(const torch::Tensor& scores, const torch::Tensor& mask) {
  auto on = mask > 0;
  auto lowest = torch::full_like(scores, -std::numeric_limits<float>::infinity());
  auto smax = torch::where(on, scores, lowest).amax(1, true).detach();
  smax = torch::where(torch::isfinite(smax), smax, torch::zeros_like(smax));
  // Masked slots take the row max before exp: finite, and their gradient is 0.
  auto safe = torch::where(on, scores, smax.expand_as(scores));
  auto e = torch::exp(safe - smax) * mask;
  return e / e.sum(1, true).clamp_min(1e-30);
}

torch::Tensor dmoe_layerImpl::forward(torch::Tensor x) {
  if (x.dim() != 2 && x.dim() != 3)
    throw std::runtime_error("dmoe: want [B, d] or [B, T, d], got "
                             + wire::shape_string(x.sizes().vec()));
  auto logits = gating_logits(x);
  // The experts must get their gradients even when x needs none (a DMoE
  // layer on raw data): then the function is recorded on a leaf copy.
  auto xin = x.requires_grad() || !torch::GradMode::is_enabled()
               ? x
               : x.detach().requires_grad_(true);
  auto outs = expert_call_fn::apply(xin, logits.detach(), reinterpret_cast<int64_t>(this));
  auto y = outs[0];    // [B, k, (T,) d_out]
  auto mask = outs[1]; // [B, k]
  auto w = masked_softmax(slot_scores(logits, outs[2]), mask);
  auto shape = std::vector<int64_t>(y.dim(), 1);
  shape[0] = w.size(0);
  shape[1] = w.size(1);
  return (w.view(shape) * y).sum(1);
}

dmoe_stats dmoe_layerImpl::take_stats() {
  std::lock_guard<std::mutex> guard{stats_mx_};
  auto s = std::move(stats_);
  stats_ = dmoe_stats{};
  return s;
}

} // namespace colony::gate
