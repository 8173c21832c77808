#include "messages/wire/torch_tensor.hpp"

#include <torch/torch.h>

#include "messages/errc.hpp"

namespace colony::wire {

caf::expected<dtype> to_wire_dtype(c10::ScalarType t) {
  switch (t) {
    case c10::ScalarType::Float: return dtype::float32;
    case c10::ScalarType::Half: return dtype::float16;
    case c10::ScalarType::BFloat16: return dtype::bfloat16;
    case c10::ScalarType::Double: return dtype::float64;
    case c10::ScalarType::Long: return dtype::int64;
    case c10::ScalarType::Int: return dtype::int32;
    case c10::ScalarType::Byte: return dtype::uint8;
    case c10::ScalarType::Char: return dtype::int8;
    case c10::ScalarType::Bool: return dtype::boolean;
    default:
      return make_error(errc::bad_dtype,
                        std::string{"torch dtype "} + c10::toString(t) + " has no wire dtype");
  }
}

c10::ScalarType to_torch_dtype(dtype t) {
  switch (t) {
    case dtype::float32: return c10::ScalarType::Float;
    case dtype::float16: return c10::ScalarType::Half;
    case dtype::bfloat16: return c10::ScalarType::BFloat16;
    case dtype::float64: return c10::ScalarType::Double;
    case dtype::int64: return c10::ScalarType::Long;
    case dtype::int32: return c10::ScalarType::Int;
    case dtype::uint8: return c10::ScalarType::Byte;
    case dtype::int8: return c10::ScalarType::Char;
    case dtype::boolean: return c10::ScalarType::Bool;
  }
  return c10::ScalarType::Undefined;
}

caf::expected<std::string> encode_tensor(const torch::Tensor& t, compression mode) {
  if (!t.defined())
    return make_error(errc::bad_request, "cannot encode an undefined tensor");
  if (t.layout() != torch::kStrided || t.is_quantized())
    return make_error(errc::bad_dtype, "only dense tensors can be encoded");
  auto type = to_wire_dtype(t.scalar_type());
  if (!type)
    return type.error();
  auto dense = t.detach().to(torch::kCPU).resolve_conj().resolve_neg().contiguous();
  tensor_view view;
  view.type = *type;
  view.shape = dense.sizes().vec();
  view.data = dense.data_ptr();
  view.nbytes = dense.nbytes();
  return encode(view, mode);
}

caf::expected<torch::Tensor> decode_tensor(std::string bytes, const decode_limits& limits) {
  auto host = decode(std::move(bytes), limits);
  if (!host)
    return host.error();
  auto owner = host->owner;
  auto options = torch::TensorOptions().dtype(to_torch_dtype(host->type));
  return torch::from_blob(const_cast<uint8_t*>(host->data), host->shape,
                          [owner](void*) mutable { owner.reset(); }, options);
}

} // namespace colony::wire
