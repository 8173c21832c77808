#include "actors/gate/tensor_rows.hpp"

#include <cmath>

#include <torch/torch.h>

#include "messages/errc.hpp"
#include "messages/wire/torch_tensor.hpp"

namespace colony::gate {

namespace {

std::string shape_of(const torch::Tensor& t) {
  return wire::shape_string(t.sizes().vec());
}

torch::Tensor index_tensor(const std::vector<int64_t>& xs) {
  return torch::tensor(xs, torch::kLong);
}

} // namespace

caf::expected<torch::Tensor> decode_input(const tensor_blob& blob, uint32_t d) {
  auto x = wire::decode_tensor(blob.bytes);
  if (!x)
    return x.error();
  if (!x->is_floating_point() || (x->dim() != 2 && x->dim() != 3) || x->size(0) < 1
      || x->size(-1) != d)
    return make_error(errc::bad_shape, "gate input: want float [B, " + std::to_string(d)
                                         + "] or [B, T, " + std::to_string(d) + "], got "
                                         + shape_of(*x));
  return x->to(torch::kFloat32);
}

caf::expected<std::vector<std::vector<float>>> split_scores(const std::vector<float>& flat,
                                                            int64_t batch, uint32_t total) {
  if (flat.size() != static_cast<size_t>(batch) * total)
    return make_error(errc::bad_shape, "gate scores: want " + std::to_string(batch) + " x "
                                         + std::to_string(total) + " values, got "
                                         + std::to_string(flat.size()));
  std::vector<std::vector<float>> rows(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    auto first = flat.begin() + b * total;
    rows[b].assign(first, first + total);
    for (auto v : rows[b])
      if (!std::isfinite(v))
        return make_error(errc::bad_request, "gate scores of sample " + std::to_string(b)
                                               + " are not finite");
  }
  return rows;
}

caf::expected<tensor_blob> encode_rows(const torch::Tensor& t, const std::vector<int64_t>& rows,
                                       wire::compression mode) {
  auto bytes = wire::encode_tensor(t.index_select(0, index_tensor(rows)), mode);
  if (!bytes)
    return bytes.error();
  return tensor_blob{std::move(*bytes)};
}

caf::expected<torch::Tensor> decode_slot_grads(const tensor_blob& blob, const torch::Tensor& x,
                                               uint32_t out_dim, uint32_t k) {
  auto g = wire::decode_tensor(blob.bytes);
  if (!g)
    return g.error();
  auto want = x.sizes().vec();
  want.back() = out_dim;
  want.insert(want.begin() + 1, k);
  if (!g->is_floating_point() || g->sizes().vec() != want)
    return make_error(errc::bad_shape, "gate grad_outputs: want " + wire::shape_string(want)
                                         + ", got " + shape_of(*g));
  auto flat = want;
  flat.erase(flat.begin());
  flat[0] = x.size(0) * k;
  return g->to(torch::kFloat32).reshape(flat);
}

row_checker::row_checker(const torch::Tensor& x, uint32_t out_dim,
                         std::vector<std::vector<int64_t>> rows, bool detect_anomalies,
                         bool backward)
  : rows_(std::move(rows)), tensors_(rows_.size()), detect_(detect_anomalies),
    backward_(backward) {
  tail_shape_ = x.sizes().vec();
  tail_shape_.erase(tail_shape_.begin());
  if (!backward)
    tail_shape_.back() = out_dim;
}

caf::error row_checker::anomaly(std::string what) {
  ++anomalies_;
  last_error_ = what;
  return make_error(errc::bad_shape, std::move(what));
}

caf::error row_checker::check(size_t i, expert_answer& answer) {
  auto* blobs = backward_ ? (std::holds_alternative<backward_reply>(*answer)
                               ? &std::get<backward_reply>(*answer).grad_inputs
                               : nullptr)
                          : (std::holds_alternative<forward_reply>(*answer)
                               ? &std::get<forward_reply>(*answer).outputs
                               : nullptr);
  if (!blobs || blobs->size() != 1)
    return anomaly("expert answered with the wrong number of tensors");
  auto t = wire::decode_tensor(std::move((*blobs)[0].bytes));
  if (!t)
    return anomaly("undecodable answer: " + describe(t.error()));
  auto want = tail_shape_;
  want.insert(want.begin(), static_cast<int64_t>(rows_.at(i).size()));
  if (!t->is_floating_point() || t->sizes().vec() != want)
    return anomaly("answer of shape " + shape_of(*t) + ", want " + wire::shape_string(want));
  auto f = t->to(torch::kFloat32);
  if (detect_ && !torch::isfinite(f).all().item<bool>())
    return anomaly("answer with NaN or Inf");
  tensors_[i] = f;
  return caf::none;
}

torch::Tensor scatter_slots(const torch::Tensor& x, uint32_t out_dim, uint32_t k,
                            const row_checker& check,
                            const std::vector<std::vector<int64_t>>& slots,
                            const fanout_result& out, std::vector<uint8_t>& slot_ok) {
  auto shape = x.sizes().vec();
  shape.back() = out_dim;
  shape[0] = x.size(0) * k;
  auto y = torch::zeros(shape, torch::kFloat32);
  for (size_t e = 0; e < slots.size(); ++e) {
    if (!out.answers[e])
      continue;
    y.index_copy_(0, index_tensor(slots[e]), check.tensor(e));
    for (auto s : slots[e])
      slot_ok[s] = 1;
  }
  shape[0] = k;
  shape.insert(shape.begin(), x.size(0));
  return y.reshape(shape);
}

torch::Tensor sum_rows(const torch::Tensor& x, const row_checker& check,
                       const std::vector<std::vector<int64_t>>& rows,
                       const std::vector<std::vector<int64_t>>& slots,
                       const fanout_result& out, std::vector<uint8_t>& slot_ok) {
  auto gx = torch::zeros_like(x);
  for (size_t e = 0; e < rows.size(); ++e) {
    if (!out.answers[e])
      continue;
    gx.index_add_(0, index_tensor(rows[e]), check.tensor(e));
    for (auto s : slots[e])
      slot_ok[s] = 1;
  }
  return gx;
}

} // namespace colony::gate
