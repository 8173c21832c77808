// The `log:` section of a node config: where and how Colony's component
// loggers write (runtime/logging.hpp applies it). Plain data, no spdlog.
#pragma once

#include <cstdint>
#include <string>

namespace colony {

struct log_config {
  /// "trace", "debug", "info", "warn", "error" or "off".
  std::string level = "info";
  /// Besides stderr, also a rotating file at this path; empty = stderr only.
  std::string file;
  /// "text" (human key=value lines) or "json" (one JSON object per line).
  std::string format = "text";
  /// The file rotates when the next line would take it past this size.
  uint64_t max_file_bytes = 10 * 1024 * 1024;
  /// Rotated files kept besides the current one (file.1 ... file.N).
  uint32_t max_files = 5;
  /// Lines kept in memory for `colony ctl logs` (each at most 4 KiB).
  uint32_t ring_lines = 10000;
};

} // namespace colony
