// The CLI's DHT commands. Each runs a client-mode DHT peer that bootstraps
// from --peer (except `dht serve`, which runs a full peer until SIGINT or
// SIGTERM), returns the exit code (0 ok, 2 failure) and prints one line
// "colony: error: ..." on failure.
//   colony dht store KEY VALUE [--subkey S] --ttl SECONDS --peer HOST:PORT
//                    (SECONDS finite, in (0, max_ttl_s = 2592000])
//   colony dht get KEY --peer HOST:PORT
//   colony dht serve [--host H] [--port P] [--peer HOST:PORT]... [--ready-file F]
//                    [--experts UID,... --expert-endpoint HOST:PORT]
//   colony experts list PREFIX --peer HOST:PORT
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>

namespace colony::cli {

/// Largest accepted `dht store --ttl`: 30 days. The DHT's record store has
/// no maximum of its own; this bound catches typos such as 1e12.
constexpr int64_t max_ttl_s = 30 * 24 * 3600;

struct dht_options {
  std::vector<std::string> peers; ///< initial peers (HOST:PORT)
  std::string key;
  std::string value;
  std::string subkey;
  bool has_subkey = false;
  double ttl_s = 0;
  std::string prefix;
  size_t first_dim = 256;        ///< experts list: first coordinates probed under a root
  int64_t timeout_ms = 10000;    ///< whole operation
  int64_t rpc_timeout_ms = 3000; ///< each DHT request
  // dht serve
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string ready_file;
  std::vector<std::string> experts;
  std::string expert_endpoint;
  std::string key_file; ///< serve: the node key sealing its declarations
  double expiration_s = 60;
  double update_period_s = 0; ///< 0 = expiration_s / 3
  std::string log_level = "info";
};

/// The subcommands add_dht_commands registered.
struct dht_subcommands {
  CLI::App* store = nullptr;
  CLI::App* get = nullptr;
  CLI::App* serve = nullptr;
  CLI::App* experts_list = nullptr;

  bool any_parsed() const {
    return store->parsed() || get->parsed() || serve->parsed() || experts_list->parsed();
  }
};

/// Registers `dht store|get|serve` and `experts list` on `app`, writing
/// their arguments to `opts`.
dht_subcommands add_dht_commands(CLI::App& app, dht_options& opts);

/// Runs whichever of `cmds` was parsed; its exit code.
int run_dht_command(caf::actor_system& sys, const dht_subcommands& cmds,
                    const dht_options& opts, sigset_t& signals);

int cmd_dht_store(caf::actor_system& sys, const dht_options& opts);
int cmd_dht_get(caf::actor_system& sys, const dht_options& opts);
int cmd_experts_list(caf::actor_system& sys, const dht_options& opts);

/// Serves until a signal in `signals` (blocked by the caller) arrives.
int cmd_dht_serve(caf::actor_system& sys, const dht_options& opts, sigset_t& signals);

} // namespace colony::cli
