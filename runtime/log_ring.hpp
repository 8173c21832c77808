// The in-memory ring of a process's last log lines, read by `colony ctl logs`
// (a ctl_logs request answers with read()). An spdlog sink: each line is
// formatted like the other sinks (text or JSON), cut to max_line_bytes and
// numbered from 1; memory stays below capacity * max_line_bytes.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/sinks/base_sink.h>

#include "messages/control_messages.hpp"

namespace colony::log {

class log_ring final : public spdlog::sinks::base_sink<std::mutex> {
public:
  /// Longest line kept; a longer message is cut before formatting, so that
  /// a JSON line stays valid JSON.
  static constexpr size_t max_line_bytes = 4096;
  /// Most lines one read() returns.
  static constexpr uint32_t max_read_lines = 1000;

  explicit log_ring(uint32_t capacity);

  /// Keeps the last `capacity` (>= 1) lines from now on; older ones beyond
  /// it leave the ring. Sequence numbers go on.
  void set_capacity(uint32_t capacity);

  /// The kept lines with a sequence number above `after`, oldest first, at
  /// most min(max_lines, max_read_lines). `next` is the last one returned
  /// (or `after` when none); `missed` counts lines above `after` that the
  /// ring no longer holds. An `after` beyond the newest line (the process
  /// restarted) reads as 0.
  ctl_log_lines read(uint64_t after, uint32_t max_lines) const;

  /// The sequence number of the newest line (0 before the first).
  uint64_t last_seq() const;

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

private:
  /// `msg` formatted, without its newline, at most max_line_bytes long.
  std::string format_bounded(const spdlog::details::log_msg& msg);

  mutable std::mutex data_mx_;
  std::vector<std::string> lines_; ///< circular; line seq s at (s - 1) % capacity_
  uint32_t capacity_;
  uint64_t first_seq_ = 1; ///< the oldest line kept (last_seq_ + 1 when none)
  uint64_t last_seq_ = 0;
};

} // namespace colony::log
