// CAF message types of the gate (DMoE layer) protocol. A gate is local to
// its trainer node; the types are inspectable (and registered) anyway so
// that a gate can later serve remote callers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include "messages/expert_messages.hpp"

namespace colony {

/// Which experts a forward chose for each (sample, slot) and which of them
/// answered; the backward goes to the same experts at the same nodes.
struct gate_routing {
  uint32_t batch = 0;                ///< B
  uint32_t k = 0;                    ///< slots per sample (k_best)
  std::vector<std::string> uids;     ///< experts called, by index
  std::vector<std::string> endpoints; ///< their nodes, "HOST:PORT"
  std::vector<int32_t> slot_expert;  ///< [B*k] expert index, -1 = empty slot
  std::vector<int64_t> slot_coords;  ///< [B*k*D] grid coordinates, -1 = empty
  std::vector<uint8_t> slot_ok;      ///< [B*k] 1 = the expert answered
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gate_routing& x) {
  return f(caf::meta::type_name("gate_routing"), x.batch, x.k, x.uids, x.endpoints,
           x.slot_expert, x.slot_coords, x.slot_ok);
}

/// Counters of one gate call.
struct gate_call_stats {
  uint32_t asked = 0;         ///< expert requests sent
  uint32_t answered = 0;      ///< of them answered successfully
  uint32_t timeouts = 0;      ///< of them unanswered at the end
  uint32_t anomalies = 0;     ///< answers dropped for NaN/Inf or a wrong shape
  uint32_t short_samples = 0; ///< samples below k_min (zero output)
  uint32_t dht_rounds = 0;    ///< DHT gets of the beam search (cache misses)
  std::vector<float> latency_ms; ///< per answered request
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gate_call_stats& x) {
  return f(caf::meta::type_name("gate_call_stats"), x.asked, x.answered, x.timeouts,
           x.anomalies, x.short_samples, x.dht_rounds, x.latency_ms);
}

/// Runs a DMoE layer's experts on a batch: `input` is [B, d] or [B, T, d];
/// `scores` the gating logits, B rows of sum(grid) floats.
struct gate_forward_request {
  tensor_blob input;
  std::vector<float> scores;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gate_forward_request& x) {
  return f(caf::meta::type_name("gate_forward_request"), x.input, x.scores);
}

/// Outputs [B, k, ..., d_out] (zeros where a slot did not answer) and the
/// routing that produced them. `failure` is set when the call failed after
/// its requests were sent (too_few_experts): outputs and routing are then
/// empty, and `stats` still counts what was asked and answered.
struct gate_forward_reply {
  tensor_blob outputs;
  gate_routing routing;
  gate_call_stats stats;
  caf::error failure;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gate_forward_reply& x) {
  return f(caf::meta::type_name("gate_forward_reply"), x.outputs, x.routing, x.stats,
           x.failure);
}

/// Gradients [B, k, ..., d_out] w.r.t. a forward's outputs (already scaled
/// by the mixing weights), sent to the experts that answered it.
struct gate_backward_request {
  tensor_blob input;
  tensor_blob grad_outputs;
  gate_routing routing;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gate_backward_request& x) {
  return f(caf::meta::type_name("gate_backward_request"), x.input, x.grad_outputs, x.routing);
}

/// The input gradient (the sum over the experts that answered) and which
/// slots' experts answered the backward.
struct gate_backward_reply {
  tensor_blob grad_input;
  std::vector<uint8_t> slot_ok;
  gate_call_stats stats;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gate_backward_reply& x) {
  return f(caf::meta::type_name("gate_backward_reply"), x.grad_input, x.slot_ok, x.stats);
}

} // namespace colony
