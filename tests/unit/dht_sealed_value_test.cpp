// sealed_value: a signed envelope inside a DHT value. A seal verifies only
// for the record (key, subkey, payload, expiration) it was made for, plain
// values pass through as unsigned, and malformed envelopes never crash.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "actors/dht/sealed_value.hpp"

namespace colony::dht::sealed_value_test {
namespace {

using identity::node_key;

/// The record every test seals, with the fields it can vary.
struct record {
  node_id key = node_id::of_key("experts.ffn.3");
  bool has_subkey = true;
  std::string subkey = "ffn.3.7";
  std::string payload = "127.0.0.1:4000";
  double expiration = 1700000123.25;
};

std::string seal_record(const node_key& owner, const record& r) {
  return seal(owner, r.key, r.has_subkey, r.subkey, r.payload, r.expiration);
}

opened_value open_record(const record& r, std::string_view value) {
  return open_value(r.key, r.has_subkey, r.subkey, value, r.expiration);
}

std::string flip_bit(std::string x, size_t bit) {
  x[bit / 8] = static_cast<char>(x[bit / 8] ^ (1 << (bit % 8)));
  return x;
}

TEST(SealedValueTest, SealedValueOpensAsValidWithOwnerAndPayload) {
  auto owner = node_key::generate();
  record r;
  auto value = seal_record(owner, r);
  EXPECT_TRUE(is_sealed(value));
  EXPECT_EQ(value.size(), seal_header_size + r.payload.size());
  auto opened = open_record(r, value);
  EXPECT_EQ(opened.state, seal_state::valid);
  EXPECT_EQ(opened.owner, owner.public_key());
  EXPECT_EQ(opened.payload, r.payload);
}

TEST(SealedValueTest, EmptyPayloadAndSubkeyRoundTrip) {
  auto owner = node_key::generate();
  record r;
  r.has_subkey = false;
  r.subkey.clear();
  r.payload.clear();
  auto opened = open_record(r, seal_record(owner, r));
  EXPECT_EQ(opened.state, seal_state::valid);
  EXPECT_EQ(opened.payload, "");
}

TEST(SealedValueTest, AnyChangeToTheRecordMakesItInvalid) {
  auto owner = node_key::generate();
  record r;
  auto value = seal_record(owner, r);
  std::vector<record> changed(7, r);
  changed[0].key = node_id::of_key("experts.ffn.4");
  changed[1].has_subkey = false;
  changed[2].subkey = "ffn.3.8";
  changed[3].expiration = r.expiration * (1 + 1e-9);
  changed[4].expiration = std::nextafter(r.expiration, 0.0);
  changed[5].subkey = std::string{"ffn.3.7\0", 8};
  changed[6].subkey = "";
  for (size_t i = 0; i < changed.size(); ++i) {
    auto opened = open_record(changed[i], value);
    EXPECT_EQ(opened.state, seal_state::invalid) << "change " << i;
    EXPECT_EQ(opened.owner, "") << "change " << i;
    EXPECT_EQ(opened.payload, "") << "change " << i;
  }
}

TEST(SealedValueTest, AnyFlippedBitOfTheEnvelopeMakesItInvalidOrUnsigned) {
  auto owner = node_key::generate();
  record r;
  auto value = seal_record(owner, r);
  for (size_t bit = 0; bit < value.size() * 8; ++bit) {
    auto opened = open_record(r, flip_bit(value, bit));
    auto expected = bit < seal_magic.size() * 8 ? seal_state::unsigned_value : seal_state::invalid;
    EXPECT_EQ(opened.state, expected) << "bit " << bit;
  }
}

TEST(SealedValueTest, AppendedOrRemovedPayloadBytesMakeItInvalid) {
  auto owner = node_key::generate();
  record r;
  auto value = seal_record(owner, r);
  EXPECT_EQ(open_record(r, value + "0").state, seal_state::invalid);
  EXPECT_EQ(open_record(r, value.substr(0, value.size() - 1)).state, seal_state::invalid);
}

TEST(SealedValueTest, PlainValueIsUnsignedWithPayloadEqualToValue) {
  record r;
  for (std::string plain : {std::string{"127.0.0.1:4000"}, std::string{}, std::string{"\0", 1},
                            std::string{"\0csv1", 5}, std::string{"csv1:abc"}}) {
    EXPECT_FALSE(is_sealed(plain));
    auto opened = open_record(r, plain);
    EXPECT_EQ(opened.state, seal_state::unsigned_value);
    EXPECT_EQ(opened.owner, "");
    EXPECT_EQ(opened.payload, plain);
    EXPECT_EQ(owner_of(plain), std::nullopt);
  }
}

TEST(SealedValueTest, TruncatedEnvelopesAreInvalidOrUnsignedNeverACrash) {
  auto owner = node_key::generate();
  record r;
  auto value = seal_record(owner, r);
  for (size_t n = 0; n <= seal_header_size; ++n) {
    auto cut = value.substr(0, n);
    auto opened = open_record(r, cut);
    auto expected = n < seal_magic.size() ? seal_state::unsigned_value : seal_state::invalid;
    EXPECT_EQ(opened.state, expected) << "length " << n;
    EXPECT_EQ(owner_of(cut).has_value(), n == seal_header_size) << "length " << n;
  }
}

TEST(SealedValueTest, OwnerOfAgreesWithOpenValue) {
  auto owner = node_key::generate();
  record r;
  auto value = seal_record(owner, r);
  auto opened = open_record(r, value);
  ASSERT_EQ(opened.state, seal_state::valid);
  EXPECT_EQ(owner_of(value), opened.owner);
  EXPECT_EQ(owner_of(value), owner.public_key());
}

TEST(SealedValueTest, TwoOwnersSignTheSameRecordDifferentlyEachUnderItsOwnKeyOnly) {
  auto a = node_key::generate();
  auto b = node_key::generate();
  record r;
  auto by_a = seal_record(a, r);
  auto by_b = seal_record(b, r);
  EXPECT_NE(by_a, by_b);
  EXPECT_EQ(open_record(r, by_a).owner, a.public_key());
  EXPECT_EQ(open_record(r, by_b).owner, b.public_key());
  auto owner_offset = seal_magic.size();
  auto a_signed_as_b = by_a;
  a_signed_as_b.replace(owner_offset, node_key::public_key_size, b.public_key());
  EXPECT_EQ(open_record(r, a_signed_as_b).state, seal_state::invalid);
  auto b_signed_as_a = by_b;
  b_signed_as_a.replace(owner_offset, node_key::public_key_size, a.public_key());
  EXPECT_EQ(open_record(r, b_signed_as_a).state, seal_state::invalid);
}

TEST(SealedValueTest, SigningMessageSeparatesSubkeyFromPayload) {
  node_id key = node_id::of_key("k");
  EXPECT_NE(signing_message(key, true, "ab", "c", 1.0), signing_message(key, true, "a", "bc", 1.0));
  EXPECT_NE(signing_message(key, true, "", "x", 1.0), signing_message(key, false, "", "x", 1.0));
  EXPECT_NE(signing_message(key, true, "", "x", 0.0), signing_message(key, true, "", "x", -0.0));
  EXPECT_EQ(signing_message(key, true, "s", "p", 2.5).substr(0, 20), "colony-dht-record-v1");
}

} // namespace
} // namespace colony::dht::sealed_value_test
