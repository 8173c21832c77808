// Layout written by encode():
//   <colony.v1.Tensor header without compression and data>
//   <field 3 (compression), varint padded to 1..8 bytes>
//   <field 15 tag> <length varint> <element bytes>
// The padding is a valid, non-canonical varint; it places the element bytes
// at an 8-byte aligned offset so that decode() can hand out a typed pointer
// into the received string (heap strings are 16-byte aligned).
#include "messages/wire/tensor_codec.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "colony/v1/tensor.pb.h"
#include "messages/errc.hpp"
#include "messages/wire/half.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the wire format stores little-endian element bytes");

namespace colony::wire {

namespace {

constexpr uint32_t data_field = 15;
constexpr char compression_tag = (3 << 3) | 0;
constexpr char data_tag = (data_field << 3) | 2;
constexpr size_t data_alignment = 8;
/// Protobuf's hard limit for one message.
constexpr uint64_t protobuf_limit = INT_MAX;

/// Indexed by the enum values.
constexpr const char* dtype_names[] = {nullptr, "float32", "float16", "bfloat16", "float64",
                                       "int64", "int32", "uint8", "int8", "bool"};
constexpr size_t dtype_sizes[] = {0, 4, 2, 2, 8, 8, 4, 1, 1, 1};
constexpr const char* compression_names[] = {"none", "float16", "uint8"};
constexpr uint8_t max_dtype = 9;
constexpr uint8_t max_compression = 2;

bool is_valid(dtype t) {
  auto v = static_cast<uint8_t>(t);
  return v >= 1 && v <= max_dtype;
}

bool is_aligned(const void* ptr, size_t alignment) {
  return reinterpret_cast<uintptr_t>(ptr) % alignment == 0;
}

std::string describe(dtype type, const std::vector<int64_t>& shape) {
  return "shape " + shape_string(shape) + " " + to_string(type);
}

std::string to_string(compression mode) {
  auto v = static_cast<uint8_t>(mode);
  if (v > max_compression)
    return "compression(" + std::to_string(v) + ")";
  return compression_names[v];
}

/// Bytes per element on the wire.
size_t wire_element_size(dtype type, compression mode) {
  if (mode == compression::none)
    return element_size(type);
  return mode == compression::float16 ? 2 : 1;
}

size_t varint_size(uint64_t x) {
  size_t n = 1;
  for (; x >= 0x80; x >>= 7)
    ++n;
  return n;
}

/// Appends `x` as a varint of exactly `width` bytes (>= varint_size(x)).
void put_varint(std::string& out, uint64_t x, size_t width) {
  for (size_t i = 0; i + 1 < width; ++i, x >>= 7)
    out.push_back(static_cast<char>((x & 0x7f) | 0x80));
  out.push_back(static_cast<char>(x & 0x7f));
}

/// Returns `data` as floats, copied into `scratch` if misaligned.
const float* float_input(const void* data, size_t n, std::vector<float>& scratch) {
  if (n == 0 || is_aligned(data, alignof(float)))
    return static_cast<const float*>(data);
  scratch.resize(n);
  std::memcpy(scratch.data(), data, n * sizeof(float));
  return scratch.data();
}

/// Serializes the header and the data field prefix; reserves the rest.
caf::expected<std::string> start_message(const tensor_view& t, compression mode, float qmin,
                                         float qmax, uint64_t data_size) {
  v1::Tensor header;
  header.set_dtype(static_cast<v1::DType>(t.type));
  header.mutable_shape()->Add(t.shape.begin(), t.shape.end());
  header.set_quant_min(qmin);
  header.set_quant_max(qmax);
  auto header_size = header.ByteSizeLong();
  auto length_size = varint_size(data_size);
  auto unpadded = header_size + 2 + length_size;
  auto pad = 1 + (data_alignment - (unpadded + 1) % data_alignment) % data_alignment;
  auto total = unpadded + pad + data_size;
  if (total > protobuf_limit)
    return make_error(errc::payload_too_large, describe(t.type, t.shape) + " encodes to "
                                                 + std::to_string(total)
                                                 + " bytes, over protobuf's 2 GiB limit");
  std::string out;
  out.reserve(total);
  header.AppendToString(&out);
  out.push_back(compression_tag);
  put_varint(out, static_cast<uint64_t>(mode), pad);
  out.push_back(data_tag);
  put_varint(out, data_size, length_size);
  return out;
}

/// Smallest and largest value of `x`; error for NaN or Inf.
caf::expected<std::pair<float, float>> finite_range(const float* x, size_t n) {
  if (n == 0)
    return std::make_pair(0.0f, 0.0f);
  float lo = x[0];
  float hi = x[0];
  bool finite = true;
  for (size_t i = 0; i < n; ++i) {
    finite &= (x[i] - x[i]) == 0.0f;
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  if (!finite)
    return make_error(errc::bad_dtype, "uint8 compression needs finite values, got NaN or Inf");
  return std::make_pair(lo, hi);
}

void quantize(const float* x, size_t n, float lo, float hi, uint8_t* out) {
  double step = (static_cast<double>(hi) - lo) / 255.0;
  double inv_step = step > 0 ? 1.0 / step : 0.0;
  for (size_t i = 0; i < n; ++i) {
    double code = (static_cast<double>(x[i]) - lo) * inv_step + 0.5;
    out[i] = static_cast<uint8_t>(std::min(code, 255.0));
  }
}

/// Encodes a float32 view with a lossy mode (one pass over the elements
/// after the range scan of uint8).
caf::expected<std::string> encode_compressed(const tensor_view& t, compression mode) {
  auto n = t.nbytes / sizeof(float);
  std::vector<float> scratch;
  auto in = float_input(t.data, n, scratch);
  std::pair<float, float> range{0.0f, 0.0f};
  if (mode == compression::uint8) {
    auto found = finite_range(in, n);
    if (!found)
      return found.error();
    range = *found;
  }
  auto size = n * wire_element_size(t.type, mode);
  auto out = start_message(t, mode, range.first, range.second, size);
  if (!out || n == 0)
    return out;
  auto pos = out->size();
  out->resize(pos + size);
  if (mode == compression::float16)
    floats_to_halves(in, reinterpret_cast<uint16_t*>(&(*out)[pos]), n);
  else
    quantize(in, n, range.first, range.second, reinterpret_cast<uint8_t*>(&(*out)[pos]));
  return out;
}

caf::error check_view(const tensor_view& t, compression mode) {
  auto nbytes = checked_nbytes(t.type, t.shape, std::numeric_limits<uint64_t>::max());
  if (!nbytes)
    return nbytes.error();
  if (*nbytes != t.nbytes)
    return make_error(errc::bad_shape, "view has " + std::to_string(t.nbytes) + " bytes, "
                                         + describe(t.type, t.shape) + " needs "
                                         + std::to_string(*nbytes));
  if (t.nbytes > 0 && t.data == nullptr)
    return make_error(errc::bad_request, "view has no data");
  if (static_cast<uint8_t>(mode) > max_compression)
    return make_error(errc::bad_dtype, "unknown " + to_string(mode));
  if (mode != compression::none && t.type != dtype::float32)
    return make_error(errc::bad_dtype, to_string(mode) + " compression needs float32, got "
                                         + to_string(t.type));
  return caf::none;
}

// -- decoding -----------------------------------------------------------------

/// Where the fields of a message are: all but the data field copied into
/// `header`, the data field located by offset and size.
struct field_scan {
  std::string header;
  size_t data_offset = 0;
  size_t data_size = 0;
  bool has_data = false;
};

caf::error malformed(std::string what) {
  return make_error(errc::malformed_payload, std::move(what));
}

caf::error read_data_field(google::protobuf::io::CodedInputStream& in, uint32_t tag,
                           size_t total, field_scan& scan) {
  using google::protobuf::internal::WireFormatLite;
  if (WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED)
    return malformed("data field has wire type "
                     + std::to_string(WireFormatLite::GetTagWireType(tag)));
  if (scan.has_data)
    return malformed("duplicated data field");
  uint64_t size = 0;
  if (!in.ReadVarint64(&size))
    return malformed("truncated data field length");
  auto offset = static_cast<size_t>(in.CurrentPosition());
  if (size > total - offset)
    return malformed("data field claims " + std::to_string(size) + " bytes, "
                     + std::to_string(total - offset) + " left");
  in.Skip(static_cast<int>(size));
  scan.data_offset = offset;
  scan.data_size = static_cast<size_t>(size);
  scan.has_data = true;
  return caf::none;
}

caf::expected<field_scan> scan_fields(const std::string& bytes) {
  using google::protobuf::internal::WireFormatLite;
  auto total = bytes.size();
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(total));
  field_scan scan;
  while (static_cast<size_t>(in.CurrentPosition()) < total) {
    auto start = static_cast<size_t>(in.CurrentPosition());
    auto tag = in.ReadTag();
    auto field = WireFormatLite::GetTagFieldNumber(tag);
    if (field == 0)
      return malformed("invalid tag at offset " + std::to_string(start));
    if (field == data_field) {
      if (auto err = read_data_field(in, tag, total, scan))
        return err;
    } else if (WireFormatLite::SkipField(&in, tag)) {
      scan.header.append(bytes, start, static_cast<size_t>(in.CurrentPosition()) - start);
    } else {
      return malformed("field " + std::to_string(field) + " at offset "
                       + std::to_string(start) + " is truncated or invalid");
    }
  }
  return scan;
}

/// The validated header of a message.
struct tensor_header {
  dtype type = dtype::float32;
  compression mode = compression::none;
  std::vector<int64_t> shape;
  float quant_min = 0;
  float quant_max = 0;
};

caf::expected<tensor_header> parse_header(const std::string& bytes) {
  v1::Tensor msg;
  if (!msg.ParseFromString(bytes))
    return malformed("header does not parse");
  auto type = static_cast<int>(msg.dtype());
  if (type < 1 || type > max_dtype)
    return make_error(errc::bad_dtype, type == 0 ? "dtype unspecified"
                                                 : "unsupported dtype " + std::to_string(type));
  auto mode = static_cast<int>(msg.compression());
  if (mode < 0 || mode > max_compression)
    return make_error(errc::bad_dtype, "unknown compression " + std::to_string(mode));
  tensor_header h;
  h.type = static_cast<dtype>(type);
  h.mode = static_cast<compression>(mode);
  if (h.mode != compression::none && h.type != dtype::float32)
    return make_error(errc::bad_dtype,
                      to_string(h.mode) + " compression of " + to_string(h.type));
  h.shape.assign(msg.shape().begin(), msg.shape().end());
  h.quant_min = msg.quant_min();
  h.quant_max = msg.quant_max();
  return h;
}

/// Keeps `bytes` and points into it; copies when the offset is misaligned
/// for the element type (only for messages from other encoders).
host_tensor view_into(std::string bytes, const field_scan& scan, host_tensor t) {
  auto owner = std::make_shared<std::string>(std::move(bytes));
  auto ptr = reinterpret_cast<const uint8_t*>(owner->data()) + scan.data_offset;
  t.nbytes = scan.data_size;
  if (t.nbytes == 0 || is_aligned(ptr, element_size(t.type))) {
    t.data = ptr;
    t.owner = std::move(owner);
    return t;
  }
  auto copy = std::make_shared<std::vector<uint64_t>>((t.nbytes + 7) / 8);
  std::memcpy(copy->data(), ptr, t.nbytes);
  t.data = reinterpret_cast<const uint8_t*>(copy->data());
  t.owner = std::move(copy);
  return t;
}

caf::error check_bools(const std::string& bytes, const field_scan& scan) {
  auto first = bytes.begin() + static_cast<ptrdiff_t>(scan.data_offset);
  auto last = first + static_cast<ptrdiff_t>(scan.data_size);
  if (std::any_of(first, last, [](char c) { return static_cast<uint8_t>(c) > 1; }))
    return malformed("bool tensor holds a byte other than 0 or 1");
  return caf::none;
}

/// Expands compressed elements into a fresh float32 buffer.
caf::expected<host_tensor> decompress(const std::string& bytes, const field_scan& scan,
                                      const tensor_header& h, host_tensor t) {
  auto n = static_cast<size_t>(t.numel());
  std::shared_ptr<float[]> buf{new float[n]}; // no zero fill
  auto src = bytes.data() + scan.data_offset;
  if (h.mode == compression::float16) {
    std::vector<uint16_t> scratch;
    if (n > 0 && !is_aligned(src, alignof(uint16_t))) {
      scratch.resize(n);
      std::memcpy(scratch.data(), src, n * 2);
      src = reinterpret_cast<const char*>(scratch.data());
    }
    halves_to_floats(reinterpret_cast<const uint16_t*>(src), buf.get(), n);
  } else {
    if (!std::isfinite(h.quant_min) || !std::isfinite(h.quant_max) || h.quant_min > h.quant_max)
      return malformed("invalid quantization range [" + std::to_string(h.quant_min) + ", "
                       + std::to_string(h.quant_max) + "]");
    float table[256];
    double step = (static_cast<double>(h.quant_max) - h.quant_min) / 255.0;
    for (int code = 0; code < 256; ++code)
      table[code] = static_cast<float>(h.quant_min + code * step);
    auto codes = reinterpret_cast<const uint8_t*>(src);
    for (size_t i = 0; i < n; ++i)
      buf[i] = table[codes[i]];
  }
  t.data = reinterpret_cast<const uint8_t*>(buf.get());
  t.nbytes = n * sizeof(float);
  t.owner = std::move(buf);
  return t;
}

} // namespace

// -- dtype helpers ------------------------------------------------------------

size_t element_size(dtype t) {
  return is_valid(t) ? dtype_sizes[static_cast<uint8_t>(t)] : 0;
}

std::string to_string(dtype t) {
  if (!is_valid(t))
    return "dtype(" + std::to_string(static_cast<int>(t)) + ")";
  return dtype_names[static_cast<uint8_t>(t)];
}

bool from_string(const std::string& name, dtype& out) {
  for (uint8_t v = 1; v <= max_dtype; ++v)
    if (name == dtype_names[v]) {
      out = static_cast<dtype>(v);
      return true;
    }
  return false;
}

bool from_string(const std::string& name, compression& out) {
  for (uint8_t v = 0; v <= max_compression; ++v)
    if (name == compression_names[v]) {
      out = static_cast<compression>(v);
      return true;
    }
  return false;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0)
      out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

int64_t host_tensor::numel() const {
  int64_t n = 1;
  for (auto d : shape)
    n *= d;
  return n;
}

caf::expected<uint64_t> checked_nbytes(dtype type, const std::vector<int64_t>& shape,
                                       uint64_t max_bytes) {
  if (!is_valid(type))
    return make_error(errc::bad_dtype, "unsupported " + to_string(type));
  // Zero dims are skipped so that the non-zero extents (torch's strides)
  // must fit int64 too.
  uint64_t extent = element_size(type);
  bool empty = false;
  for (auto d : shape) {
    if (d < 0)
      return make_error(errc::bad_shape, "shape " + shape_string(shape) + ": negative dimension");
    if (d == 0)
      empty = true;
    else if (__builtin_mul_overflow(extent, static_cast<uint64_t>(d), &extent)
             || extent > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return make_error(errc::bad_shape, describe(type, shape) + ": byte count overflows");
  }
  auto nbytes = empty ? uint64_t{0} : extent;
  if (nbytes > max_bytes)
    return make_error(errc::payload_too_large, describe(type, shape) + " needs "
                                                 + std::to_string(nbytes) + " bytes, limit is "
                                                 + std::to_string(max_bytes));
  return nbytes;
}

// -- encode / decode ----------------------------------------------------------

caf::expected<std::string> encode(const tensor_view& t, compression mode) {
  if (auto err = check_view(t, mode))
    return err;
  if (mode != compression::none)
    return encode_compressed(t, mode);
  auto out = start_message(t, mode, 0, 0, t.nbytes);
  if (out && t.nbytes > 0)
    out->append(static_cast<const char*>(t.data), t.nbytes);
  return out;
}

caf::expected<host_tensor> decode(std::string bytes, const decode_limits& limits) {
  if (bytes.size() > limits.max_bytes || bytes.size() > protobuf_limit)
    return make_error(errc::payload_too_large,
                      "message has " + std::to_string(bytes.size()) + " bytes, limit is "
                        + std::to_string(std::min(limits.max_bytes, protobuf_limit)));
  auto scan = scan_fields(bytes);
  if (!scan)
    return scan.error();
  auto h = parse_header(scan->header);
  if (!h)
    return h.error();
  auto nbytes = checked_nbytes(h->type, h->shape, limits.max_bytes);
  if (!nbytes)
    return nbytes.error();
  auto want = *nbytes / element_size(h->type) * wire_element_size(h->type, h->mode);
  if (scan->data_size != want)
    return malformed("data has " + std::to_string(scan->data_size) + " bytes, "
                     + describe(h->type, h->shape)
                     + (h->mode == compression::none ? "" : " as " + to_string(h->mode))
                     + " needs " + std::to_string(want));
  if (h->type == dtype::boolean)
    if (auto err = check_bools(bytes, *scan))
      return err;
  host_tensor t;
  t.type = h->type;
  t.shape = std::move(h->shape);
  if (h->mode != compression::none)
    return decompress(bytes, *scan, *h, std::move(t));
  return view_into(std::move(bytes), *scan, std::move(t));
}

} // namespace colony::wire
