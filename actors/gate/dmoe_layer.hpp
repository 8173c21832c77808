// The DMoE layer as a torch module on a trainer: a gating network
// Linear(d, sum(grid)) split per grid dimension, and an autograd function
// whose forward and backward ask the layer's gate actor for the experts'
// outputs and input gradients. The mixture is computed here in torch, so
// the gating network gets its exact gradient through the weights:
//   out = sum_j w_j * y_j,  w = softmax of the answered experts' scores
// (re-normalized over those that answered; a sample with none gets zeros,
// never NaN). Runs on a trainer's torch thread, never on a CAF scheduler
// thread: each call blocks its thread on the gate's reply (no CPU spent).
#pragma once

#include <memory>
#include <mutex>

#include <caf/actor_system.hpp>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include "actors/gate/gate_actor.hpp"
#include "actors/gate/gate_slot.hpp"

namespace colony::gate {

/// Counters summed over the gate calls since the last take_stats().
struct dmoe_stats {
  uint64_t asked = 0;
  uint64_t answered = 0;
  uint64_t timeouts = 0;
  uint64_t anomalies = 0;
  uint64_t short_samples = 0;
  uint64_t dht_rounds = 0;
  uint64_t backward_asked = 0;
  uint64_t backward_answered = 0;
  uint64_t backward_missing = 0; ///< rows whose input gradient came from no expert
  std::vector<float> latency_ms;

  void add(const gate_call_stats& s, bool backward);
  void merge(const dmoe_stats& other);
};

class dmoe_layerImpl : public torch::nn::Module {
public:
  /// `gate` serves this layer's grid; `seed` initializes the gating network
  /// (from a generator of its own: torch's global one is left alone).
  dmoe_layerImpl(caf::actor_system& sys, gate_config cfg, gate_actor gate, uint64_t seed);

  /// The same over a gate that its supervisor may replace (trainer hosts).
  dmoe_layerImpl(caf::actor_system& sys, gate_config cfg, gate_ref gate, uint64_t seed);

  /// [B, d] or [B, T, d] -> [B, d_out] or [B, T, d_out]. Throws
  /// std::runtime_error with the gate's error (e.g. too_few_experts).
  torch::Tensor forward(torch::Tensor x);

  /// Gating logits [B, sum(grid)] of an input (the mean over T for 3-D).
  torch::Tensor gating_logits(const torch::Tensor& x);

  /// The scores of the chosen experts [B, k] from logits and coordinates
  /// [B, k, D] (-1 = empty slot, scored 0).
  torch::Tensor slot_scores(const torch::Tensor& logits, const torch::Tensor& coords) const;

  /// The counters since the last call, reset.
  dmoe_stats take_stats();

  const gate_config& config() const { return cfg_; }

  // Used by the autograd function.
  gate_forward_reply call_forward(const torch::Tensor& x, const torch::Tensor& logits);
  torch::Tensor call_backward(const torch::Tensor& x, const torch::Tensor& grad_y,
                              gate_routing routing);

  torch::nn::Linear gating{nullptr};

private:
  caf::actor_system& sys_;
  gate_config cfg_;
  gate_ref gate_;
  std::mutex stats_mx_; ///< forward and backward may run on different threads
  dmoe_stats stats_;
};

TORCH_MODULE(dmoe_layer);

/// Re-initializes `linear` as torch's default does (weight and bias
/// uniform in +-1/sqrt(in_features)) from a generator seeded with `seed`.
void reset_linear(torch::nn::LinearImpl& linear, uint64_t seed);

/// Softmax over the slots that answered (mask 1), zero elsewhere and for
/// rows where none answered; finite for any finite scores.
torch::Tensor masked_softmax(const torch::Tensor& scores, const torch::Tensor& mask);

} // namespace colony::gate
