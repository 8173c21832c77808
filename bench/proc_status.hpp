// Fields of /proc/self/status for benchmarks (torch-free): the resident
// memory (VmRSS) and its peak (VmHWM) of this process.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

namespace colony::bench {

/// A field of /proc/self/status in KiB (VmRSS, VmHWM); 0 if absent.
inline uint64_t status_kib(const std::string& field) {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::stoull(line.substr(field.size() + 1));
  return 0;
}

} // namespace colony::bench
