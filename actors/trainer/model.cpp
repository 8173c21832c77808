#include "actors/trainer/model.hpp"

#include <stdexcept>

#include <torch/torch.h>

#include "messages/errc.hpp"
#include "messages/wire/torch_tensor.hpp"

namespace colony::trainer {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::vector<std::pair<std::string, endpoint>> parse_experts(const std::vector<std::string>& xs) {
  std::vector<std::pair<std::string, endpoint>> result;
  for (const auto& x : xs) {
    auto at = x.find('@');
    auto ep = parse_endpoint(x.substr(at + 1));
    if (at == std::string::npos || !ep)
      throw std::invalid_argument("fixed_experts: bad entry '" + x + "' (want UID@HOST:PORT)");
    result.emplace_back(x.substr(0, at), *ep);
  }
  return result;
}

std::string encode(const torch::Tensor& t) {
  auto bytes = wire::encode_tensor(t.detach());
  if (!bytes)
    throw std::runtime_error(describe(bytes.error()));
  return std::move(*bytes);
}

torch::Tensor decode(std::string bytes) {
  auto t = wire::decode_tensor(std::move(bytes));
  if (!t)
    throw std::runtime_error(describe(t.error()));
  return t->to(torch::kFloat32);
}

struct fixed_call_fn : torch::autograd::Function<fixed_call_fn> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, int64_t layer_ptr) {
    auto* layer = reinterpret_cast<fixed_experts_layerImpl*>(layer_ptr);
    ctx->save_for_backward({x});
    ctx->saved_data["layer"] = layer_ptr;
    return layer->call_forward(x);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto* layer = reinterpret_cast<fixed_experts_layerImpl*>(ctx->saved_data["layer"].toInt());
    auto x = ctx->get_saved_variables()[0];
    return {layer->call_backward(x, grads[0].contiguous()), torch::Tensor()};
  }
};

} // namespace

fixed_experts_layerImpl::fixed_experts_layerImpl(
  std::shared_ptr<node_connections> conns, std::vector<std::pair<std::string, endpoint>> experts,
  caf::timespan timeout)
  : conns_(std::move(conns)) {
  for (auto& [uid, ep] : experts)
    experts_.emplace_back(*conns_, ep, uid, timeout);
}

torch::Tensor fixed_experts_layerImpl::forward(torch::Tensor x) {
  // Recorded even when x needs no gradient, so that the experts train.
  if (!x.requires_grad() && torch::GradMode::is_enabled())
    x = x.detach().requires_grad_(true);
  return fixed_call_fn::apply(x, reinterpret_cast<int64_t>(this));
}

torch::Tensor fixed_experts_layerImpl::call_forward(const torch::Tensor& x) {
  auto bytes = encode(x); // once; each request gets a copy
  torch::Tensor sum;
  for (auto& e : experts_) { // one after another, each awaited
    auto out = e.forward({tensor_blob{bytes}});
    if (!out)
      throw std::runtime_error(describe(out.error()));
    if (out->size() != 1)
      throw std::runtime_error("expert '" + e.uid() + "' returned " + std::to_string(out->size())
                               + " tensors");
    auto y = decode(std::move((*out)[0].bytes));
    sum = sum.defined() ? sum + y : y;
  }
  return sum / static_cast<double>(experts_.size());
}

torch::Tensor fixed_experts_layerImpl::call_backward(const torch::Tensor& x,
                                                     const torch::Tensor& grad) {
  auto xs = encode(x);
  auto gs = encode(grad / static_cast<double>(experts_.size()));
  torch::Tensor sum;
  for (auto& e : experts_) {
    auto out = e.backward({tensor_blob{xs}}, {tensor_blob{gs}});
    if (!out)
      throw std::runtime_error(describe(out.error()));
    if (out->size() != 1)
      throw std::runtime_error("expert '" + e.uid() + "' returned a bad gradient");
    auto gx = decode(std::move((*out)[0].bytes));
    sum = sum.defined() ? sum + gx : gx;
  }
  return sum;
}

modelImpl::modelImpl(const std::vector<layer_spec>& specs, const model_deps& deps, uint64_t seed) {
  // Each layer from a generator of its own (torch's global one is left
  // alone: trainers and restarts build models concurrently).
  size_t dmoe_index = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    auto& s = specs[i];
    auto name = "l" + std::to_string(i);
    layer l;
    l.type = s.type;
    if (s.type == "linear") {
      auto m = register_module(name, torch::nn::Linear(s.in, s.out));
      gate::reset_linear(*m, seed * 1000003 + i);
      l.run = [m](const torch::Tensor& x) { return m->forward(x); };
    } else if (s.type == "layernorm") {
      auto m = register_module(name, torch::nn::LayerNorm(torch::nn::LayerNormOptions({s.dim})));
      l.run = [m](const torch::Tensor& x) { return m->forward(x); };
    } else if (s.type == "relu") {
      l.run = [](const torch::Tensor& x) { return torch::relu(x); };
    } else if (s.type == "gelu") {
      l.run = [](const torch::Tensor& x) { return torch::gelu(x); };
    } else if (s.type == "dmoe") {
      if (dmoe_index >= deps.gates.size())
        throw std::invalid_argument("model: no gate for dmoe layer " + std::to_string(i));
      auto m = register_module(name, gate::dmoe_layer(*deps.sys, s.gate, deps.gates[dmoe_index++],
                                                      seed * 1000003 + i));
      dmoe_.push_back(m);
      l.residual = s.residual;
      l.run = [m](const torch::Tensor& x) { return m->forward(x); };
    } else if (s.type == "fixed_experts") {
      auto timeout = std::chrono::duration_cast<caf::timespan>(
        std::chrono::duration<double>(s.timeout_s));
      auto m = register_module(name, fixed_experts_layer(deps.conns, parse_experts(s.experts),
                                                         timeout));
      l.residual = s.residual;
      l.run = [m](const torch::Tensor& x) { return m->forward(x); };
    } else {
      throw std::invalid_argument("model: unknown layer kind '" + s.type + "'");
    }
    layers_.push_back(std::move(l));
  }
}

torch::Tensor modelImpl::forward(torch::Tensor x) {
  for (auto& l : layers_)
    x = l.residual ? x + l.run(x) : l.run(x);
  return x;
}

gate::dmoe_stats modelImpl::take_stats() {
  gate::dmoe_stats total;
  for (auto& m : dmoe_)
    total.merge(m->take_stats());
  return total;
}

} // namespace colony::trainer
