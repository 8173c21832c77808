// A fixed set of threads that run jobs in FIFO order. Experts run their
// torch work here, never on CAF's scheduler threads. (They used to be
// detached actors, but CAF 0.17.6 can deadlock in ~actor_system() waiting
// for detached threads -- upstream issue #1196, fixed only in 0.18.)
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace colony {

class worker_pool {
public:
  /// Starts `threads` (>= 1) threads; each runs `on_start` first (e.g. to
  /// size torch's intra-op thread pool for that thread).
  explicit worker_pool(size_t threads, std::function<void()> on_start = {});

  /// stop()s the pool.
  ~worker_pool();

  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  /// Queues a job; ignored once the pool is stopping. A job that throws is
  /// logged (event=pool_job_failed) and counted; the thread lives on.
  void post(std::function<void()> job);

  /// Lets running jobs finish, drops queued ones and joins the threads.
  /// Idempotent.
  void stop();

  size_t size() const { return threads_.size(); }

  /// Jobs that ended with an exception.
  uint64_t failed_jobs() const { return failed_jobs_.load(); }

private:
  void run();

  std::mutex mx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::function<void()> on_start_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> failed_jobs_{0};
};

} // namespace colony
