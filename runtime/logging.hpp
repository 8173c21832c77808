// Logging set up in one place: one spdlog logger per component ("dht",
// "expert", "gate", "trainer", "supervisor", "net", "node"), never null
// (a null sink until setup() is called). Lines are greppable key=value;
// log.format json writes each as one JSON object (runtime/log_format.hpp).
#pragma once

#include <memory>
#include <string>

#include <caf/error.hpp>
#include <spdlog/logger.h>

#include "runtime/log_config.hpp"
#include "runtime/log_ring.hpp"

namespace colony::log {

/// Routes all component loggers, at cfg.level, to stderr, to a rotating
/// file at cfg.file when set (cfg.max_file_bytes, cfg.max_files), and to
/// ring() (cfg.ring_lines), all in cfg.format. May be called again to
/// reconfigure. Errors: errc::bad_config for an unknown level or format
/// (naming log.level / log.format), errc::io_failed when the file cannot
/// be opened; the previous setup then stays.
caf::error setup(const log_config& cfg);

/// setup() with a level and an optional file, the rest at its defaults.
/// Returns false for an unknown level name or a file that cannot be opened.
bool setup(const std::string& level, const std::string& file = {});

/// The logger of `component`; created on first use, never null.
std::shared_ptr<spdlog::logger> get(const std::string& component);

/// The process's ring of recent lines; never null, empty until setup().
std::shared_ptr<log_ring> ring();

} // namespace colony::log
