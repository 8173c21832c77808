// Ready files: a process writes "HOST:PORT" once it listens, so that scripts
// and tests can wait for it without parsing logs.
#pragma once

#include <string>

namespace colony {

/// Writes `text` and a newline to `path` atomically (temp file + rename).
bool write_ready_file(const std::string& path, const std::string& text);

} // namespace colony
