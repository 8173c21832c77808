// The worker pool that runs the experts' torch work.
#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>

#include <gtest/gtest.h>

#include "runtime/worker_pool.hpp"

using namespace colony;

TEST(WorkerPoolTest, RunsEveryPostedJobAndInitializesEachThread) {
  std::atomic<int> started{0}, done{0};
  {
    worker_pool pool{2, [&] { ++started; }};
    std::vector<std::future<void>> futures;
    for (int i = 0; i < 100; ++i) {
      auto p = std::make_shared<std::promise<void>>();
      futures.push_back(p->get_future());
      pool.post([&, p] {
        ++done;
        p->set_value();
      });
    }
    for (auto& f : futures)
      ASSERT_EQ(f.wait_for(std::chrono::seconds{10}), std::future_status::ready);
  }
  EXPECT_EQ(done, 100);
  EXPECT_EQ(started, 2);
}

TEST(WorkerPoolTest, StopFinishesTheRunningJobAndDropsQueuedOnes) {
  std::atomic<int> ran{0};
  std::promise<void> entered;
  worker_pool pool{1};
  pool.post([&] {
    entered.set_value();
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    ++ran;
  });
  for (int i = 0; i < 10; ++i)
    pool.post([&] { ++ran; });
  ASSERT_EQ(entered.get_future().wait_for(std::chrono::seconds{10}), std::future_status::ready);
  pool.stop();
  EXPECT_EQ(ran, 1);
  pool.post([&] { ++ran; });
  pool.stop();
  EXPECT_EQ(ran, 1);
}

TEST(WorkerPoolTest, AThrowingJobIsCountedAndTheThreadRunsTheNextJob) {
  worker_pool pool{1};
  auto p = std::make_shared<std::promise<void>>();
  auto f = p->get_future();
  pool.post([] { throw std::runtime_error("boom"); });
  pool.post([] { throw 42; });
  pool.post([p] { p->set_value(); });
  ASSERT_EQ(f.wait_for(std::chrono::seconds{10}), std::future_status::ready);
  EXPECT_EQ(pool.failed_jobs(), 2u);
}
