// The CLI's only torch code: tensors in files of PyTorch's format
// (torch.save / torch.load) <-> colony.v1.Tensor wire bytes. This header is
// torch-free; tensors cross it as wire bytes.
//
// Accepted files: what Python's torch.save (or torch::pickle_save) wrote
// of one tensor, or of a list or tuple of tensors. Dense CPU tensors of the
// wire dtypes only (float32, float16, bfloat16, float64, int64, int32,
// uint8, int8, bool); a tensor that requires grad is detached.
#pragma once

#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "messages/wire/tensor_codec.hpp"

namespace colony::cli {

/// Reads `path` and encodes each tensor it holds (in file order).
/// errc::io_failed when the file cannot be read; errc::malformed_payload
/// when it is no torch.save file or holds something besides tensors;
/// errc::bad_dtype for a dtype the wire lacks. Messages name `path`.
caf::expected<std::vector<std::string>>
read_tensor_file(const std::string& path, wire::compression mode = wire::compression::none);

/// Writes the wire tensors `tensors` to `path` in torch.save's format: one
/// tensor as a plain tensor, several as a list. Empty error on success.
caf::error write_tensor_file(const std::string& path, const std::vector<std::string>& tensors);

} // namespace colony::cli
