// RTT-based RPC timeouts (RFC 6298's estimator) and the stall time of
// lookups.
#include <gtest/gtest.h>

#include "actors/dht/rtt.hpp"

using namespace colony;
using namespace colony::dht;

TEST(DhtRttTest, TimeoutIsSmoothedRttPlusFourDeviations) {
  rtt_estimate e;
  EXPECT_FALSE(e.known());
  EXPECT_DOUBLE_EQ(e.timeout(0.1, 3), 3); // never measured: the maximum
  e.observe(0.2); // srtt 0.2, rttvar 0.1
  EXPECT_NEAR(e.timeout(0.1, 3), 0.6, 1e-12);
  e.observe(0.4); // rttvar 3/4 0.1 + 1/4 0.2 = 0.125; srtt 7/8 0.2 + 1/8 0.4 = 0.225
  EXPECT_NEAR(e.srtt(), 0.225, 1e-12);
  EXPECT_NEAR(e.rttvar(), 0.125, 1e-12);
  EXPECT_NEAR(e.timeout(0.1, 3), 0.725, 1e-12);
  EXPECT_DOUBLE_EQ(e.timeout(1.0, 3), 1.0); // the floor
  EXPECT_DOUBLE_EQ(e.timeout(0.1, 0.5), 0.5); // the maximum
}

TEST(DhtRttTest, ATimeoutDoublesItUntilTheNextReply) {
  rtt_estimate e;
  e.observe(0.2);
  e.backoff();
  EXPECT_NEAR(e.timeout(0.1, 3), 1.2, 1e-12);
  e.backoff();
  EXPECT_NEAR(e.timeout(0.1, 3), 2.4, 1e-12);
  e.backoff();
  EXPECT_DOUBLE_EQ(e.timeout(0.1, 3), 3);
  e.observe(0.2); // srtt 0.2, rttvar 0.075
  EXPECT_NEAR(e.timeout(0.1, 3), 0.5, 1e-12);
}

TEST(DhtRttTest, PeersNeverMeasuredStallAfterTheTimeoutOfAllPeers) {
  rtt_table t{2};
  endpoint a{"a", 1}, b{"b", 1}, c{"c", 1};
  EXPECT_DOUBLE_EQ(t.timeout(a, 0.1, 3), 3);
  EXPECT_DOUBLE_EQ(t.stall_after(a, 0.1, 3), 3); // nothing measured at all
  t.observe(a, 0.2);
  EXPECT_NEAR(t.timeout(a, 0.1, 3), 0.6, 1e-12);
  EXPECT_DOUBLE_EQ(t.timeout(c, 0.1, 3), 3);
  EXPECT_NEAR(t.stall_after(c, 0.1, 3), 0.6, 1e-12);
  t.backoff(a);
  EXPECT_NEAR(t.timeout(a, 0.1, 3), 1.2, 1e-12);
  EXPECT_NEAR(t.stall_after(a, 0.1, 3), 0.6, 1e-12); // all peers: not backed off
  t.observe(b, 0.2);
  t.observe(c, 0.2); // capacity 2: one entry made room
  EXPECT_EQ(t.size(), 2u);
}
