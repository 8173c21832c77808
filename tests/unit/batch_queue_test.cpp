// The batching queues of an expert, without an actor system.
#include <gtest/gtest.h>

#include "actors/expert/batch_queue.hpp"

using namespace colony::expert;

namespace {

clock::time_point at(int ms) {
  return clock::time_point{std::chrono::milliseconds{ms}};
}

} // namespace

TEST(BatchQueueTest, ConcatenatesRequestsUpToMaxRows) {
  batch_queue q;
  q.push(1, 3, 0, at(0));
  q.push(2, 4, 0, at(1));
  q.push(3, 5, 0, at(2));
  auto b = q.next_batch(7);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].id, 1u);
  EXPECT_EQ(b[0].rows(), 3);
  EXPECT_TRUE(b[0].last);
  EXPECT_EQ(b[1].id, 2u);
  EXPECT_EQ(b[1].rows(), 4);
  EXPECT_TRUE(b[1].last);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(*q.oldest(), at(2));
}

TEST(BatchQueueTest, DropsExpiredRequestsAndTheirRowsLeft) {
  batch_queue q;
  q.push(1, 10, 0, at(0), at(100));
  q.push(2, 4, 0, at(1)); // no deadline
  q.push(3, 5, 0, at(2), at(50));
  auto first = q.next_batch(4); // 4 of request 1's 10 rows computed
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(q.drop_expired(at(50)).empty()) << "a deadline equal to now has not passed";
  auto dropped = q.drop_expired(at(101));
  ASSERT_EQ(dropped.size(), 2u);
  EXPECT_EQ(dropped[0].id, 1u);
  EXPECT_EQ(dropped[0].rows_left, 6);
  EXPECT_EQ(dropped[0].arrived, at(0));
  EXPECT_EQ(dropped[1].id, 3u);
  EXPECT_EQ(dropped[1].rows_left, 5);
  // The next batch carries only rows somebody waits for.
  auto b = q.next_batch(100);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].id, 2u);
  EXPECT_EQ(b[0].rows(), 4);
  EXPECT_TRUE(q.empty());
}

TEST(BatchQueueTest, SplitsARequestLargerThanMaxRows) {
  batch_queue q;
  q.push(7, 10, 0, at(0));
  std::vector<slice> all;
  for (int i = 0; i < 10 && !q.empty(); ++i) {
    auto b = q.next_batch(4);
    ASSERT_EQ(b.size(), 1u);
    all.push_back(b[0]);
  }
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].begin, 0);
  EXPECT_EQ(all[0].end, 4);
  EXPECT_FALSE(all[0].last);
  EXPECT_EQ(all[1].begin, 4);
  EXPECT_EQ(all[1].end, 8);
  EXPECT_EQ(all[2].begin, 8);
  EXPECT_EQ(all[2].end, 10);
  EXPECT_TRUE(all[2].last);
  EXPECT_TRUE(q.empty());
}

TEST(BatchQueueTest, FillsTheRestOfABatchWithThePartOfTheNextRequest) {
  batch_queue q;
  q.push(1, 3, 0, at(0));
  q.push(2, 6, 0, at(0));
  auto b = q.next_batch(5);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].id, 2u);
  EXPECT_EQ(b[1].begin, 0);
  EXPECT_EQ(b[1].end, 2);
  EXPECT_FALSE(b[1].last);
  auto c = q.next_batch(5);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].begin, 2);
  EXPECT_EQ(c[0].end, 6);
  EXPECT_TRUE(c[0].last);
}

TEST(BatchQueueTest, OnlyConcatenatesRequestsWithTheSameShapeKey) {
  batch_queue q;
  q.push(1, 2, 11, at(0));
  q.push(2, 2, 11, at(1));
  q.push(3, 2, 22, at(2));
  q.push(4, 2, 11, at(3));
  auto b = q.next_batch(100);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].id, 2u);
  auto c = q.next_batch(100);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].id, 3u);
  auto d = q.next_batch(100);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].id, 4u);
}

TEST(BatchQueueTest, EmptyRequestIsAnsweredInTheNextBatch) {
  batch_queue q;
  q.push(1, 0, 0, at(0));
  q.push(2, 1, 0, at(0));
  auto b = q.next_batch(1);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].rows(), 0);
  EXPECT_TRUE(b[0].last);
  EXPECT_EQ(b[1].rows(), 1);
  EXPECT_TRUE(q.empty());
}

TEST(BatchQueueTest, EveryRowIsHandedOutExactlyOnce) {
  batch_queue q;
  std::vector<int64_t> sizes{5, 1, 17, 0, 64, 3, 33};
  for (size_t i = 0; i < sizes.size(); ++i)
    q.push(i, sizes[i], 0, at(static_cast<int>(i)));
  std::vector<int64_t> seen(sizes.size(), 0);
  for (int guard = 0; guard < 1000 && !q.empty(); ++guard) {
    int64_t rows = 0;
    for (auto& s : q.next_batch(16)) {
      EXPECT_EQ(s.begin, seen[s.id]);
      seen[s.id] = s.end;
      rows += s.rows();
    }
    EXPECT_LE(rows, 16);
  }
  EXPECT_EQ(seen, sizes);
}

TEST(DispatchQueueTest, ServesTheQueueWhoseOldestRequestWaitedLongest) {
  dispatch_queue d;
  d.ready({1, 0}, at(30));
  d.ready({2, 1}, at(10));
  d.ready({3, 0}, at(20));
  EXPECT_EQ(d.pop_oldest()->expert, 2u);
  EXPECT_EQ(d.pop_oldest()->expert, 3u);
  EXPECT_EQ(d.pop_oldest()->expert, 1u);
  EXPECT_FALSE(d.pop_oldest());
}

TEST(DispatchQueueTest, ReadyAgainReplacesTheEarlierMark) {
  dispatch_queue d;
  d.ready({1, 0}, at(5));
  d.ready({2, 0}, at(10));
  d.ready({1, 0}, at(15));
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d.pop_oldest()->expert, 2u);
  EXPECT_EQ(d.pop_oldest()->expert, 1u);
}

TEST(DispatchQueueTest, ForwardAndBackwardQueuesOfOneExpertAreSeparate) {
  dispatch_queue d;
  d.ready({1, 0}, at(20));
  d.ready({1, 1}, at(10));
  auto q = d.pop_oldest();
  EXPECT_EQ(q->kind, 1);
  d.remove_expert(1);
  EXPECT_TRUE(d.empty());
}
