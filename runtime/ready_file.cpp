#include "runtime/ready_file.hpp"

#include <cstdio>
#include <fstream>

namespace colony {

bool write_ready_file(const std::string& path, const std::string& text) {
  auto tmp = path + ".tmp";
  {
    std::ofstream out{tmp};
    out << text << "\n";
    if (!out)
      return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

} // namespace colony
