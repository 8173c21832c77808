#include "actors/averaging/tensors.hpp"

#include <algorithm>
#include <cstring>
#include <set>

#include "messages/errc.hpp"

namespace colony::averaging {

namespace tensors_impl {

void mix(uint64_t& h, const void* data, size_t n) {
  auto p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
}

} // namespace tensors_impl

using namespace tensors_impl;

uint64_t layout::hash() const {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < names.size(); ++i) {
    uint64_t n = names[i].size();
    mix(h, &n, sizeof(n));
    mix(h, names[i].data(), names[i].size());
    uint64_t rank = shapes[i].size();
    mix(h, &rank, sizeof(rank));
    mix(h, shapes[i].data(), shapes[i].size() * sizeof(int64_t));
  }
  return h;
}

std::string layout::to_string() const {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i ? ", " : "") + names[i] + wire::shape_string(shapes[i]);
  return out;
}

caf::expected<layout> layout_of(const std::vector<named_tensor>& xs) {
  layout out;
  std::set<std::string> seen;
  for (auto& x : xs) {
    if (x.name.empty() || !seen.insert(x.name).second)
      return make_error(errc::bad_request, "tensor name '" + x.name + "' empty or repeated");
    auto bytes = wire::checked_nbytes(wire::dtype::float32, x.shape, UINT64_MAX / 2);
    if (!bytes)
      return make_error(errc::bad_shape, x.name + ": " + context_of(bytes.error()));
    if (*bytes / 4 != x.values.size())
      return make_error(errc::bad_shape, x.name + ": shape " + wire::shape_string(x.shape)
                                           + " wants " + std::to_string(*bytes / 4)
                                           + " values, got " + std::to_string(x.values.size()));
    out.names.push_back(x.name);
    out.shapes.push_back(x.shape);
    out.total += x.values.size();
  }
  return out;
}

std::vector<float> flatten(const std::vector<named_tensor>& xs, uint64_t total) {
  std::vector<float> flat;
  flat.reserve(total);
  for (auto& x : xs)
    flat.insert(flat.end(), x.values.begin(), x.values.end());
  return flat;
}

std::vector<named_tensor> unflatten(const layout& l, const std::vector<float>& flat) {
  std::vector<named_tensor> out;
  uint64_t at = 0;
  for (size_t i = 0; i < l.names.size(); ++i) {
    uint64_t n = 1;
    for (auto d : l.shapes[i])
      n *= static_cast<uint64_t>(d);
    auto first = flat.begin() + static_cast<ptrdiff_t>(at);
    out.push_back({l.names[i], l.shapes[i], std::vector<float>(first, first + n)});
    at += n;
  }
  return out;
}

part_range part_of(uint64_t total, uint32_t parts, uint32_t i) {
  auto base = total / parts;
  auto extra = total % parts;
  auto begin = i * base + std::min<uint64_t>(i, extra);
  return {begin, begin + base + (i < extra ? 1 : 0)};
}

uint32_t part_count(uint64_t total, uint32_t members, uint64_t max_part_bytes) {
  uint64_t per_part = std::max<uint64_t>(1, max_part_bytes / 4);
  uint64_t rounds = (total + per_part * members - 1) / (per_part * members);
  return static_cast<uint32_t>(std::max<uint64_t>(1, rounds) * members);
}

caf::expected<std::string> encode_part(const float* data, uint64_t n, wire::compression mode) {
  wire::tensor_view v;
  v.type = wire::dtype::float32;
  v.shape = {static_cast<int64_t>(n)};
  v.data = data;
  v.nbytes = n * sizeof(float);
  return wire::encode(v, mode);
}

caf::expected<std::vector<float>> decode_part(std::string bytes, uint64_t want) {
  // A float32 [want] message is want * 4 bytes plus a small header; refuse
  // anything larger before parsing, and any tensor larger when decoding.
  wire::decode_limits limits;
  limits.max_bytes = want * sizeof(float) + 64;
  if (bytes.size() > limits.max_bytes)
    return make_error(errc::bad_shape, "want " + std::to_string(want) + " values, got "
                                         + std::to_string(bytes.size()) + " bytes");
  auto t = wire::decode(std::move(bytes), limits);
  if (!t)
    return make_error(code_of(t.error()) == errc::none ? errc::malformed_payload
                                                       : code_of(t.error()),
                      "part: " + context_of(t.error()));
  if (t->type != wire::dtype::float32 || t->shape.size() != 1
      || static_cast<uint64_t>(t->numel()) != want)
    return make_error(errc::bad_shape, "want " + std::to_string(want) + " float32 values, got "
                                         + wire::to_string(t->type)
                                         + wire::shape_string(t->shape));
  std::vector<float> out(want);
  if (want > 0)
    std::memcpy(out.data(), t->data, want * sizeof(float));
  return out;
}

} // namespace colony::averaging
