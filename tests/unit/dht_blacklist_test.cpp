#include <gtest/gtest.h>

#include "actors/dht/blacklist.hpp"

using namespace colony::dht;

namespace {

const node_id peer = node_id::of_key("peer");
const node_id other = node_id::of_key("other");

} // namespace

TEST(DhtBlacklistTest, FirstFailureBansForBaseSeconds) {
  blacklist bans{5};
  EXPECT_FALSE(bans.is_banned(peer, 0));
  bans.register_failure(peer, 100);
  EXPECT_TRUE(bans.is_banned(peer, 100));
  EXPECT_TRUE(bans.is_banned(peer, 104.9));
  EXPECT_FALSE(bans.is_banned(peer, 105));
  EXPECT_FALSE(bans.is_banned(other, 100));
}

TEST(DhtBlacklistTest, RepeatedFailuresDoubleTheBan) {
  blacklist bans{5};
  double now = 0;
  for (double expected : {5.0, 10.0, 20.0, 40.0}) {
    bans.register_failure(peer, now);
    EXPECT_DOUBLE_EQ(bans.remaining(peer, now), expected);
    now += expected;
    EXPECT_FALSE(bans.is_banned(peer, now));
  }
}

TEST(DhtBlacklistTest, FailuresWhileBannedDoNotEscalate) {
  blacklist bans{5};
  bans.register_failure(peer, 0);
  bans.register_failure(peer, 1);
  bans.register_failure(peer, 2);
  EXPECT_DOUBLE_EQ(bans.remaining(peer, 0), 5);
  bans.register_failure(peer, 5);
  EXPECT_DOUBLE_EQ(bans.remaining(peer, 5), 10);
}

TEST(DhtBlacklistTest, SuccessLiftsTheBanAndResetsTheBackoff) {
  blacklist bans{5};
  bans.register_failure(peer, 0);
  bans.register_failure(peer, 5);
  bans.register_success(peer);
  EXPECT_FALSE(bans.is_banned(peer, 6));
  bans.register_failure(peer, 20);
  EXPECT_DOUBLE_EQ(bans.remaining(peer, 20), 5);
}

TEST(DhtBlacklistTest, BanIsCappedAtMaxBan) {
  blacklist bans{5, 30};
  double now = 0;
  for (int i = 0; i < 100; ++i) {
    bans.register_failure(peer, now);
    EXPECT_LE(bans.remaining(peer, now), 30);
    now += 30;
  }
}

TEST(DhtBlacklistTest, PurgeForgetsPeersLongAfterTheirBan) {
  blacklist bans{5, 600, 60};
  bans.register_failure(peer, 0);
  bans.register_failure(other, 100);
  bans.purge(64);
  EXPECT_EQ(bans.size(), 2u);
  bans.purge(65);
  EXPECT_EQ(bans.size(), 1u);
  bans.register_failure(peer, 70);
  EXPECT_DOUBLE_EQ(bans.remaining(peer, 70), 5);
}

TEST(DhtBlacklistTest, StaleHistoryIsForgottenEvenWithoutPurge) {
  blacklist bans{5, 600, 60};
  bans.register_failure(peer, 0);
  bans.register_failure(peer, 65);
  EXPECT_DOUBLE_EQ(bans.remaining(peer, 65), 5);
}

TEST(DhtBlacklistTest, ZeroBaseDisablesBans) {
  blacklist bans{0};
  bans.register_failure(peer, 0);
  EXPECT_FALSE(bans.is_banned(peer, 0));
  EXPECT_EQ(bans.size(), 0u);
}
