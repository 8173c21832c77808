#include <gtest/gtest.h>

#include "actors/dht/expert_directory.hpp"
#include "actors/dht/sealed_value.hpp"
#include "messages/errc.hpp"

using namespace colony;
using namespace colony::dht;

namespace {

const identity::node_key& directory_owner() {
  static const auto key = identity::node_key::generate();
  return key;
}

/// A dictionary entry of `prefix` sealed by `owner`.
dht_value sealed_entry(const std::string& prefix, const std::string& subkey,
                       const std::string& ep, double expiration,
                       const identity::node_key& owner = directory_owner()) {
  return {subkey, seal(owner, node_id::of_key(prefix), true, subkey, ep, expiration), expiration};
}

} // namespace

TEST(DhtExpertDirectoryTest, DeclarationItemsCoverUidsAndEachPrefixEntryOnceSealed) {
  auto keys_of = [](const std::vector<std::string>& uids) {
    auto items = declaration_items(uids, {"10.0.0.1", 7000}, 99, directory_owner());
    EXPECT_TRUE(items);
    std::vector<std::string> got;
    for (const auto& x : *items) {
      auto opened = open_value(node_id::of_key(x.key), x.has_subkey, x.subkey, x.value, 99);
      EXPECT_EQ(opened.state, seal_state::valid);
      EXPECT_EQ(opened.owner, directory_owner().public_key());
      EXPECT_EQ(opened.payload, "10.0.0.1:7000");
      EXPECT_EQ(x.expiration, 99);
      got.push_back(x.key + (x.has_subkey ? "[" + x.subkey + "]" : ""));
    }
    return got;
  };
  // Nothing under a grid's root but one-dimensional uids; upper levels
  // below it per owner.
  EXPECT_EQ(keys_of({"ffn.3.7", "ffn.3.12"}),
            (std::vector<std::string>{"ffn.3.7", "ffn.3.12", "ffn.3.[7]", "ffn.3.[12]"}));
  auto fp = directory_owner().fingerprint();
  EXPECT_EQ(keys_of({"ffn.3.7.1", "ffn.3.12.1", "gate.5"}),
            (std::vector<std::string>{"ffn.3.7.1", "ffn.3.12.1", "gate.5", "ffn.3.[7@" + fp + "]",
                                      "ffn.3.7.[1]", "ffn.3.[12@" + fp + "]", "ffn.3.12.[1]",
                                      "gate.[5]"}));
}

TEST(DhtExpertDirectoryTest, InvalidUidIsBadRequest) {
  auto items = declaration_items({"ffn.3.7", "ffn."}, {"h", 1}, 99, directory_owner());
  ASSERT_FALSE(items);
  EXPECT_EQ(code_of(items.error()), errc::bad_request);
}

TEST(DhtExpertDirectoryTest, SuccessorsSkipMalformedUnsignedAndForgedEntries) {
  auto other = identity::node_key::generate();
  auto forged = sealed_entry("ffn.", "5", "h:5", 9); // signed for another expiration
  forged.expiration = 10;
  auto moved = sealed_entry("ffn.3.", "6", "h:6", 9); // signed for another key
  dht_get_result r{true,
                   dht_record{true,
                              {sealed_entry("ffn.", "3", "h:1", 9), sealed_entry("ffn.", "07", "h:2", 9),
                               sealed_entry("ffn.", "4", "nope", 9),
                               sealed_entry("ffn.", "12", "h:3", 9, other),
                               {"8", "h:8", 9}, // unsigned
                               forged, moved, sealed_entry("ffn.", "9", "", 9)}}, // withdrawn
                   1};
  auto s = successors("ffn.", r);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.at(3), (endpoint{"h", 1}));
  EXPECT_EQ(s.at(12), (endpoint{"h", 3})); // any owner's valid seal
  EXPECT_TRUE(successors("ffn.", dht_get_result{}).empty());
  EXPECT_EQ(successors("ffn.3.", r), (std::map<int64_t, endpoint>{{6, {"h", 6}}})); // sealed for ffn.3.
}

TEST(DhtExpertDirectoryTest, ExpertEndpointReadsValidSealedPlainValuesOnly) {
  auto value = seal(directory_owner(), node_id::of_key("ffn.0.1"), false, "", "h:5", 9);
  dht_get_result r{true, dht_record{false, {{"", value, 9}}}, 2};
  EXPECT_EQ(expert_endpoint("ffn.0.1", r), (endpoint{"h", 5}));
  EXPECT_FALSE(expert_endpoint("ffn.0.2", r)); // sealed for another uid
  r.value.values[0].expiration = 10;           // a replay kept alive
  EXPECT_FALSE(expert_endpoint("ffn.0.1", r));
  r.value.values[0] = {"", "h:5", 9}; // unsigned
  EXPECT_FALSE(expert_endpoint("ffn.0.1", r));
  r.value.is_dictionary = true;
  EXPECT_FALSE(expert_endpoint("ffn.0.1", r));
  EXPECT_FALSE(expert_endpoint("ffn.0.1", dht_get_result{}));
}

TEST(DhtExpertDirectoryTest, DeclarationsListEveryValidEntryWithItsExpiration) {
  dht_get_result r{true,
                   dht_record{true, {sealed_entry("ffn.", "1", "h:1", 9),
                                     sealed_entry("ffn.", "2", "h:2", 11), {"3", "h:3", 9}}},
                   1};
  auto d = declarations("ffn.", r);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], std::make_pair(endpoint{"h", 1}, 9.0));
  EXPECT_EQ(d[1], std::make_pair(endpoint{"h", 2}, 11.0));
}

TEST(DhtExpertDirectoryTest, UpperLevelEntriesArePerOwnerAndAUidsOwnEntryWins) {
  auto other = identity::node_key::generate();
  dht_get_result r{true,
                   dht_record{true, {sealed_entry("ffn.", "3@" + other.fingerprint(), "h:2", 9, other),
                                     sealed_entry("ffn.", "3", "h:1", 9),
                                     sealed_entry("ffn.", "4@" + other.fingerprint(), "h:4", 9, other),
                                     sealed_entry("ffn.", "x@y", "h:5", 9)}},
                   1};
  auto s = successors("ffn.", r);
  EXPECT_EQ(s, (std::map<int64_t, endpoint>{{3, {"h", 1}}, {4, {"h", 4}}}));
}
