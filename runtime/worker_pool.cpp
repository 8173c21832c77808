#include "runtime/worker_pool.hpp"

#include <algorithm>

#include "runtime/logging.hpp"

namespace colony {

worker_pool::worker_pool(size_t threads, std::function<void()> on_start)
  : on_start_(std::move(on_start)) {
  threads = std::max<size_t>(threads, 1);
  for (size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { run(); });
}

worker_pool::~worker_pool() {
  stop();
}

void worker_pool::post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> guard{mx_};
    if (stopping_)
      return;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void worker_pool::stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> guard{mx_};
    if (stopping_ && threads_.empty())
      return;
    stopping_ = true;
    dropped.swap(jobs_);
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
  threads_.clear();
}

void worker_pool::run() {
  if (on_start_)
    on_start_();
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> guard{mx_};
      cv_.wait(guard, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_)
        return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    // A job that throws must not take the process down (std::terminate):
    // jobs report their own failures; this is the last line of defence.
    try {
      job();
    } catch (const std::exception& e) {
      failed_jobs_.fetch_add(1);
      log::get("node")->error("event=pool_job_failed error=\"{}\"", e.what());
    } catch (...) {
      failed_jobs_.fetch_add(1);
      log::get("node")->error("event=pool_job_failed error=\"unknown exception\"");
    }
  }
}

} // namespace colony
