#include "nodes/cli/deadline.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace colony::cli {

command_deadline::command_deadline(std::string what, std::chrono::milliseconds limit)
  : what_(std::move(what)), limit_(limit), deadline_(clock::now() + limit) {
  watchdog_ = std::thread{[this] { watch(); }};
}

command_deadline::~command_deadline() {
  disarm();
  watchdog_.join();
}

std::chrono::milliseconds command_deadline::left() const {
  std::lock_guard<std::mutex> guard{mx_};
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock::now());
  return std::max(left, std::chrono::milliseconds{0});
}

void command_deadline::restart(std::chrono::milliseconds limit) {
  std::lock_guard<std::mutex> guard{mx_};
  limit_ = limit;
  deadline_ = clock::now() + limit;
  cv_.notify_all();
}

void command_deadline::disarm() {
  std::lock_guard<std::mutex> guard{mx_};
  armed_ = false;
  cv_.notify_all();
}

void command_deadline::watch() {
  std::unique_lock<std::mutex> guard{mx_};
  while (armed_) {
    auto end = deadline_ + watchdog_grace;
    if (clock::now() >= end) {
      // The message the command itself would print on a timeout.
      std::cerr << "colony: error: timeout: " << what_ << " did not end within "
                << limit_.count() << " ms (--timeout-ms) + " << watchdog_grace.count()
                << " ms" << std::endl;
      finish(2);
    }
    cv_.wait_until(guard, end);
  }
}

void finish(int rc) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(rc);
}

} // namespace colony::cli
