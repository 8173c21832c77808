// The pure fan-out state and the per-sample quorum, on a fake clock.
#include <gtest/gtest.h>

#include "actors/client/fanout_state.hpp"

using namespace colony;
using namespace std::chrono_literals;

namespace {

using tp = fanout_state::time_point;
const tp t0{};

} // namespace

TEST(FanoutStateTest, WithoutQuorumEndsWhenAllAnsweredOrAtTheDeadline) {
  fanout_state s{3, t0 + 10s};
  EXPECT_EQ(s.end_time(), t0 + 10s);
  EXPECT_TRUE(s.record(0, true, t0 + 1s));
  EXPECT_TRUE(s.record(2, false, t0 + 2s));
  EXPECT_FALSE(s.finished(t0 + 9s));
  EXPECT_TRUE(s.finished(t0 + 10s));
  EXPECT_TRUE(s.record(1, true, t0 + 3s));
  EXPECT_EQ(s.end_time(), t0 + 3s);
  EXPECT_EQ(s.succeeded_count(), 2u);
}

TEST(FanoutStateTest, FirstRecordWinsAndBadIndicesAreIgnored) {
  fanout_state s{2, t0 + 10s};
  EXPECT_TRUE(s.record(0, false, t0));
  EXPECT_FALSE(s.record(0, true, t0));
  EXPECT_FALSE(s.record(7, true, t0));
  EXPECT_FALSE(s.succeeded(0));
  EXPECT_EQ(s.answered_count(), 1u);
}

TEST(FanoutStateTest, QuorumEndsTheFanOutAfterTheGrace) {
  sample_quorum q{2, {{0}, {0, 1}, {1}}, 1};
  fanout_state s{3, t0 + 10s, 500ms, [&](const fanout_state&, size_t i, bool ok) {
                   q.record(i, ok);
                   return q.reached();
                 }};
  s.record(0, true, t0 + 1s); // sample 0 settled, sample 1 not yet
  EXPECT_FALSE(s.quorum_time().has_value());
  s.record(2, true, t0 + 2s);
  ASSERT_TRUE(s.quorum_time().has_value());
  EXPECT_EQ(s.end_time(), t0 + 2500ms);
}

TEST(FanoutStateTest, GraceNeverPassesTheDeadline) {
  fanout_state s{2, t0 + 1s, 5s, [](const fanout_state&, size_t, bool) { return true; }};
  s.record(0, true, t0 + 100ms);
  EXPECT_EQ(s.end_time(), t0 + 1s);
}

TEST(SampleQuorumTest, CountsPerSampleNotOverTheBatch) {
  // Sample 0 is served by calls 0 and 1, sample 1 by call 2 only; k_min 2.
  sample_quorum q{2, {{0}, {0}, {1}}, 2};
  q.record(0, true);
  q.record(1, true);
  EXPECT_FALSE(q.reached()); // 2 answers in the batch, but sample 1 has none
  q.record(2, true);
  EXPECT_TRUE(q.reached()); // sample 1 has no pending call left: settled
  EXPECT_EQ(q.ok_count(0), 2u);
  EXPECT_EQ(q.short_samples(), 1u);
}

TEST(SampleQuorumTest, FailuresSettleASampleOnlyWhenNothingIsPending) {
  sample_quorum q{1, {{0}, {0}}, 1};
  q.record(0, false);
  EXPECT_FALSE(q.reached());
  q.record(1, false);
  EXPECT_TRUE(q.reached());
  EXPECT_EQ(q.short_samples(), 1u);
}
