// The torch side of the gate: checking its inputs, cutting a batch into one
// request per expert, checking answers (shape, NaN/Inf) and putting them
// back into (sample, slot) order. Used by gate_actor.cpp only.
#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <torch/types.h>

#include "actors/client/fanout.hpp"
#include "messages/wire/tensor_codec.hpp"

namespace colony::gate {

/// Decodes a gate input: float [B, d] or [B, T, d] with B >= 1 (as float32).
caf::expected<torch::Tensor> decode_input(const tensor_blob& blob, uint32_t d);

/// B rows of `total` finite scores each, from a flat vector.
caf::expected<std::vector<std::vector<float>>> split_scores(const std::vector<float>& flat,
                                                            int64_t batch, uint32_t total);

/// Encodes rows `rows` of `t` (dim 0).
caf::expected<tensor_blob> encode_rows(const torch::Tensor& t, const std::vector<int64_t>& rows,
                                       wire::compression mode);

/// Decodes output gradients [B, k, ..., out_dim] for input `x`; returns them
/// as [B * k, ..., out_dim] (slot-major).
caf::expected<torch::Tensor> decode_slot_grads(const tensor_blob& blob, const torch::Tensor& x,
                                               uint32_t out_dim, uint32_t k);

/// Checks the answers of one fan-out as they arrive (in the fan-out actor)
/// and keeps their decoded tensors for the gate (read after done_atom).
class row_checker {
public:
  /// Expert i got rows `rows[i]` of `x`; forward answers must be
  /// [rows, ..., out_dim], backward ones (`backward`) shaped like the rows.
  row_checker(const torch::Tensor& x, uint32_t out_dim, std::vector<std::vector<int64_t>> rows,
              bool detect_anomalies, bool backward);

  /// An error turns the answer into a failure (counted as an anomaly).
  caf::error check(size_t i, expert_answer& answer);

  /// The decoded tensor of a successful answer.
  const torch::Tensor& tensor(size_t i) const { return tensors_.at(i); }

  uint32_t anomalies() const { return anomalies_; }
  const std::string& last_error() const { return last_error_; }

private:
  caf::error anomaly(std::string what);

  std::vector<int64_t> tail_shape_;
  std::vector<std::vector<int64_t>> rows_;
  std::vector<torch::Tensor> tensors_;
  bool detect_;
  bool backward_;
  uint32_t anomalies_ = 0;
  std::string last_error_;
};

/// Forward outputs [B, k, ..., out_dim]: each answered expert's rows put in
/// its slots (zeros elsewhere); marks those slots in `slot_ok`.
torch::Tensor scatter_slots(const torch::Tensor& x, uint32_t out_dim, uint32_t k,
                            const row_checker& check,
                            const std::vector<std::vector<int64_t>>& slots,
                            const fanout_result& out, std::vector<uint8_t>& slot_ok);

/// The input gradient: the sum of the answered experts' row gradients;
/// marks their slots in `slot_ok`.
torch::Tensor sum_rows(const torch::Tensor& x, const row_checker& check,
                       const std::vector<std::vector<int64_t>>& rows,
                       const std::vector<std::vector<int64_t>>& slots,
                       const fanout_result& out, std::vector<uint8_t>& slot_ok);

} // namespace colony::gate
