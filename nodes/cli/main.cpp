// colony: command-line client of a running swarm (torch-free, starts fast).
//   colony expert info    --node HOST:PORT --uid UID
//   colony expert forward --node HOST:PORT --uid UID --batch N
//   colony expert list    --node HOST:PORT
//   colony dht store KEY VALUE [--subkey S] --ttl SECONDS --peer HOST:PORT
//   colony dht get KEY --peer HOST:PORT
//   colony dht serve [--host H] [--port P] [--peer HOST:PORT]... [--ready-file F]
//   colony experts list PREFIX --peer HOST:PORT
// Exit codes: 0 ok, 2 the operation failed (one line "colony: error: ..."),
// any other non-zero code: bad usage (reported by CLI11).
#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>

#include "nodes/cli/commands.hpp"
#include "nodes/cli/dht_commands.hpp"
#include "runtime/system_config.hpp"

int main(int argc, char** argv) {
  CLI::App app{"colony: talk to a Colony swarm"};
  app.require_subcommand(1);
  colony::cli::options opts;
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("--node", opts.node, "HOST:PORT of a colony-node")->required();
    cmd->add_option("--timeout-ms", opts.timeout_ms, "per-call timeout")->check(CLI::Range(1, 3600000));
  };
  auto expert = app.add_subcommand("expert", "talk to experts on a node");
  expert->require_subcommand(1);
  auto info = expert->add_subcommand("info", "print an expert's schema and counters");
  add_common(info);
  info->add_option("--uid", opts.uid, "expert uid")->required();
  auto fwd = expert->add_subcommand("forward", "send a random batch, print shape and time");
  add_common(fwd);
  fwd->add_option("--uid", opts.uid, "expert uid")->required();
  fwd->add_option("--batch", opts.batch, "batch size")->check(CLI::Range(1, 1 << 20));
  fwd->add_option("--seq-len", opts.seq_len, "length of '*' dims (sequence experts)")
    ->check(CLI::Range(1, 1 << 16));
  fwd->add_option("--repeat", opts.repeat, "calls to time")->check(CLI::Range(1, 100000));
  auto list = expert->add_subcommand("list", "list the uids a node serves");
  add_common(list);
  colony::cli::dht_options dht_opts;
  auto dht = colony::cli::add_dht_commands(app, dht_opts);
  CLI11_PARSE(app, argc, argv);

  // `dht serve` waits for SIGINT/SIGTERM in sigwait: block them before any
  // thread starts, so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (dht.serve->parsed())
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  colony::system_options sys_opts;
  sys_opts.scheduler_threads = 1;
  colony::system_config cfg{sys_opts};
  caf::actor_system sys{cfg};
  if (dht.any_parsed())
    return colony::cli::run_dht_command(sys, dht, dht_opts, signals);
  if (info->parsed())
    return colony::cli::cmd_expert_info(sys, opts);
  if (fwd->parsed())
    return colony::cli::cmd_expert_forward(sys, opts);
  return colony::cli::cmd_expert_list(sys, opts);
}
