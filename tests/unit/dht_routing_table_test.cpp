#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "actors/dht/routing_table.hpp"
#include "tests/unit/dht_ids.hpp"

using namespace colony::dht;
using namespace colony::dht::test_ids;

namespace {

/// A random id whose leading bits are `bits` (a string of '0' and '1').
node_id with_prefix(const std::string& bits, std::mt19937_64& rng) {
  node_id prefix;
  for (size_t i = 0; i < bits.size(); ++i)
    prefix = prefix.with_bit(i, bits[i] == '1');
  return node_id::random_with_prefix(prefix, bits.size(), rng);
}

/// All stored contacts, read through buckets().
std::vector<node_id> stored_ids(const routing_table& table) {
  std::vector<node_id> result;
  for (const auto& b : table.buckets())
    for (const auto& c : b.contacts)
      result.push_back(c.id);
  return result;
}

const k_bucket& bucket_of(const routing_table& table, const node_id& id) {
  for (const auto& b : table.buckets())
    if (b.covers(id))
      return b;
  throw std::logic_error("buckets do not cover the id space");
}

} // namespace

TEST(DhtRoutingTableTest, NeverStoresOwnId) {
  std::mt19937_64 rng{1};
  auto self = node_id::random(rng);
  routing_table table{self};
  EXPECT_EQ(table.update(make_contact(self), 1).outcome,
            update_outcome::ignored);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.find(self));
}

TEST(DhtRoutingTableTest, FullBucketHoldingSelfSplits) {
  std::mt19937_64 rng{2};
  routing_table table{node_id{}, 2, 5};
  for (int i = 0; i < 3; ++i) {
    auto r = table.update(make_contact(with_prefix("1", rng)), i);
    EXPECT_EQ(r.outcome, update_outcome::added);
  }
  EXPECT_EQ(table.size(), 3u);
  EXPECT_GE(table.buckets().size(), 2u);
}

TEST(DhtRoutingTableTest, FarBucketAtModuloDepthDoesNotSplit) {
  std::mt19937_64 rng{3};
  routing_table table{node_id{}, 2, 5};
  std::vector<node_id> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(with_prefix("10000", rng));
  table.update(make_contact(ids[0]), 1);
  table.update(make_contact(ids[1]), 2);
  auto r = table.update(make_contact(ids[2]), 3);
  EXPECT_EQ(r.outcome, update_outcome::replacement);
  const auto& b = bucket_of(table, ids[2]);
  EXPECT_EQ(b.depth, 5u);
  EXPECT_EQ(b.contacts.size(), 2u);
  EXPECT_EQ(b.replacements.size(), 1u);
  EXPECT_FALSE(table.find(ids[2]));
}

TEST(DhtRoutingTableTest, ClassicKademliaSplitsOnlyTheBucketHoldingSelf) {
  std::mt19937_64 rng{4};
  routing_table table{node_id{}, 2, 1};
  std::vector<node_id> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(with_prefix("1", rng));
  for (size_t i = 0; i < ids.size(); ++i)
    table.update(make_contact(ids[i]), static_cast<double>(i));
  EXPECT_EQ(bucket_of(table, ids[2]).depth, 1u);
  EXPECT_EQ(table.size(), 2u);
}

TEST(DhtRoutingTableTest, SiblingBelowModuloDepthSplitsDownToNextMultiple) {
  std::mt19937_64 rng{5};
  routing_table table{node_id{}, 2, 5};
  std::vector<node_id> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(with_prefix("0000010000", rng));
  update_result last;
  for (size_t i = 0; i < ids.size(); ++i)
    last = table.update(make_contact(ids[i]), static_cast<double>(i));
  EXPECT_EQ(last.outcome, update_outcome::replacement);
  EXPECT_EQ(bucket_of(table, ids[2]).depth, 10u);
}

TEST(DhtRoutingTableTest, PingCandidateIsLeastRecentlySeenNotYetPinged) {
  std::mt19937_64 rng{6};
  routing_table table{node_id{}, 2, 5};
  auto a = with_prefix("10000", rng);
  auto b = with_prefix("10000", rng);
  table.update(make_contact(a), 1);
  table.update(make_contact(b), 2);
  EXPECT_EQ(table.update(make_contact(a), 3).outcome,
            update_outcome::refreshed);
  auto first = table.update(make_contact(with_prefix("10000", rng)), 4);
  ASSERT_TRUE(first.ping);
  EXPECT_EQ(first.ping->id, b);
  auto second = table.update(make_contact(with_prefix("10000", rng)), 5);
  ASSERT_TRUE(second.ping);
  EXPECT_EQ(second.ping->id, a);
  auto third = table.update(make_contact(with_prefix("10000", rng)), 6);
  EXPECT_FALSE(third.ping);
  EXPECT_EQ(table.update(make_contact(b), 7).outcome,
            update_outcome::refreshed);
  auto fourth = table.update(make_contact(with_prefix("10000", rng)), 8);
  ASSERT_TRUE(fourth.ping);
  EXPECT_EQ(fourth.ping->id, b);
}

TEST(DhtRoutingTableTest, RemovePromotesNewestReplacement) {
  std::mt19937_64 rng{7};
  routing_table table{node_id{}, 2, 5};
  std::vector<node_id> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(with_prefix("10000", rng));
    table.update(make_contact(ids.back()), i);
  }
  ASSERT_FALSE(table.find(ids[2]));
  ASSERT_FALSE(table.find(ids[3]));
  EXPECT_TRUE(table.remove(ids[0]));
  EXPECT_FALSE(table.find(ids[0]));
  ASSERT_TRUE(table.find(ids[3]));
  EXPECT_EQ(table.find(ids[3])->last_seen, 3);
  EXPECT_FALSE(table.find(ids[2]));
  EXPECT_EQ(table.size(), 2u);
  EXPECT_TRUE(table.remove(ids[2])); // a replacement
  EXPECT_TRUE(bucket_of(table, ids[2]).replacements.empty());
  EXPECT_FALSE(table.remove(ids[2]));
  EXPECT_TRUE(table.remove(ids[1]));
  EXPECT_EQ(table.size(), 1u);
}

TEST(DhtRoutingTableTest, ReplacementsAreBoundedByK) {
  std::mt19937_64 rng{8};
  routing_table table{node_id{}, 3, 5};
  for (int i = 0; i < 20; ++i)
    table.update(make_contact(with_prefix("10000", rng)), i);
  const auto& b = bucket_of(table, with_prefix("10000", rng));
  EXPECT_EQ(b.contacts.size(), 3u);
  EXPECT_EQ(b.replacements.size(), 3u);
  EXPECT_EQ(b.replacements.back().last_seen, 19);
}

TEST(DhtRoutingTableTest, UpdateRefreshesEndpointAndRecency) {
  std::mt19937_64 rng{9};
  routing_table table{node_id::random(rng), 20, 5};
  auto id = node_id::random(rng);
  table.update(make_contact(id), 1);
  table.update(make_contact(node_id::random(rng)), 2);
  EXPECT_EQ(table.update({id, {"10.0.0.2", 5000}, 0}, 3).outcome,
            update_outcome::refreshed);
  auto found = table.find(id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->ep.to_string(), "10.0.0.2:5000");
  EXPECT_EQ(found->last_seen, 3);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.buckets().front().contacts.back().id, id);
}

TEST(DhtRoutingTableTest, BucketsPartitionTheIdSpace) {
  std::mt19937_64 rng{10};
  routing_table table{node_id::random(rng), 4, 5};
  for (int i = 0; i < 500; ++i)
    table.update(make_contact(node_id::random(rng)), i);
  for (int i = 0; i < 500; ++i) {
    auto id = node_id::random(rng);
    auto covering = std::count_if(table.buckets().begin(),
                                  table.buckets().end(),
                                  [&](const k_bucket& b) { return b.covers(id); });
    EXPECT_EQ(covering, 1);
  }
  for (const auto& b : table.buckets())
    EXPECT_LE(b.contacts.size(), 4u);
}

TEST(DhtRoutingTableTest, ClosestMatchesBruteForceOverThousandIds) {
  std::mt19937_64 rng{11};
  auto self = node_id::random(rng);
  routing_table table{self, 20, 5};
  std::vector<node_id> all;
  for (int i = 0; i < 1000; ++i) {
    all.push_back(node_id::random(rng));
    table.update(make_contact(all.back()), i);
  }
  auto stored = stored_ids(table);
  EXPECT_EQ(stored.size(), table.size());
  for (int i = 0; i < 200; ++i) {
    auto target = node_id::random(rng);
    EXPECT_EQ(ids_of(table.closest(target, 20)), brute_force(stored, target, 20));
  }
  EXPECT_EQ(ids_of(table.closest(self, 20)), brute_force(all, self, 20));
}

TEST(DhtRoutingTableTest, ClosestKeepsEveryIdWhenBucketsAreLarge) {
  std::mt19937_64 rng{12};
  routing_table table{node_id::random(rng), 1000, 5};
  std::vector<node_id> all;
  for (int i = 0; i < 1000; ++i) {
    all.push_back(node_id::random(rng));
    table.update(make_contact(all.back()), i);
  }
  for (int i = 0; i < 100; ++i) {
    auto target = node_id::random(rng);
    EXPECT_EQ(ids_of(table.closest(target, 20)), brute_force(all, target, 20));
  }
}

TEST(DhtRoutingTableTest, ClosestLeavesOutExcludedId) {
  std::mt19937_64 rng{13};
  routing_table table{node_id::random(rng)};
  std::vector<node_id> all;
  for (int i = 0; i < 50; ++i) {
    all.push_back(node_id::random(rng));
    table.update(make_contact(all.back()), i);
  }
  auto target = all[7];
  auto with = table.closest(target, 5);
  ASSERT_EQ(with.front().id, target);
  auto without = table.closest(target, 5, target);
  ASSERT_EQ(without.size(), 5u);
  auto six = ids_of(table.closest(target, 6));
  EXPECT_EQ(ids_of(without), std::vector<node_id>(six.begin() + 1, six.end()));
  EXPECT_EQ(table.closest(target, 100).size(), table.size());
}

TEST(DhtRoutingTableTest, StaleBucketsNameIdsInRangesNotUpdatedRecently) {
  std::mt19937_64 rng{14};
  routing_table table{node_id{}, 2, 5};
  table.update(make_contact(with_prefix("1", rng)), 0);
  table.update(make_contact(with_prefix("01", rng)), 0);
  table.update(make_contact(with_prefix("001", rng)), 0); // splits
  table.update(make_contact(with_prefix("1", rng)), 100);
  auto stale = table.stale_buckets(110, 60, rng);
  ASSERT_FALSE(stale.empty());
  for (const auto& id : stale) {
    const auto& b = bucket_of(table, id);
    EXPECT_LT(b.last_updated, 50);
  }
  EXPECT_LT(stale.size(), table.buckets().size());
  for (const auto& id : stale)
    table.mark_refreshed(id, 110);
  EXPECT_TRUE(table.stale_buckets(110, 60, rng).empty());
}

TEST(DhtRoutingTableTest, ContactRoundTripsThroughCafBinarySerializer) {
  contact x{node_id::of_key("peer"), {"10.1.2.3", 31337}, 12.5};
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  ASSERT_FALSE(sink(x));
  contact y;
  caf::binary_deserializer source{nullptr, buf};
  ASSERT_FALSE(source(y));
  EXPECT_EQ(y, x);
}
