// Logging set up in one place: one spdlog logger per component ("dht",
// "expert", "gate", "trainer", "supervisor", "net", "node"), never null
// (a null sink until setup() is called). Lines are greppable key=value.
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

namespace colony::log {

/// Routes all component loggers to stderr (file empty) or to `file`, at
/// `level` ("trace", "debug", "info", "warn", "error", "off"). Returns false
/// for an unknown level name. May be called again to reconfigure.
bool setup(const std::string& level, const std::string& file = {});

/// The logger of `component`; created on first use, never null.
std::shared_ptr<spdlog::logger> get(const std::string& component);

} // namespace colony::log
