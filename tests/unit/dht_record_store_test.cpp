#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "actors/dht/record_store.hpp"

using namespace colony::dht;

namespace {

const node_id key = node_id::of_key("ffn.3.7");
const node_id other = node_id::of_key("ffn.");

} // namespace

TEST(DhtRecordStoreTest, ValueLivesUntilItsExpiration) {
  record_store store;
  ASSERT_TRUE(store.store(key, "a", 10, 0));
  auto got = store.get(key, 9.9);
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->is_dictionary);
  EXPECT_EQ(got->plain, (timed_value{"a", 10}));
  EXPECT_FALSE(store.get(key, 10));
  EXPECT_FALSE(store.get(other, 0));
}

TEST(DhtRecordStoreTest, RejectsAlreadyExpiredWrites) {
  record_store store;
  EXPECT_FALSE(store.store(key, "a", 5, 5));
  EXPECT_FALSE(store.store_subkey(key, "1", "a", 4, 5));
  EXPECT_EQ(store.size(), 0u);
}

TEST(DhtRecordStoreTest, LaterExpirationWins) {
  record_store store;
  ASSERT_TRUE(store.store(key, "old", 10, 0));
  ASSERT_TRUE(store.store(key, "new", 20, 1));
  EXPECT_EQ(store.get(key, 2)->plain, (timed_value{"new", 20}));
}

TEST(DhtRecordStoreTest, RejectedOlderStoreDoesNotShortenLife) {
  record_store store;
  ASSERT_TRUE(store.store(key, "new", 20, 0));
  EXPECT_FALSE(store.store(key, "old", 10, 1));
  EXPECT_FALSE(store.store(key, "same", 20, 1));
  store.purge(15);
  auto got = store.get(key, 15);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->plain, (timed_value{"new", 20}));
}

TEST(DhtRecordStoreTest, SubkeysMergeWithIndependentExpirations) {
  record_store store;
  ASSERT_TRUE(store.store_subkey(key, "3", "ffn.3", 10, 0));
  ASSERT_TRUE(store.store_subkey(key, "5", "ffn.5", 20, 0));
  auto got = store.get(key, 1);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->is_dictionary);
  EXPECT_EQ(got->subkeys.size(), 2u);
  EXPECT_EQ(got->expiration(), 20);
  auto later = store.get(key, 15);
  ASSERT_TRUE(later);
  ASSERT_EQ(later->subkeys.size(), 1u);
  EXPECT_EQ(later->subkeys.begin()->first, "5");
  EXPECT_FALSE(store.get(key, 20));
}

TEST(DhtRecordStoreTest, OlderSubkeyStoreIsRejectedWithoutChange) {
  record_store store;
  ASSERT_TRUE(store.store_subkey(key, "3", "new", 20, 0));
  EXPECT_FALSE(store.store_subkey(key, "3", "old", 10, 1));
  EXPECT_FALSE(store.store_subkey(key, "3", "same", 20, 1));
  EXPECT_EQ(store.get(key, 15)->subkeys.at("3"), (timed_value{"new", 20}));
  ASSERT_TRUE(store.store_subkey(key, "3", "newer", 30, 1));
  EXPECT_EQ(store.get(key, 25)->subkeys.at("3"), (timed_value{"newer", 30}));
}

TEST(DhtRecordStoreTest, PlainValueReplacesDictionaryOnlyIfLaterThanItsLatest) {
  record_store store;
  ASSERT_TRUE(store.store_subkey(key, "1", "a", 10, 0));
  ASSERT_TRUE(store.store_subkey(key, "2", "b", 20, 0));
  EXPECT_FALSE(store.store(key, "plain", 15, 1));
  EXPECT_FALSE(store.store(key, "plain", 20, 1));
  EXPECT_TRUE(store.get(key, 1)->is_dictionary);
  ASSERT_TRUE(store.store(key, "plain", 25, 1));
  auto got = store.get(key, 1);
  EXPECT_FALSE(got->is_dictionary);
  EXPECT_EQ(got->plain, (timed_value{"plain", 25}));
}

TEST(DhtRecordStoreTest, SubkeyReplacesPlainValueOnlyIfLater) {
  record_store store;
  ASSERT_TRUE(store.store(key, "plain", 20, 0));
  EXPECT_FALSE(store.store_subkey(key, "1", "a", 20, 1));
  EXPECT_FALSE(store.get(key, 1)->is_dictionary);
  ASSERT_TRUE(store.store_subkey(key, "1", "a", 30, 1));
  auto got = store.get(key, 1);
  ASSERT_TRUE(got->is_dictionary);
  EXPECT_EQ(got->subkeys.size(), 1u);
  EXPECT_EQ(got->subkeys.at("1"), (timed_value{"a", 30}));
}

TEST(DhtRecordStoreTest, ExpiredValueDoesNotBlockNewWrites) {
  record_store store;
  ASSERT_TRUE(store.store(key, "plain", 10, 0));
  ASSERT_TRUE(store.store_subkey(key, "1", "a", 12, 11));
  ASSERT_TRUE(store.store(other, "x", 10, 0));
  ASSERT_TRUE(store.store(other, "y", 12, 11));
  EXPECT_EQ(store.get(other, 11)->plain.value, "y");
}

TEST(DhtRecordStoreTest, PurgeDropsExpiredKeysAndSubkeys) {
  record_store store;
  ASSERT_TRUE(store.store(key, "a", 10, 0));
  ASSERT_TRUE(store.store_subkey(other, "1", "x", 10, 0));
  ASSERT_TRUE(store.store_subkey(other, "2", "y", 30, 0));
  store.purge(20);
  EXPECT_EQ(store.size(), 1u);
  auto got = store.get(other, 0);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->subkeys.size(), 1u);
  store.purge(30);
  EXPECT_EQ(store.size(), 0u);
}

TEST(DhtRecordStoreTest, FullStoreEvictsSoonestToExpire) {
  record_store store{2};
  auto third = node_id::of_key("third");
  ASSERT_TRUE(store.store(key, "a", 10, 0));
  ASSERT_TRUE(store.store_subkey(other, "1", "b", 30, 0));
  EXPECT_FALSE(store.store(third, "c", 5, 0));
  ASSERT_TRUE(store.store(third, "c", 20, 0));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_FALSE(store.get(key, 0));
  EXPECT_TRUE(store.get(other, 0));
  EXPECT_TRUE(store.get(third, 0));
  ASSERT_TRUE(store.store(third, "d", 40, 1));
  EXPECT_EQ(store.size(), 2u);
}

TEST(DhtRecordStoreTest, RecordRoundTripsThroughCafBinarySerializer) {
  record x;
  x.is_dictionary = true;
  x.subkeys["3"] = {"ffn.3", 10.5};
  x.subkeys["7"] = {"ffn.7", 20.25};
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  ASSERT_FALSE(sink(x));
  record y;
  caf::binary_deserializer source{nullptr, buf};
  ASSERT_FALSE(source(y));
  EXPECT_EQ(y, x);
}
