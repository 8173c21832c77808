// The CLI's control commands: requests to a node's control port
// (actors/control/protocol.hpp), each carrying the token read from
// --token-file (default $COLONY_CTL_TOKEN_FILE; the file must be mode 0600
// and hold at least 16 characters). Each returns the exit code (0 ok, 2
// failure, with one line "colony: error: ...").
//   colony ctl spawn  --node HOST:PORT --prefix ffn.3 --count 8 [--spec FILE.yaml] --token-file F
//   colony ctl stop   --node HOST:PORT --uid UID [--uid UID]... --token-file F
//   colony ctl status --node HOST:PORT --token-file F
//   colony ctl logs   --node HOST:PORT --token-file F [--follow] [--lines N] [--for-seconds S]
// HOST:PORT is the node's control port (its config's control: section).
// spawn without --spec sends an empty spec: the node then gives the new
// experts the spec of its existing group with that prefix (an error if it
// has none). FILE.yaml holds one group's keys: max_batch_size, module,
// optimizer, checkpoint (not uid or count). spawn prints one new uid per
// line, stop one stopped uid per line; status prints the supervision tree
// indented; logs prints the last N lines and, with --follow, polls every
// 500 ms until SIGINT/SIGTERM or --for-seconds, noting "(N lines missed)"
// when lines left the node's ring between two polls.
#pragma once

#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>

#include "messages/control_messages.hpp"

namespace colony::cli {

struct ctl_options {
  std::string node;
  std::string token_file; ///< default: $COLONY_CTL_TOKEN_FILE
  std::string prefix;
  uint32_t count = 1;
  std::string spec_file;
  std::vector<std::string> uids;
  bool follow = false;
  uint32_t lines = 20;
  double for_seconds = 0; ///< 0 = until a signal
  int64_t timeout_ms = 70000; ///< each request (a spawn may take the node 60 s)
};

/// The subcommands add_ctl_commands registered.
struct ctl_subcommands {
  CLI::App* spawn = nullptr;
  CLI::App* stop = nullptr;
  CLI::App* status = nullptr;
  CLI::App* logs = nullptr;

  bool any_parsed() const {
    return spawn->parsed() || stop->parsed() || status->parsed() || logs->parsed();
  }

  /// True when the command waits for SIGINT/SIGTERM (`logs --follow`).
  bool waits_for_signals(const ctl_options& opts) const {
    return logs->parsed() && opts.follow;
  }
};

/// Registers `ctl spawn|stop|status|logs` on `app`, writing to `opts`.
ctl_subcommands add_ctl_commands(CLI::App& app, ctl_options& opts);

/// Runs whichever of `cmds` was parsed; its exit code. `signals` (blocked
/// by the caller when waits_for_signals) end `logs --follow`.
int run_ctl_command(caf::actor_system& sys, const ctl_subcommands& cmds,
                    const ctl_options& opts, sigset_t& signals);

/// The tree as `colony ctl status` prints it: a header line, then one line
/// per entry, indented two spaces per level, e.g.
///   ffn.3.0  worker  running  restarts=2 uptime=3.0s last_exit=diverged updates=17
std::string format_status(const node_status& st);

} // namespace colony::cli
