// What the supervision tests share: a spdlog sink that keeps the lines of
// the loggers it is attached to (and can call a hook on each, in the
// logging thread), exit messages with a colony error as the reason, and a
// bounded wait for a condition.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/sinks/base_sink.h>

#include "runtime/logging.hpp"

namespace colony::it {

class log_capture : public spdlog::sinks::base_sink<std::mutex> {
public:
  /// Called for every line, in the logging thread (set before logging starts).
  std::function<void(const std::string&)> on_line;

  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> guard{mutex_};
    return lines_;
  }

  /// Lines containing both `a` and `b`.
  size_t count(const std::string& a, const std::string& b = {}) {
    std::lock_guard<std::mutex> guard{mutex_};
    return static_cast<size_t>(std::count_if(lines_.begin(), lines_.end(), [&](auto& l) {
      return l.find(a) != std::string::npos && l.find(b) != std::string::npos;
    }));
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
    if (on_line)
      on_line(lines_.back());
  }
  void flush_() override {}

private:
  std::vector<std::string> lines_;
};

/// Attaches a log_capture to the named loggers for the scope's lifetime.
class scoped_capture {
public:
  explicit scoped_capture(std::vector<std::string> loggers) : loggers_(std::move(loggers)) {
    for (auto& name : loggers_)
      log::get(name)->sinks().push_back(sink);
  }

  ~scoped_capture() {
    sink->on_line = nullptr;
    for (auto& name : loggers_) {
      auto& sinks = log::get(name)->sinks();
      sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
    }
  }

  log_capture* operator->() { return sink.get(); }

  std::shared_ptr<log_capture> sink = std::make_shared<log_capture>();

private:
  std::vector<std::string> loggers_;
};

/// anon_send_exit with a colony error as the reason (CAF's own takes an
/// exit_reason only).
template <class Handle>
void crash_actor(const Handle& h, caf::error reason) {
  if (h)
    h->enqueue(nullptr, caf::make_message_id(),
               caf::make_message(caf::exit_msg{h->address(), std::move(reason)}), nullptr);
}

/// Waits (bounded) until `pred` holds; false when it never did.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds{30}) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (pred())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return pred();
}

} // namespace colony::it
