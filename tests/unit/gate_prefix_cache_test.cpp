#include <gtest/gtest.h>

#include <string>

#include "actors/gate/prefix_cache.hpp"

using namespace colony;
using namespace colony::gate;

namespace {

prefix_cache_config small_config() {
  prefix_cache_config cfg;
  cfg.max_entries = 2;
  cfg.expiry_s = 5;
  cfg.max_negative = 2;
  cfg.negative_expiry_s = 2;
  return cfg;
}

const successor_map some{{3, {"h", 1}}, {7, {"h", 2}}};

} // namespace

TEST(PrefixCacheTest, UnknownKeyMisses) {
  prefix_cache cache(small_config());
  EXPECT_FALSE(cache.find("ffn.", 0));
}

TEST(PrefixCacheTest, HitsBeforeExpiryAndMissesAfter) {
  prefix_cache cache(small_config());
  cache.put("ffn.", some, 10);
  auto hit = cache.find("ffn.", 14.9);
  ASSERT_TRUE(hit);
  EXPECT_EQ(*hit, some);
  EXPECT_FALSE(cache.find("ffn.", 15));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(PrefixCacheTest, NegativeEntryHitsAsEmptyMapUntilItsOwnExpiry) {
  prefix_cache cache(small_config());
  cache.put("ffn.3.", {}, 10);
  auto hit = cache.find("ffn.3.", 11.9);
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit->empty());
  EXPECT_FALSE(cache.find("ffn.3.", 12));
  EXPECT_EQ(cache.negative_size(), 0u);
}

TEST(PrefixCacheTest, EmptyAnswerGoesToNegativeCacheOnly) {
  prefix_cache cache(small_config());
  cache.put("ffn.3.", {}, 0);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.negative_size(), 1u);
  cache.put("ffn.4.", some, 0);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.negative_size(), 1u);
}

TEST(PrefixCacheTest, PositiveAnswerReplacesNegativeEntryAndViceVersa) {
  prefix_cache cache(small_config());
  cache.put("ffn.3.", {}, 0);
  cache.put("ffn.3.", some, 1);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.negative_size(), 0u);
  EXPECT_EQ(cache.find("ffn.3.", 2), some);
  cache.put("ffn.3.", {}, 3);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.negative_size(), 1u);
  EXPECT_EQ(cache.find("ffn.3.", 4), successor_map{});
}

TEST(PrefixCacheTest, RefreshingAnEntryExtendsItsExpiry) {
  prefix_cache cache(small_config());
  cache.put("ffn.", some, 0);
  cache.put("ffn.", some, 4);
  EXPECT_TRUE(cache.find("ffn.", 8));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(PrefixCacheTest, EvictsTheEntryExpiringFirstOverTheBound) {
  prefix_cache cache(small_config());
  cache.put("a.", some, 1);
  cache.put("b.", some, 2);
  cache.put("c.", some, 3);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.find("a.", 3));
  cache.put("b.", some, 4);  // b now expires after c
  cache.put("d.", some, 5);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.find("c.", 5));
  EXPECT_TRUE(cache.find("b.", 5));
  EXPECT_TRUE(cache.find("d.", 5));
}

TEST(PrefixCacheTest, NegativeCacheHasItsOwnBound) {
  prefix_cache cache(small_config());
  cache.put("a.", some, 0);
  cache.put("x.", {}, 1);
  cache.put("y.", {}, 1.5);
  cache.put("z.", {}, 1.6);
  EXPECT_EQ(cache.negative_size(), 2u);
  EXPECT_FALSE(cache.find("x.", 2));
  EXPECT_TRUE(cache.find("y.", 2));
  EXPECT_TRUE(cache.find("z.", 2));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(PrefixCacheTest, ClearDropsBothCaches) {
  prefix_cache cache(small_config());
  cache.put("a.", some, 0);
  cache.put("b.", {}, 0);
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.negative_size(), 0u);
  EXPECT_FALSE(cache.find("a.", 0));
  EXPECT_FALSE(cache.find("b.", 0));
}
