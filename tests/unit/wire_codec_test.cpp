// Torch-free tests of the tensor wire codec (messages/wire/tensor_codec).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "colony/v1/tensor.pb.h"
#include "messages/errc.hpp"
#include "messages/wire/half.hpp"
#include "messages/wire/tensor_codec.hpp"

using namespace colony;
using namespace colony::wire;

namespace {

const dtype all_dtypes[] = {dtype::float32, dtype::float16, dtype::bfloat16,
                            dtype::float64, dtype::int64,   dtype::int32,
                            dtype::uint8,   dtype::int8,    dtype::boolean};

/// Owns the bytes of a tensor_view.
struct sample {
  std::vector<uint8_t> bytes;
  tensor_view view;
};

sample make_sample(dtype type, std::vector<int64_t> shape, std::mt19937& rng) {
  int64_t n = 1;
  for (auto d : shape)
    n *= d;
  sample s;
  s.bytes.resize(static_cast<size_t>(n) * element_size(type));
  for (auto& b : s.bytes)
    b = type == dtype::boolean ? rng() % 2 : static_cast<uint8_t>(rng());
  s.view = tensor_view{type, std::move(shape), s.bytes.data(), s.bytes.size()};
  return s;
}

sample make_floats(const std::vector<float>& xs, std::vector<int64_t> shape) {
  sample s;
  s.bytes.resize(xs.size() * sizeof(float));
  if (!xs.empty())
    std::memcpy(s.bytes.data(), xs.data(), s.bytes.size());
  s.view = tensor_view{dtype::float32, std::move(shape), s.bytes.data(), s.bytes.size()};
  return s;
}

std::vector<int64_t> random_shape(std::mt19937& rng) {
  std::vector<int64_t> shape(rng() % 5);
  for (auto& d : shape)
    d = rng() % 8 == 0 ? 0 : 1 + rng() % 7;
  return shape;
}

std::vector<float> decoded_floats(const host_tensor& t) {
  std::vector<float> out(t.nbytes / sizeof(float));
  if (!out.empty())
    std::memcpy(out.data(), t.data, t.nbytes);
  return out;
}

std::string encoded(const sample& s, compression mode = compression::none) {
  auto bytes = encode(s.view, mode);
  EXPECT_TRUE(bytes) << describe(bytes.error());
  return bytes ? *bytes : std::string{};
}

/// A message built with protobuf's own serializer.
std::string proto_message(int type, std::vector<int64_t> shape, std::string data,
                          int mode = 0) {
  v1::Tensor msg;
  msg.set_dtype(static_cast<v1::DType>(type));
  msg.mutable_shape()->Add(shape.begin(), shape.end());
  msg.set_compression(static_cast<v1::Compression>(mode));
  msg.set_data(std::move(data));
  return msg.SerializeAsString();
}

errc decode_code(std::string bytes, decode_limits limits = {}) {
  auto t = decode(std::move(bytes), limits);
  return t ? errc::none : code_of(t.error());
}

std::string decode_context(std::string bytes) {
  auto t = decode(std::move(bytes));
  return t ? std::string{} : context_of(t.error());
}

} // namespace

TEST(WireHalf, KnownValues) {
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00); // rounds up to Inf
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000); // tie to even
  EXPECT_EQ(float_to_half(std::ldexp(3.0f, -25)), 0x0002); // tie to even
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00); // tie to even
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(float_to_half(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(std::nanf("")))));
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(half_to_float(0x7c00)));
}

TEST(WireHalf, EveryHalfSurvivesFloatRoundTrip) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    auto f = half_to_float(static_cast<uint16_t>(h));
    if (std::isnan(f))
      EXPECT_TRUE(std::isnan(half_to_float(float_to_half(f)))) << h;
    else
      EXPECT_EQ(float_to_half(f), h) << h;
  }
}

TEST(WireHalf, BulkMatchesScalar) {
  std::mt19937 rng{7};
  std::vector<float> in(1027);
  for (auto& x : in) {
    auto bits = static_cast<uint32_t>(rng());
    std::memcpy(&x, &bits, sizeof(x));
  }
  std::vector<uint16_t> halves(in.size());
  std::vector<float> back(in.size());
  floats_to_halves(in.data(), halves.data(), in.size());
  halves_to_floats(halves.data(), back.data(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    ASSERT_EQ(halves[i], float_to_half(in[i])) << i;
    auto want = half_to_float(halves[i]);
    ASSERT_TRUE(std::memcmp(&back[i], &want, sizeof(float)) == 0) << i;
  }
}

TEST(WireHalf, Bfloat16RoundsToNearestEven) {
  EXPECT_EQ(float_to_bfloat16(1.0f), 0x3f80);
  auto from_bits = [](uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof(f));
    return f;
  };
  EXPECT_EQ(float_to_bfloat16(from_bits(0x3f808000)), 0x3f80); // tie, even
  EXPECT_EQ(float_to_bfloat16(from_bits(0x3f818000)), 0x3f82); // tie, odd
  EXPECT_EQ(float_to_bfloat16(from_bits(0x3f808001)), 0x3f81);
  EXPECT_EQ(float_to_bfloat16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_TRUE(std::isnan(bfloat16_to_float(float_to_bfloat16(std::nanf("")))));
  EXPECT_EQ(bfloat16_to_float(0x4049), from_bits(0x40490000));
}

TEST(WireCodec, NamesAndShapes) {
  for (auto t : all_dtypes) {
    dtype parsed;
    ASSERT_TRUE(from_string(to_string(t), parsed));
    EXPECT_EQ(parsed, t);
  }
  dtype t;
  EXPECT_FALSE(from_string("complex64", t));
  compression c;
  EXPECT_TRUE(from_string("uint8", c));
  EXPECT_EQ(c, compression::uint8);
  EXPECT_FALSE(from_string("zstd", c));
  EXPECT_EQ(to_string(dtype::boolean), "bool");
  EXPECT_EQ(element_size(dtype::bfloat16), 2u);
  EXPECT_EQ(shape_string({2, 3}), "[2, 3]");
  EXPECT_EQ(shape_string({}), "[]");
  host_tensor h;
  EXPECT_EQ(h.numel(), 1);
  h.shape = {2, 0, 3};
  EXPECT_EQ(h.numel(), 0);
}

TEST(WireCodec, RoundTripsEveryDtypeAndShape) {
  std::mt19937 rng{42};
  for (auto type : all_dtypes) {
    for (int i = 0; i < 40; ++i) {
      auto shape = i == 0 ? std::vector<int64_t>{} : random_shape(rng);
      auto s = make_sample(type, shape, rng);
      auto t = decode(encoded(s));
      ASSERT_TRUE(t) << to_string(type) << shape_string(shape) << ": " << describe(t.error());
      EXPECT_EQ(t->type, type);
      EXPECT_EQ(t->shape, shape);
      ASSERT_EQ(t->nbytes, s.bytes.size());
      EXPECT_TRUE(t->nbytes == 0 || std::memcmp(t->data, s.bytes.data(), t->nbytes) == 0);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data) % 8, 0u);
    }
  }
}

TEST(WireCodec, DecodeIsZeroCopy) {
  std::mt19937 rng{1};
  for (auto type : all_dtypes) {
    auto s = make_sample(type, {3, 5}, rng);
    auto t = decode(encoded(s));
    ASSERT_TRUE(t);
    auto owner = std::static_pointer_cast<const std::string>(t->owner);
    auto begin = reinterpret_cast<const uint8_t*>(owner->data());
    EXPECT_GE(t->data, begin);
    EXPECT_LE(t->data + t->nbytes, begin + owner->size());
  }
}

TEST(WireCodec, InteroperatesWithProtobuf) {
  std::mt19937 rng{3};
  auto s = make_sample(dtype::int64, {4, 3}, rng);
  v1::Tensor parsed;
  ASSERT_TRUE(parsed.ParseFromString(encoded(s)));
  EXPECT_EQ(parsed.dtype(), v1::DTYPE_INT64);
  EXPECT_EQ(parsed.shape_size(), 2);
  EXPECT_EQ(parsed.data(), std::string(s.bytes.begin(), s.bytes.end()));
  v1::Tensor halves;
  auto floats = make_floats({1.0f, 2.0f}, {2});
  ASSERT_TRUE(halves.ParseFromString(encoded(floats, compression::float16)));
  EXPECT_EQ(halves.dtype(), v1::DTYPE_FLOAT32);
  EXPECT_EQ(halves.compression(), v1::COMPRESSION_FLOAT16);
  EXPECT_EQ(halves.data().size(), 4u);
  // Protobuf's own serializer does not align the data: decoded by copy.
  for (int extra_dims = 0; extra_dims < 8; ++extra_dims) {
    std::vector<int64_t> shape(extra_dims, 1);
    shape.push_back(12);
    auto t = decode(proto_message(5, shape, parsed.data()));
    ASSERT_TRUE(t) << describe(t.error());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data) % 8, 0u);
    EXPECT_EQ(std::memcmp(t->data, s.bytes.data(), s.bytes.size()), 0);
  }
}

TEST(WireCodec, Float16CompressionIsWithinHalfPrecision) {
  std::mt19937 rng{5};
  std::normal_distribution<float> dist{0.0f, 100.0f};
  std::vector<float> xs(1000);
  for (auto& x : xs)
    x = dist(rng);
  xs[0] = 1e-7f;   // half subnormal
  xs[1] = 1e6f;    // overflows to Inf
  xs[2] = -std::numeric_limits<float>::infinity();
  xs[3] = std::nanf("");
  auto s = make_floats(xs, {10, 100});
  auto bytes = encoded(s, compression::float16);
  EXPECT_LT(bytes.size(), 2100u);
  auto t = decode(bytes);
  ASSERT_TRUE(t) << describe(t.error());
  EXPECT_EQ(t->type, dtype::float32);
  EXPECT_EQ(t->shape, (std::vector<int64_t>{10, 100}));
  auto ys = decoded_floats(*t);
  ASSERT_EQ(ys.size(), xs.size());
  EXPECT_TRUE(std::isinf(ys[1]) && ys[1] > 0);
  EXPECT_TRUE(std::isinf(ys[2]) && ys[2] < 0);
  EXPECT_TRUE(std::isnan(ys[3]));
  EXPECT_NEAR(ys[0], xs[0], std::ldexp(1.0f, -25));
  for (size_t i = 4; i < xs.size(); ++i)
    EXPECT_LE(std::abs(ys[i] - xs[i]), std::abs(xs[i]) * std::ldexp(1.0f, -11)) << xs[i];
}

TEST(WireCodec, Uint8QuantizationErrorIsHalfAStep) {
  std::mt19937 rng{9};
  std::uniform_real_distribution<float> dist{-3.0f, 5.0f};
  std::vector<float> xs(4096);
  for (auto& x : xs)
    x = dist(rng);
  auto s = make_floats(xs, {64, 64});
  auto bytes = encoded(s, compression::uint8);
  EXPECT_LT(bytes.size(), 4096u + 64u);
  auto t = decode(bytes);
  ASSERT_TRUE(t) << describe(t.error());
  auto [lo, hi] = std::minmax_element(xs.begin(), xs.end());
  auto bound = (*hi - *lo) / 255.0f / 2.0f + 1e-5f;
  auto ys = decoded_floats(*t);
  for (size_t i = 0; i < xs.size(); ++i)
    ASSERT_LE(std::abs(ys[i] - xs[i]), bound) << i;
}

TEST(WireCodec, Uint8HandlesConstantEmptyAndExtremeTensors) {
  auto constant = make_floats(std::vector<float>(10, 2.5f), {10});
  auto t = decode(encoded(constant, compression::uint8));
  ASSERT_TRUE(t);
  EXPECT_EQ(decoded_floats(*t), std::vector<float>(10, 2.5f));
  auto empty = make_floats({}, {0, 4});
  t = decode(encoded(empty, compression::uint8));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->nbytes, 0u);
  auto max = std::numeric_limits<float>::max();
  auto extreme = make_floats({-max, 0.0f, max}, {3});
  t = decode(encoded(extreme, compression::uint8));
  ASSERT_TRUE(t);
  auto ys = decoded_floats(*t);
  EXPECT_EQ(ys[0], -max);
  EXPECT_EQ(ys[2], max);
}

TEST(WireCodec, EncodeRejectsBadViewsAndModes) {
  auto code_of_encode = [](const tensor_view& v, compression mode) {
    auto bytes = encode(v, mode);
    return bytes ? errc::none : code_of(bytes.error());
  };
  auto nan = make_floats({1.0f, std::nanf("")}, {2});
  EXPECT_EQ(code_of_encode(nan.view, compression::uint8), errc::bad_dtype);
  auto inf = make_floats({std::numeric_limits<float>::infinity()}, {});
  EXPECT_EQ(code_of_encode(inf.view, compression::uint8), errc::bad_dtype);
  std::mt19937 rng{2};
  auto ints = make_sample(dtype::int32, {4}, rng);
  EXPECT_EQ(code_of_encode(ints.view, compression::float16), errc::bad_dtype);
  EXPECT_EQ(code_of_encode(ints.view, compression::uint8), errc::bad_dtype);
  auto short_view = ints.view;
  short_view.nbytes = 12;
  EXPECT_EQ(code_of_encode(short_view, compression::none), errc::bad_shape);
  auto negative = ints.view;
  negative.shape = {-4};
  EXPECT_EQ(code_of_encode(negative, compression::none), errc::bad_shape);
}

TEST(WireCodec, DecodeRejectsBadDtypeAndCompression) {
  EXPECT_EQ(decode_code(proto_message(0, {1}, std::string(4, '\0'))), errc::bad_dtype);
  EXPECT_EQ(decode_code(proto_message(42, {1}, std::string(4, '\0'))), errc::bad_dtype);
  EXPECT_EQ(decode_code(proto_message(1, {1}, std::string(4, '\0'), 7)), errc::bad_dtype);
  EXPECT_EQ(decode_code(proto_message(5, {1}, std::string(2, '\0'), 1)), errc::bad_dtype);
  EXPECT_EQ(decode_code(std::string{}), errc::bad_dtype);
}

TEST(WireCodec, DecodeRejectsBadShapes) {
  auto msg = proto_message(1, {2, -1}, {});
  EXPECT_EQ(decode_code(msg), errc::bad_shape);
  EXPECT_EQ(decode_context(msg), "shape [2, -1]: negative dimension");
  int64_t big = int64_t{1} << 62;
  EXPECT_EQ(decode_code(proto_message(1, {big, big}, {})), errc::bad_shape);
  EXPECT_EQ(decode_code(proto_message(7, {0, big, big}, {})), errc::bad_shape);
  EXPECT_EQ(decode_code(proto_message(1, {int64_t{1} << 40}, {})), errc::payload_too_large);
}

TEST(WireCodec, DecodeRejectsByteCountMismatch) {
  auto msg = proto_message(1, {2, 3}, std::string(20, '\0'));
  EXPECT_EQ(decode_code(msg), errc::malformed_payload);
  EXPECT_EQ(decode_context(msg), "data has 20 bytes, shape [2, 3] float32 needs 24");
  EXPECT_EQ(decode_code(proto_message(1, {2}, std::string(8, '\0'), 1)),
            errc::malformed_payload);
}

TEST(WireCodec, DecodeRejectsDuplicatedOrMistypedDataField) {
  std::mt19937 rng{4};
  auto bytes = encoded(make_sample(dtype::float32, {2}, rng));
  EXPECT_EQ(decode_code(bytes + std::string("\x7a\x00", 2)), errc::malformed_payload);
  EXPECT_EQ(decode_context(bytes + std::string("\x7a\x00", 2)), "duplicated data field");
  EXPECT_EQ(decode_code(std::string("\x08\x01\x78\x05", 4)), errc::malformed_payload);
}

TEST(WireCodec, DecodeRejectsInvalidValues) {
  EXPECT_EQ(decode_code(proto_message(9, {2}, std::string("\x01\x02", 2))),
            errc::malformed_payload);
  v1::Tensor msg;
  msg.set_dtype(v1::DTYPE_FLOAT32);
  msg.add_shape(2);
  msg.set_compression(v1::COMPRESSION_UINT8);
  msg.set_quant_min(1.0f);
  msg.set_quant_max(std::nanf(""));
  msg.set_data(std::string(2, '\0'));
  EXPECT_EQ(decode_code(msg.SerializeAsString()), errc::malformed_payload);
  msg.set_quant_max(0.0f);
  EXPECT_EQ(decode_code(msg.SerializeAsString()), errc::malformed_payload);
}

TEST(WireCodec, DecodeEnforcesSizeLimits) {
  std::mt19937 rng{6};
  auto s = make_sample(dtype::float32, {100}, rng);
  decode_limits tight{200};
  EXPECT_EQ(decode_code(encoded(s), tight), errc::payload_too_large);
  std::vector<float> xs(1000, 1.0f);
  auto compressed = encoded(make_floats(xs, {1000}), compression::uint8);
  ASSERT_LT(compressed.size(), 2000u);
  EXPECT_EQ(decode_code(compressed, decode_limits{2000}), errc::payload_too_large);
  EXPECT_EQ(decode_code(compressed, decode_limits{4000}), errc::none);
}

TEST(WireCodec, EveryTruncationIsAnError) {
  for (auto mode : {compression::none, compression::float16, compression::uint8}) {
    auto s = make_floats({1.0f, -2.0f, 3.5f, 0.25f, 8.0f, -1.0f}, {2, 3});
    auto bytes = encoded(s, mode);
    for (size_t n = 0; n < bytes.size(); ++n)
      EXPECT_NE(decode_code(bytes.substr(0, n)), errc::none) << "truncated at " << n;
    EXPECT_EQ(decode_code(bytes), errc::none);
  }
}

TEST(WireCodec, GarbageNeverCrashes) {
  std::mt19937 rng{1234};
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (auto& c : bytes)
      c = static_cast<char>(rng());
    EXPECT_NE(decode_code(bytes), errc::none) << i;
  }
}

TEST(WireCodec, MutatedMessagesNeverCrash) {
  std::mt19937 rng{99};
  auto valid = encoded(make_sample(dtype::int32, {3, 4}, rng));
  for (int i = 0; i < 20000; ++i) {
    auto bytes = valid;
    for (int flips = 1 + rng() % 4; flips > 0; --flips)
      bytes[rng() % bytes.size()] = static_cast<char>(rng());
    auto t = decode(bytes);
    if (t) {
      EXPECT_EQ(static_cast<int64_t>(t->nbytes), t->numel() * 4);
    }
  }
}
