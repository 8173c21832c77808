// colony: command-line client of a running swarm, torch-free so that it
// starts fast. Commands that read or write torch.save files run colony-pt
// (nodes/cli/pt_main.cpp, next to this binary) for that part.
//   colony expert info     --node HOST:PORT --uid UID
//   colony expert forward  --node HOST:PORT --uid UID [--batch N] [--seq-len L] [--repeat R]
//   colony expert forward  --node HOST:PORT --uid UID --input F.pt [--input F2.pt]... [--output O.pt]
//   colony expert backward --node HOST:PORT --uid UID --input F.pt... --grad G.pt... [--output O.pt]
//   colony expert list     --node HOST:PORT
//   colony tensor encode   --input F.pt --output F.bin [--compression none|float16|uint8]
//   colony tensor decode   --input F.bin --output F.pt
//   colony dht store KEY VALUE [--subkey S] --ttl SECONDS --peer HOST:PORT
//   colony dht get KEY --peer HOST:PORT
//   colony dht serve [--host H] [--port P] [--peer HOST:PORT]... [--ready-file F]
//   colony experts list PREFIX --peer HOST:PORT
//   colony ctl spawn  --node HOST:PORT --prefix ffn.3 --count 8 [--spec FILE.yaml] --token-file F
//   colony ctl stop   --node HOST:PORT --uid UID [--uid UID]... --token-file F
//   colony ctl status --node HOST:PORT --token-file F
//   colony ctl logs   --node HOST:PORT --token-file F [--follow] [--lines N] [--for-seconds S]
// `ctl` commands talk to a node's control port (its control: section) with
// the token in --token-file (default $COLONY_CTL_TOKEN_FILE, mode 0600);
// spawn without --spec copies the spec of the node's group with that
// prefix (nodes/cli/ctl_commands.hpp).
// HOST:PORT may be [IPV6ADDR]:PORT. .pt files are torch.save files of a
// tensor or a list/tuple of tensors (outputs: one tensor, or a list of
// several); F.bin holds the colony.v1.Tensor bytes Colony sends.
// --timeout-ms: expert and dht commands end within it plus 1 s whatever the
// peer does (nodes/cli/deadline.hpp); ctl's bounds each request.
// Exit codes: 0 ok, 2 the operation failed (one line "colony: error: ..."),
// any other non-zero code: bad usage (reported by CLI11; an unknown
// subcommand is named, with the valid ones).
#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>

#include "nodes/cli/commands.hpp"
#include "nodes/cli/ctl_commands.hpp"
#include "nodes/cli/deadline.hpp"
#include "nodes/cli/dht_commands.hpp"
#include "nodes/cli/usage.hpp"
#include "runtime/system_config.hpp"

int main(int argc, char** argv) {
  CLI::App app{"colony: talk to a Colony swarm", "colony"};
  app.require_subcommand(1);
  colony::cli::options opts;
  auto expert = colony::cli::add_expert_commands(app, opts);
  colony::cli::dht_options dht_opts;
  auto dht = colony::cli::add_dht_commands(app, dht_opts);
  colony::cli::ctl_options ctl_opts;
  auto ctl = colony::cli::add_ctl_commands(app, ctl_opts);
  if (auto rc = colony::cli::parse_command_line(app, argc, argv))
    return *rc;
  if (colony::cli::offline(expert))
    return colony::cli::run_tensor_command(expert, opts);

  // `dht serve` and `ctl logs --follow` wait for SIGINT/SIGTERM in sigwait:
  // block them before any thread starts, so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (dht.serve->parsed() || ctl.waits_for_signals(ctl_opts))
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  colony::system_options sys_opts;
  sys_opts.scheduler_threads = 1;
  colony::system_config cfg{sys_opts};
  caf::actor_system sys{cfg};
  // finish(): the actor system's orderly shutdown would wait for what peers
  // hold up (an upload still queued, a handshake never answered); see
  // nodes/cli/deadline.hpp.
  if (dht.any_parsed())
    colony::cli::finish(colony::cli::run_dht_command(sys, dht, dht_opts, signals));
  if (ctl.any_parsed())
    colony::cli::finish(colony::cli::run_ctl_command(sys, ctl, ctl_opts, signals));
  colony::cli::finish(colony::cli::run_expert_command(sys, expert, opts));
}
