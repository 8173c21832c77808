#include "runtime/log_ring.hpp"

#include <algorithm>

namespace colony::log {

log_ring::log_ring(uint32_t capacity) : capacity_(std::max<uint32_t>(capacity, 1)) {
  lines_.resize(capacity_);
}

void log_ring::set_capacity(uint32_t capacity) {
  capacity = std::max<uint32_t>(capacity, 1);
  std::lock_guard<std::mutex> guard{data_mx_};
  if (capacity == capacity_)
    return;
  std::vector<std::string> lines(capacity);
  auto kept = std::min<uint64_t>(last_seq_ + 1 - first_seq_, capacity);
  for (auto s = last_seq_ - kept + 1; s <= last_seq_; ++s)
    lines[(s - 1) % capacity] = std::move(lines_[(s - 1) % capacity_]);
  lines_ = std::move(lines);
  capacity_ = capacity;
  first_seq_ = last_seq_ - kept + 1;
}

ctl_log_lines log_ring::read(uint64_t after, uint32_t max_lines) const {
  std::lock_guard<std::mutex> guard{data_mx_};
  if (after > last_seq_)
    after = 0;
  auto start = std::max(after + 1, first_seq_);
  ctl_log_lines result;
  result.missed = start - (after + 1);
  auto count = std::min<uint64_t>(std::min(max_lines, max_read_lines),
                                  last_seq_ + 1 - start);
  result.lines.reserve(count);
  for (auto s = start; s < start + count; ++s)
    result.lines.push_back(lines_[(s - 1) % capacity_]);
  result.next = count > 0 ? start + count - 1 : after;
  return result;
}

uint64_t log_ring::last_seq() const {
  std::lock_guard<std::mutex> guard{data_mx_};
  return last_seq_;
}

std::string log_ring::format_bounded(const spdlog::details::log_msg& msg) {
  auto render = [this](const spdlog::details::log_msg& m) {
    spdlog::memory_buf_t buf;
    formatter_->format(m, buf);
    std::string line{buf.data(), buf.size()};
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
      line.pop_back();
    return line;
  };
  if (msg.payload.size() <= max_line_bytes) {
    auto line = render(msg);
    if (line.size() <= max_line_bytes)
      return line;
  }
  // Cut the message, not the line: escapes may grow it, so halve until it fits.
  auto cut = msg;
  cut.payload = {};
  auto overhead = render(cut).size();
  size_t budget = max_line_bytes - std::min(overhead, max_line_bytes);
  for (int i = 0; i < 16 && budget > 0; ++i, budget /= 2) {
    cut.payload = {msg.payload.data(), std::min(msg.payload.size(), budget)};
    auto line = render(cut);
    if (line.size() <= max_line_bytes)
      return line;
  }
  cut.payload = {};
  auto line = render(cut);
  line.resize(std::min(line.size(), max_line_bytes));
  return line;
}

void log_ring::sink_it_(const spdlog::details::log_msg& msg) {
  auto line = format_bounded(msg);
  std::lock_guard<std::mutex> guard{data_mx_};
  ++last_seq_;
  lines_[(last_seq_ - 1) % capacity_] = std::move(line);
  if (last_seq_ - first_seq_ + 1 > capacity_)
    first_seq_ = last_seq_ - capacity_ + 1;
}

} // namespace colony::log
