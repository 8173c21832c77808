// The CLI's one way to fail a command: one line on stderr, exit code 2.
#pragma once

#include <iostream>
#include <string>

namespace colony::cli {

/// Prints "colony: error: <what>" and returns the exit code 2.
inline int fail(const std::string& what) {
  std::cerr << "colony: error: " << what << "\n";
  return 2;
}

} // namespace colony::cli
