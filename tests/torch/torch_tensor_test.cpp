// torch::Tensor <-> wire round trips (messages/wire/torch_tensor).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "messages/errc.hpp"
#include "messages/wire/torch_tensor.hpp"

using namespace colony;
using namespace colony::wire;

namespace {

torch::Tensor decode_ok(const std::string& bytes) {
  auto t = decode_tensor(bytes);
  EXPECT_TRUE(t) << describe(t.error());
  return t ? *t : torch::Tensor{};
}

std::string encode_ok(const torch::Tensor& t, compression mode = compression::none) {
  auto bytes = encode_tensor(t, mode);
  EXPECT_TRUE(bytes) << describe(bytes.error());
  return bytes ? *bytes : std::string{};
}

/// A tensor of `type` with varied values, including negatives where allowed.
torch::Tensor sample(c10::ScalarType type, at::IntArrayRef shape) {
  if (type == torch::kBool)
    return torch::rand(shape) > 0.5;
  if (type == torch::kUInt8)
    return torch::randint(0, 256, shape).to(type);
  if (c10::isIntegralType(type, false))
    return torch::randint(-100, 100, shape).to(type);
  return (torch::randn(shape) * 10).to(type);
}

} // namespace

TEST(TorchTensor, DtypeMappingIsABijection) {
  for (auto type : {torch::kFloat, torch::kHalf, torch::kBFloat16, torch::kDouble, torch::kLong,
                    torch::kInt, torch::kUInt8, torch::kInt8, torch::kBool}) {
    auto wire = to_wire_dtype(type);
    ASSERT_TRUE(wire) << c10::toString(type);
    EXPECT_EQ(to_torch_dtype(*wire), type);
  }
}

TEST(TorchTensor, RoundTripsEveryDtypeExactly) {
  torch::manual_seed(0);
  for (auto type : {torch::kFloat, torch::kHalf, torch::kBFloat16, torch::kDouble, torch::kLong,
                    torch::kInt, torch::kUInt8, torch::kInt8, torch::kBool}) {
    for (auto shape : {std::vector<int64_t>{3, 4}, std::vector<int64_t>{},
                       std::vector<int64_t>{2, 0, 5}, std::vector<int64_t>{7}}) {
      auto x = sample(type, shape);
      auto y = decode_ok(encode_ok(x));
      ASSERT_TRUE(y.defined());
      EXPECT_EQ(y.scalar_type(), type);
      EXPECT_EQ(y.sizes(), x.sizes());
      EXPECT_TRUE(torch::equal(x, y)) << c10::toString(type);
    }
  }
}

TEST(TorchTensor, Float16CompressionIsWithinTolerance) {
  torch::manual_seed(1);
  auto x = torch::randn({32, 64});
  auto bytes = encode_ok(x, compression::float16);
  EXPECT_LT(bytes.size(), static_cast<size_t>(x.nbytes()));
  auto y = decode_ok(bytes);
  EXPECT_EQ(y.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::allclose(x, y, /*rtol=*/1e-3, /*atol=*/1e-4));
}

TEST(TorchTensor, Uint8CompressionIsWithinOneStep) {
  torch::manual_seed(2);
  auto x = torch::rand({100}) * 4 - 1;
  auto y = decode_ok(encode_ok(x, compression::uint8));
  auto step = (x.max() - x.min()).item<float>() / 255;
  EXPECT_LE((x - y).abs().max().item<float>(), step / 2 + 1e-5);
}

TEST(TorchTensor, NonContiguousInputIsEncodedInLogicalOrder) {
  auto x = torch::arange(12, torch::kFloat).reshape({3, 4}).t();
  ASSERT_FALSE(x.is_contiguous());
  auto y = decode_ok(encode_ok(x));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{4, 3}));
  EXPECT_TRUE(torch::equal(x, y));
  auto sliced = torch::arange(20, torch::kLong).reshape({4, 5}).slice(1, 1, 4, 2);
  EXPECT_TRUE(torch::equal(sliced, decode_ok(encode_ok(sliced))));
}

TEST(TorchTensor, RequiresGradInputIsDetached) {
  auto x = torch::ones({2, 2}, torch::requires_grad());
  auto y = decode_ok(encode_ok(x * 3));
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(torch::equal(y, torch::full({2, 2}, 3.0f)));
}

TEST(TorchTensor, DecodedTensorAliasesTheMessage) {
  auto x = torch::arange(1024, torch::kDouble);
  auto bytes = encode_ok(x);
  auto host = decode(bytes);
  ASSERT_TRUE(host);
  auto message = std::static_pointer_cast<const std::string>(host->owner);
  auto offset = static_cast<size_t>(host->data - reinterpret_cast<const uint8_t*>(message->data()));
  auto t = decode_tensor(std::move(bytes));
  ASSERT_TRUE(t);
  // No copy: the bytes in front of the elements are the message header.
  auto ptr = static_cast<const char*>(t->data_ptr());
  EXPECT_EQ(std::string(ptr - offset, offset), message->substr(0, offset));
  EXPECT_EQ(t->storage().nbytes(), static_cast<size_t>(x.nbytes()));
  EXPECT_TRUE(torch::equal(*t, x));
}

TEST(TorchTensor, DecodedTensorKeepsItsBufferAlive) {
  auto x = torch::arange(64, torch::kFloat);
  torch::Tensor alive;
  {
    auto bytes = encode_ok(x);
    alive = decode_ok(bytes).view({8, 8}).t();
  }
  EXPECT_TRUE(torch::equal(alive, x.view({8, 8}).t()));
}

TEST(TorchTensor, UnsupportedDtypeIsBadDtype) {
  auto complex = torch::zeros({2}, torch::kComplexFloat);
  auto bytes = encode_tensor(complex);
  ASSERT_FALSE(bytes);
  EXPECT_EQ(code_of(bytes.error()), errc::bad_dtype);
  EXPECT_EQ(code_of(to_wire_dtype(torch::kComplexDouble).error()), errc::bad_dtype);
  auto ints = torch::zeros({2}, torch::kLong);
  EXPECT_EQ(code_of(encode_tensor(ints, compression::float16).error()), errc::bad_dtype);
  EXPECT_EQ(code_of(encode_tensor(torch::Tensor{}).error()), errc::bad_request);
}

TEST(TorchTensor, MalformedBytesAreErrors) {
  auto bytes = encode_ok(torch::ones({4}));
  auto t = decode_tensor(bytes.substr(0, bytes.size() - 1));
  ASSERT_FALSE(t);
  EXPECT_EQ(code_of(t.error()), errc::malformed_payload);
}
