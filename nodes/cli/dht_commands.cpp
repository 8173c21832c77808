#include "nodes/cli/dht_commands.hpp"

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <iostream>

#include "actors/dht/expert_directory.hpp"
#include "actors/dht/io_peer.hpp"
#include "actors/dht/node_dht.hpp"
#include "messages/errc.hpp"
#include "nodes/cli/deadline.hpp"
#include "nodes/cli/fail.hpp"
#include "runtime/logging.hpp"
#include "runtime/ready_file.hpp"

namespace colony::cli {

namespace {

dht::peer_config client_config(const dht_options& opts) {
  dht::peer_config cfg;
  cfg.client_mode = true;
  cfg.rpc_timeout = std::chrono::milliseconds{opts.rpc_timeout_ms};
  return cfg;
}

/// Runs `body` with a blocking client of a client-mode peer joined via
/// --peer; the peer is stopped afterwards.
/// Joining and the operation share the --timeout-ms deadline, which a
/// watchdog enforces (deadline.hpp).
template <class F>
int with_client(caf::actor_system& sys, const dht_options& opts, F body) {
  command_deadline deadline{"dht operation", std::chrono::milliseconds{opts.timeout_ms}};
  auto peer = dht::start_io_peer(sys, client_config(opts), opts.peers);
  if (!peer)
    return fail(describe(peer.error()));
  dht::client c{sys, peer->peer, deadline.left()};
  auto rc = body(c);
  deadline.disarm();
  dht::stop_io_peer(sys, *peer);
  return rc;
}

/// --peer (repeatable), --timeout-ms, --rpc-timeout-ms.
void add_peer_options(CLI::App* cmd, dht_options& opts, bool peer_required) {
  auto peer = cmd->add_option("--peer", opts.peers, "HOST:PORT of a DHT peer (repeatable)")
                ->expected(1)
                ->allow_extra_args(false)
                ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  if (peer_required)
    peer->required();
  cmd->add_option("--timeout-ms", opts.timeout_ms, "limit of the whole operation")
    ->check(CLI::Range(1, 3600000));
  cmd->add_option("--rpc-timeout-ms", opts.rpc_timeout_ms, "limit of each DHT request")
    ->check(CLI::Range(1, 3600000));
}

/// --ttl: a finite number of seconds in (0, max_ttl_s]; the message names
/// the bound and the given text ("nan", "1e12", "0").
CLI::Validator ttl_validator() {
  return CLI::Validator(
    [](std::string& text) -> std::string {
      char* end = nullptr;
      errno = 0;
      double x = std::strtod(text.c_str(), &end);
      bool number = !text.empty() && end == text.c_str() + text.size() && errno == 0;
      if (number && std::isfinite(x) && x > 0 && x <= max_ttl_s)
        return {};
      return "must be a number of seconds in (0, " + std::to_string(max_ttl_s) + "], got "
             + text;
    },
    "SECONDS");
}

} // namespace

dht_subcommands add_dht_commands(CLI::App& app, dht_options& opts) {
  dht_subcommands cmds;
  auto dht = app.add_subcommand("dht", "read and write the DHT, or serve a DHT peer");
  dht->require_subcommand(1);
  cmds.store = dht->add_subcommand("store", "store KEY -> VALUE on the swarm");
  cmds.store->add_option("KEY", opts.key, "key")->required();
  cmds.store->add_option("VALUE", opts.value, "value")->required();
  cmds.store->add_option("--subkey", opts.subkey, "store as a dictionary entry")
    ->each([&opts](const std::string&) { opts.has_subkey = true; });
  cmds.store->add_option("--ttl", opts.ttl_s, "seconds until the value expires, in (0, "
                                                + std::to_string(max_ttl_s) + "]")
    ->required()
    ->check(ttl_validator());
  add_peer_options(cmds.store, opts, true);
  cmds.get = dht->add_subcommand("get", "print the value(s) stored under KEY");
  cmds.get->add_option("KEY", opts.key, "key")->required();
  add_peer_options(cmds.get, opts, true);
  cmds.serve = dht->add_subcommand("serve", "run a DHT peer until SIGINT/SIGTERM");
  cmds.serve->add_option("--host", opts.host, "address to listen on and advertise");
  cmds.serve->add_option("--port", opts.port, "port (0 = any free port)");
  cmds.serve->add_option("--ready-file", opts.ready_file, "write HOST:PORT here once joined");
  cmds.serve->add_option("--experts", opts.experts, "uids to declare (comma-separated)")
    ->delimiter(',');
  cmds.serve->add_option("--key-file", opts.key_file,
                         "Ed25519 key (PEM, mode 600) sealing the declarations; created if "
                         "missing (default: a key for this run)");
  cmds.serve->add_option("--expert-endpoint", opts.expert_endpoint,
                         "HOST:PORT the declared experts are served at");
  cmds.serve->add_option("--expiration-s", opts.expiration_s, "declarations live this long")
    ->check(CLI::PositiveNumber);
  cmds.serve->add_option("--update-period-s", opts.update_period_s,
                         "re-declare period (default expiration / 3)")
    ->check(CLI::PositiveNumber);
  cmds.serve->add_option("--log-level", opts.log_level, "trace|debug|info|warn|error|off");
  add_peer_options(cmds.serve, opts, false);
  auto experts = app.add_subcommand("experts", "find experts through the DHT");
  experts->require_subcommand(1);
  cmds.experts_list = experts->add_subcommand("list", "list live experts under PREFIX");
  cmds.experts_list->add_option("PREFIX", opts.prefix, "prefix key, e.g. ffn. or ffn.3.")
    ->required();
  cmds.experts_list
    ->add_option("--first-dim", opts.first_dim,
                 "under a grid's root (ffn.): probe first coordinates 0..N-1 (default 256)")
    ->check(CLI::Range(1, 65536));
  add_peer_options(cmds.experts_list, opts, true);
  return cmds;
}

int run_dht_command(caf::actor_system& sys, const dht_subcommands& cmds,
                    const dht_options& opts, sigset_t& signals) {
  if (cmds.store->parsed())
    return cmd_dht_store(sys, opts);
  if (cmds.get->parsed())
    return cmd_dht_get(sys, opts);
  if (cmds.serve->parsed())
    return cmd_dht_serve(sys, opts, signals);
  return cmd_experts_list(sys, opts);
}

int cmd_dht_store(caf::actor_system& sys, const dht_options& opts) {
  return with_client(sys, opts, [&](dht::client& c) {
    std::optional<std::string> subkey;
    if (opts.has_subkey)
      subkey = opts.subkey;
    auto acks = c.store(opts.key, opts.value, dht::unix_time() + opts.ttl_s, subkey);
    if (!acks)
      return fail(describe(acks.error()));
    if (*acks == 0)
      return fail("no DHT peer accepted key '" + opts.key
                  + "' (a value with a later expiration is stored, or none answered)");
    std::cout << "stored key=" << opts.key << (opts.has_subkey ? " subkey=" + opts.subkey : "")
              << " acks=" << *acks << std::endl;
    return 0;
  });
}

int cmd_dht_get(caf::actor_system& sys, const dht_options& opts) {
  return with_client(sys, opts, [&](dht::client& c) {
    auto r = c.get_one(opts.key);
    if (!r)
      return fail(describe(r.error()));
    if (!r->found)
      return fail(describe(make_error(errc::not_found, "key '" + opts.key + "'")));
    auto now = dht::unix_time();
    for (const auto& x : r->value.values) {
      if (r->value.is_dictionary)
        std::cout << x.subkey << " ";
      std::cout << x.value << " expires_in_s=" << std::fixed << std::setprecision(1)
                << (x.expiration - now) << "\n";
    }
    std::cout << std::flush;
    return 0;
  });
}

int cmd_experts_list(caf::actor_system& sys, const dht_options& opts) {
  return with_client(sys, opts, [&](dht::client& c) {
    auto experts = dht::list_experts(c, opts.prefix, opts.first_dim);
    if (!experts)
      return fail(describe(experts.error()));
    if (experts->empty())
      return fail(describe(make_error(errc::not_found, "no live experts under '"
                                                         + opts.prefix + "'")));
    for (const auto& [uid, ep] : *experts)
      std::cout << uid << " " << ep.to_string() << "\n";
    std::cout << std::flush;
    return 0;
  });
}

int cmd_dht_serve(caf::actor_system& sys, const dht_options& opts, sigset_t& signals) {
  if (!log::setup(opts.log_level))
    return fail("--log-level: unknown level '" + opts.log_level + "'");
  dht_config cfg;
  cfg.host = opts.host;
  cfg.port = opts.port;
  cfg.initial_peers = opts.peers;
  cfg.expiration_s = opts.expiration_s;
  cfg.update_period_s = opts.update_period_s;
  cfg.rpc_timeout_ms = static_cast<uint32_t>(opts.rpc_timeout_ms);
  cfg.rpc_timeout_min_ms = std::min(cfg.rpc_timeout_min_ms, cfg.rpc_timeout_ms);
  cfg.key_file = opts.key_file;
  endpoint expert_ep;
  if (!opts.experts.empty()) {
    auto ep = parse_endpoint(opts.expert_endpoint);
    if (!ep)
      return fail("--expert-endpoint: " + describe(ep.error()));
    expert_ep = *ep;
  }
  auto node = dht::start_node_dht(sys, cfg, opts.experts, expert_ep);
  if (!node)
    return fail(describe(node.error()));
  auto where = node->peer.ep.to_string();
  std::cout << "colony dht peer listening on " << where << std::endl;
  if (!opts.ready_file.empty() && !write_ready_file(opts.ready_file, where))
    log::get("dht")->warn("event=ready_file_failed path={}", opts.ready_file);
  int sig = 0;
  sigwait(&signals, &sig);
  log::get("dht")->info("event=shutdown signal={}", sig);
  dht::stop_node_dht(sys, *node);
  return 0;
}

} // namespace colony::cli
