// torch::Tensor <-> wire conversions (target colony_messages_torch). Decoded
// tensors alias the received bytes (torch::from_blob with an owning deleter)
// instead of copying them.
#pragma once

#include <string>

#include <caf/expected.hpp>
#include <torch/types.h>

#include "messages/wire/tensor_codec.hpp"

namespace colony::wire {

/// Maps a torch dtype to the wire dtype; error for unsupported ones.
caf::expected<dtype> to_wire_dtype(c10::ScalarType t);

/// Maps a wire dtype to torch.
c10::ScalarType to_torch_dtype(dtype t);

/// Encodes a CPU tensor (made contiguous if needed; detached).
caf::expected<std::string> encode_tensor(const torch::Tensor& t,
                                         compression mode = compression::none);

/// Decodes and validates; the result aliases the decoded buffer.
caf::expected<torch::Tensor> decode_tensor(std::string bytes,
                                           const decode_limits& limits = {});

} // namespace colony::wire
