// Torch-free codec between raw tensors and the colony.v1.Tensor wire format.
//
// encode(): one copy of the element bytes (tensor memory -> message string);
// the protobuf header is serialized separately and the data field appended.
// decode(): takes ownership of the message string and returns a view into it
// (zero-copy for uncompressed tensors); compressed tensors are expanded into
// a fresh float32 buffer. Every malformed input yields an errc error value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace colony::wire {

/// Logical element types; values equal colony.v1.DType.
enum class dtype : uint8_t {
  float32 = 1,
  float16 = 2,
  bfloat16 = 3,
  float64 = 4,
  int64 = 5,
  int32 = 6,
  uint8 = 7,
  int8 = 8,
  boolean = 9,
};

/// Values equal colony.v1.Compression. Lossy modes apply to float32 only.
enum class compression : uint8_t { none = 0, float16 = 1, uint8 = 2 };

/// Bytes per element of `t`.
size_t element_size(dtype t);

/// "float32", "int64", ...
std::string to_string(dtype t);

/// Parses "float32" etc.; returns false for unknown names.
bool from_string(const std::string& name, dtype& out);

/// Parses "none", "float16", "uint8"; returns false for unknown names.
bool from_string(const std::string& name, compression& out);

/// Default size limit of one tensor or message: 256 MiB.
constexpr uint64_t default_max_bytes = uint64_t{256} << 20;

/// Limits applied while decoding untrusted bytes.
struct decode_limits {
  /// Largest accepted decoded tensor and encoded message, in bytes.
  uint64_t max_bytes = default_max_bytes;
};

/// A borrowed tensor to encode: row-major, contiguous, little-endian.
struct tensor_view {
  dtype type = dtype::float32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t nbytes = 0;
};

/// A decoded tensor. `data` points into memory kept alive by `owner`.
struct host_tensor {
  dtype type = dtype::float32;
  std::vector<int64_t> shape;
  std::shared_ptr<const void> owner;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  /// Number of elements (product of `shape`, 1 for a scalar).
  int64_t numel() const;
};

/// Checks shape (no negative dims, no overflow) and returns the byte count
/// of a tensor of `type` and `shape`, or an error naming the problem.
caf::expected<uint64_t> checked_nbytes(dtype type, const std::vector<int64_t>& shape,
                                       uint64_t max_bytes);

/// Serializes `t` as a colony.v1.Tensor, optionally compressed.
caf::expected<std::string> encode(const tensor_view& t,
                                  compression mode = compression::none);

/// Parses and validates a colony.v1.Tensor. The string is moved into the
/// result's owner when the tensor is uncompressed.
caf::expected<host_tensor> decode(std::string bytes,
                                  const decode_limits& limits = {});

/// "[2, 3, 4]"
std::string shape_string(const std::vector<int64_t>& shape);

} // namespace colony::wire
