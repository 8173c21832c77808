// Named float32 tensors as the averager sees them (torch-free): their
// layout (names and shapes, in order), the flat vector they make, its split
// into parts, and a part's encoding on the wire (messages/wire codec,
// optionally float16/uint8). Decoding never allocates more than the size
// the receiver expects, whatever a peer claims.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "messages/wire/tensor_codec.hpp"

namespace colony::averaging {

/// One named tensor: row-major float32 values of `shape`.
struct named_tensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, named_tensor& x) {
  return f(caf::meta::type_name("named_tensor"), x.name, x.shape, x.values);
}

/// Names and shapes, in order; what all members of a group must share.
struct layout {
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  uint64_t total = 0; ///< elements of all tensors together

  /// A stable 64-bit hash (FNV-1a over names and shapes).
  uint64_t hash() const;
  /// "w[2, 3], b[3]"
  std::string to_string() const;
};

/// The layout of `xs`; errc::bad_shape when a tensor's values do not
/// match its shape, errc::bad_request for an empty or duplicate name.
caf::expected<layout> layout_of(const std::vector<named_tensor>& xs);

/// The values of `xs` concatenated in order.
std::vector<float> flatten(const std::vector<named_tensor>& xs, uint64_t total);

/// Cuts `flat` back into tensors of layout `l` (flat.size() == l.total).
std::vector<named_tensor> unflatten(const layout& l, const std::vector<float>& flat);

/// [begin, end) of part `i` when `total` elements are split into `parts`
/// nearly equal parts (the first `total % parts` one element longer).
struct part_range {
  uint64_t begin = 0;
  uint64_t end = 0;
  uint64_t size() const { return end - begin; }
};
part_range part_of(uint64_t total, uint32_t parts, uint32_t i);

/// How many parts: at least `members`, a multiple of it, each at most
/// `max_part_bytes` of float32 (and never more parts than elements, unless
/// there are fewer elements than members: then empty parts).
uint32_t part_count(uint64_t total, uint32_t members, uint64_t max_part_bytes);

/// Encodes values [begin, end) of `flat` as a float32 tensor [n].
caf::expected<std::string> encode_part(const float* data, uint64_t n, wire::compression mode);

/// Decodes a part that must hold exactly `want` elements; errc::bad_shape
/// ("want 5 values, got 6") otherwise. Never allocates beyond `want`.
caf::expected<std::vector<float>> decode_part(std::string bytes, uint64_t want);

} // namespace colony::averaging
