// colony-node: serves the experts of a YAML config behind one published
// endpoint until SIGINT/SIGTERM, then checkpoints them and exits (1 when a
// checkpoint failed). With a trainers: section it also trains, and exits
// when its trainers are done.
#include <csignal>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/dht/node_dht.hpp"
#include "actors/expert/expert_host.hpp"
#include "actors/trainer/trainer_host.hpp"
#include "messages/errc.hpp"
#include "runtime/logging.hpp"
#include "runtime/net_guard/publish.hpp"
#include "runtime/ready_file.hpp"
#include "runtime/node_config.hpp"
#include "runtime/system_config.hpp"

namespace {

int fail(const std::string& what) {
  std::cerr << "colony-node: error: " << what << "\n";
  return 1;
}

/// Starts the node's DHT peer (if configured) and declares its experts.
caf::expected<std::optional<colony::dht::node_dht>>
start_dht(caf::actor_system& sys, const colony::node_config& cfg, const colony::expert_host& host,
          const colony::endpoint& where, const std::string& ready_file) {
  if (!cfg.dht)
    return std::optional<colony::dht::node_dht>{};
  std::vector<std::string> uids;
  for (const auto& [uid, expert] : host.experts)
    uids.push_back(uid);
  auto dht = colony::dht::start_node_dht(sys, *cfg.dht, uids, where, cfg.guard);
  if (!dht)
    return dht.error();
  std::cout << "colony-node dht on " << dht->peer.ep.to_string() << std::endl;
  if (!ready_file.empty() && !colony::write_ready_file(ready_file, dht->peer.ep.to_string()))
    colony::log::get("node")->warn("event=ready_file_failed path={}", ready_file);
  return std::optional<colony::dht::node_dht>{std::move(*dht)};
}

/// The shutdown checkpoint of every expert; false (logged) unless all of
/// them were saved (each failing expert logs its own reason).
bool checkpoint_all(caf::actor_system& sys, const colony::expert_host& host) {
  auto log = colony::log::get("node");
  auto total = host.experts.size();
  std::string failure;
  caf::scoped_actor self{sys};
  self->request(host.server, std::chrono::seconds{120}, colony::save_atom::value)
    .receive(
      [&](uint64_t n) {
        if (n == total)
          log->info("event=checkpointed experts={}", n);
        else
          failure = std::to_string(total - n) + " of " + std::to_string(total)
                    + " experts failed to save (see their event=checkpoint errors)";
      },
      [&](caf::error& err) { failure = colony::describe(err); });
  if (failure.empty())
    return true;
  log->error("event=checkpoint_failed error=\"{}\"", failure);
  std::cerr << "colony-node: error: shutdown checkpoint: " << failure << "\n";
  return false;
}

int serve(const colony::node_config& cfg, const std::string& ready_file,
          const std::string& dht_ready_file, sigset_t& signals) {
  std::optional<colony::trainer::trainer_config> trainers;
  if (!cfg.trainers_yaml.empty()) {
    auto t = colony::trainer::parse_trainer_config(cfg.trainers_yaml);
    if (!t)
      return fail(colony::describe(t.error()));
    trainers = std::move(*t);
  }
  auto log = colony::log::get("node");
  colony::system_options opts;
  opts.scheduler_threads = cfg.scheduler_threads;
  colony::system_config sys_cfg{opts};
  caf::actor_system sys{sys_cfg};
  auto host = colony::spawn_expert_host(sys, cfg);
  if (!host)
    return fail(colony::describe(host.error()));
  auto guarded = colony::net_guard::publish_guarded(sys, host->server, cfg.host, cfg.port,
                                                    cfg.guard, "experts");
  if (!guarded) {
    colony::stop_expert_host(*host);
    return fail(colony::describe(guarded.error()));
  }
  auto port = (*guarded)->port();
  auto where = colony::endpoint{cfg.host, port}.to_string();
  log->info("event=listening endpoint={} experts={}", where, host->experts.size());
  std::cout << "colony-node listening on " << where << std::endl;
  auto dht = start_dht(sys, cfg, *host, colony::endpoint{cfg.host, port}, dht_ready_file);
  if (!dht) {
    colony::stop_expert_host(*host);
    return fail(colony::describe(dht.error()));
  }
  if (!ready_file.empty() && !colony::write_ready_file(ready_file, where))
    log->warn("event=ready_file_failed path={}", ready_file);
  int sig = 0;
  if (trainers) {
    std::optional<colony::dht::peer_actor> peer;
    if (*dht)
      peer = (*dht)->peer.peer;
    auto th = colony::trainer::trainer_host::make(sys, std::move(*trainers), peer, cfg.liveness);
    if (!th) {
      log->error("event=trainers_failed error=\"{}\"", colony::describe(th.error()));
      std::cerr << "colony-node: error: " << colony::describe(th.error()) << "\n";
      sig = -1;
    } else {
      auto summaries = (*th)->run([&] {
        timespec zero{0, 0};
        int s = sigtimedwait(&signals, nullptr, &zero);
        return s > 0 ? (sig = s, true) : false;
      });
      std::cout << "colony-node training done: " << colony::trainer::summarize(summaries)
                << std::endl;
    }
  } else {
    sigwait(&signals, &sig);
  }
  log->info("event=shutdown signal={}", sig);
  bool saved = checkpoint_all(sys, *host);
  if (*dht)
    colony::dht::stop_node_dht(sys, **dht);
  colony::net_guard::unpublish(sys, host->server, **guarded);
  colony::stop_expert_host(*host);
  return sig < 0 || !saved ? 1 : 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"colony-node: serve Colony experts"};
  std::string config_path, ready_file, dht_ready_file;
  app.add_option("-c,--config", config_path, "node YAML config")->required();
  app.add_option("--ready-file", ready_file, "write HOST:PORT here once listening");
  app.add_option("--dht-ready-file", dht_ready_file,
                 "write the DHT peer's HOST:PORT here once it joined (with a dht: section)");
  CLI11_PARSE(app, argc, argv);
  // Block the stop signals before any thread starts, so that every thread
  // inherits the mask and the main thread alone receives them in sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto cfg = colony::load_node_config(config_path);
  if (!cfg)
    return fail(colony::describe(cfg.error()));
  if (auto err = colony::log::setup(cfg->log))
    return fail(colony::describe(err));
  return serve(*cfg, ready_file, dht_ready_file, signals);
}
