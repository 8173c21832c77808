#include <gtest/gtest.h>

#include <random>
#include <unordered_set>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>

#include "actors/dht/node_id.hpp"
#include "messages/errc.hpp"

using colony::dht::node_id;

namespace {

/// a + b as a 21-byte big-endian number (no overflow possible).
std::array<uint8_t, 21> sum(const node_id& a, const node_id& b) {
  std::array<uint8_t, 21> result{};
  unsigned carry = 0;
  for (size_t i = node_id::num_bytes; i-- > 0;) {
    auto x = a.bytes()[i] + b.bytes()[i] + carry;
    result[i + 1] = static_cast<uint8_t>(x);
    carry = x >> 8;
  }
  result[0] = static_cast<uint8_t>(carry);
  return result;
}

std::array<uint8_t, 21> widen(const node_id& a) {
  std::array<uint8_t, 21> result{};
  std::copy(a.bytes().begin(), a.bytes().end(), result.begin() + 1);
  return result;
}

size_t leading_zero_bits(const node_id& x) {
  for (size_t i = 0; i < node_id::num_bits; ++i)
    if (x.bit(i))
      return i;
  return node_id::num_bits;
}

} // namespace

TEST(DhtNodeIdTest, OfKeyIsSha1) {
  EXPECT_EQ(node_id::of_key("").to_hex(),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(node_id::of_key("abc").to_hex(),
            "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(DhtNodeIdTest, HexRoundTripsInEitherCase) {
  std::mt19937_64 rng{1};
  auto id = node_id::random(rng);
  auto parsed = node_id::from_hex(id.to_hex());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, id);
  auto upper = node_id::from_hex("A9993E364706816ABA3E25717850C26C9CD0D89D");
  ASSERT_TRUE(upper);
  EXPECT_EQ(*upper, node_id::of_key("abc"));
}

TEST(DhtNodeIdTest, FromHexRejectsBadInput) {
  for (auto text : {"", "abc", "a9993e364706816aba3e25717850c26c9cd0d89",
                    "g9993e364706816aba3e25717850c26c9cd0d89d"}) {
    auto parsed = node_id::from_hex(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(colony::code_of(parsed.error()), colony::errc::bad_request);
  }
}

TEST(DhtNodeIdTest, RandomIsDeterministicPerSeed) {
  std::mt19937_64 a{7};
  std::mt19937_64 b{7};
  EXPECT_EQ(node_id::random(a), node_id::random(b));
  EXPECT_NE(node_id::random(a), node_id::random(a));
}

TEST(DhtNodeIdTest, XorDistanceIsAMetric) {
  std::mt19937_64 rng{2};
  for (int i = 0; i < 200; ++i) {
    auto a = node_id::random(rng);
    auto b = node_id::random(rng);
    auto c = node_id::random(rng);
    EXPECT_EQ(distance(a, a), node_id{});
    EXPECT_NE(distance(a, b), node_id{});
    EXPECT_EQ(distance(a, b), distance(b, a));
    EXPECT_LE(widen(distance(a, c)), sum(distance(a, b), distance(b, c)));
    EXPECT_EQ(a ^ distance(a, b), b); // one point at each distance
  }
}

TEST(DhtNodeIdTest, CommonPrefixBitsCountsLeadingEqualBits) {
  node_id zero;
  EXPECT_EQ(common_prefix_bits(zero, zero), node_id::num_bits);
  EXPECT_EQ(common_prefix_bits(zero, zero.with_bit(0, true)), 0u);
  EXPECT_EQ(common_prefix_bits(zero, zero.with_bit(13, true)), 13u);
  EXPECT_EQ(common_prefix_bits(zero, zero.with_bit(159, true)), 159u);
  std::mt19937_64 rng{3};
  for (int i = 0; i < 200; ++i) {
    auto t = node_id::random(rng);
    auto a = node_id::random(rng);
    auto b = node_id::random(rng);
    EXPECT_EQ(common_prefix_bits(t, a), leading_zero_bits(t ^ a));
    if (common_prefix_bits(t, a) > common_prefix_bits(t, b)) {
      EXPECT_TRUE(nearer(t, a, b));
    }
  }
}

TEST(DhtNodeIdTest, RandomWithPrefixKeepsThePrefix) {
  std::mt19937_64 rng{4};
  for (size_t bits : {0u, 1u, 7u, 8u, 9u, 100u, 160u}) {
    auto prefix = node_id::random(rng);
    auto id = node_id::random_with_prefix(prefix, bits, rng);
    EXPECT_GE(common_prefix_bits(prefix, id), bits);
  }
}

TEST(DhtNodeIdTest, RoundTripsThroughCafBinarySerializer) {
  auto id = node_id::of_key("ffn.3.7");
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  ASSERT_FALSE(sink(id));
  EXPECT_EQ(buf.size(), node_id::num_bytes);
  node_id copy;
  caf::binary_deserializer source{nullptr, buf};
  ASSERT_FALSE(source(copy));
  EXPECT_EQ(copy, id);
  EXPECT_NE(caf::deep_to_string(id).find(id.to_hex()), std::string::npos);
}

TEST(DhtNodeIdTest, HashesIntoUnorderedContainers) {
  std::unordered_set<node_id> ids;
  std::mt19937_64 rng{5};
  for (int i = 0; i < 1000; ++i)
    ids.insert(node_id::random(rng));
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_EQ(ids.count(node_id::of_key("x")), 0u);
}
