// Command-line parsing with usage errors that name the offending word: an
// unknown or missing subcommand is reported with the valid ones, e.g.
//   colony expert: unknown subcommand 'frobnicate'; valid subcommands: info, forward, ...
#pragma once

#include <optional>

#include <CLI/CLI.hpp>

namespace colony::cli {

/// Parses `argv` into `app`. Returns nothing on success, or the exit code
/// after printing the help text (0) or the usage error (CLI11's codes).
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

} // namespace colony::cli
