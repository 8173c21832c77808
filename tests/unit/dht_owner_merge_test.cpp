// Merging replicas' copies by owner vote (owner_merge.hpp).
#include <gtest/gtest.h>

#include "actors/dht/owner_merge.hpp"
#include "actors/dht/sealed_value.hpp"

using namespace colony;
using namespace colony::dht;

namespace {

const identity::node_key& honest_key() {
  static const auto key = identity::node_key::generate();
  return key;
}

const identity::node_key& hostile_key() {
  static const auto key = identity::node_key::generate();
  return key;
}

timed_value sealed_by(const identity::node_key& owner, const std::string& payload, double exp) {
  return {seal(owner, node_id::of_key("ffn.0.1"), false, "", payload, exp), exp};
}

record plain_record(timed_value v) {
  record r;
  r.plain = std::move(v);
  return r;
}

} // namespace

TEST(DhtOwnerMergeTest, TheOwnerMostCopiesNameWinsOverALaterExpiration) {
  auto honest = sealed_by(honest_key(), "h:1", 100);
  auto older = sealed_by(honest_key(), "h:1", 90);
  auto hostile = sealed_by(hostile_key(), "evil:1", 500);
  auto merged = merge_copies({plain_record(hostile), plain_record(older), plain_record(honest)});
  EXPECT_EQ(merged.plain, honest); // two copies against one; the newest of them
  EXPECT_FALSE(merged.is_dictionary);
}

TEST(DhtOwnerMergeTest, ATieGoesToTheLaterExpirationAndOneOwnerMergesAsBefore) {
  auto a = sealed_by(honest_key(), "h:1", 100);
  auto b = sealed_by(hostile_key(), "evil:1", 200);
  EXPECT_EQ(vote({a, b}), b);
  EXPECT_EQ(vote({timed_value{"x", 1}, timed_value{"y", 3}, timed_value{"z", 2}}),
            (timed_value{"y", 3})); // unsigned: one group, the latest wins
}

TEST(DhtOwnerMergeTest, DictionariesVotePerSubkeyAndUnite) {
  record x, y, z;
  x.is_dictionary = y.is_dictionary = z.is_dictionary = true;
  x.subkeys = {{"a", {"1", 10}}, {"b", {"2", 10}}};
  y.subkeys = {{"a", {"1", 12}}};
  z.subkeys = {{"c", {"3", 5}}};
  auto merged = merge_copies({x, y, z});
  ASSERT_TRUE(merged.is_dictionary);
  EXPECT_EQ(merged.subkeys.size(), 3u);
  EXPECT_EQ(merged.subkeys.at("a"), (timed_value{"1", 12}));
  EXPECT_EQ(merged.subkeys.at("c"), (timed_value{"3", 5}));
}
