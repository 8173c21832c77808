// colony-node: serves the experts of a YAML config behind one published
// endpoint until SIGINT/SIGTERM, then checkpoints them and exits (1 when a
// checkpoint failed). With a trainers: section it also trains, and exits
// when its trainers are done. Everything it runs is a child of the node's
// supervision tree (node_tree.hpp); with a control: section it also serves
// the control port (colony ctl).
#include <csignal>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/control/control_actor.hpp"
#include "actors/trainer/trainer_host.hpp"
#include "messages/errc.hpp"
#include "nodes/node/node_manager.hpp"
#include "nodes/node/node_tree.hpp"
#include "runtime/logging.hpp"
#include "runtime/net_guard/outbound_guard.hpp"
#include "runtime/ready_file.hpp"
#include "runtime/node_config.hpp"
#include "runtime/system_config.hpp"

namespace {

int fail(const std::string& what) {
  std::cerr << "colony-node: error: " << what << "\n";
  return 1;
}

/// Checkpoints every expert at shutdown; false (logged) unless all of them
/// were saved (each failing expert logs its own reason).
bool checkpoint_all(caf::actor_system& sys, const colony::expert_host& host) {
  auto log = colony::log::get("node");
  auto total = host.registry->size();
  auto saved = colony::checkpoint_experts(sys, host);
  if (saved == total) {
    log->info("event=checkpointed experts={}", saved);
    return true;
  }
  auto failure = std::to_string(total - saved) + " of " + std::to_string(total)
                 + " experts failed to save (see their event=checkpoint errors)";
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
  auto tree = colony::node::start_node_tree(sys, cfg);
  if (!tree)
    return fail(colony::describe(tree.error()));
  auto& t = **tree;
  auto where = t.where.to_string();
  log->info("event=listening endpoint={} experts={}", where, t.host.registry->size());
  std::cout << "colony-node listening on " << where << std::endl;
  std::optional<colony::dht::peer_actor> peer;
  if (t.dht) {
    peer = t.dht->peer.peer;
    std::cout << "colony-node dht on " << t.dht->peer.ep.to_string() << std::endl;
    if (!dht_ready_file.empty()
        && !colony::write_ready_file(dht_ready_file, t.dht->peer.ep.to_string()))
      log->warn("event=ready_file_failed path={}", dht_ready_file);
  }
  auto manager = colony::node::spawn_node_manager(sys, *tree);
  std::optional<colony::control::control_port> control;
  if (cfg.control.enabled) {
    colony::control::control_deps deps;
    deps.manager = manager;
    deps.logs = [ring = colony::log::ring()](uint64_t after, uint32_t n) {
      return ring->read(after, n);
    };
    auto c = colony::control::start_control(sys, cfg.control, std::move(deps), cfg.guard);
    if (!c) {
      caf::anon_send_exit(manager, caf::exit_reason::user_shutdown);
      colony::node::stop_node_tree(t);
      return fail(colony::describe(c.error()));
    }
    control = std::move(*c);
    auto ctl_ep = colony::endpoint{cfg.control.host, control->port()}.to_string();
    log->info("event=control_listening endpoint={}", ctl_ep);
    std::cout << "colony-node control on " << ctl_ep << std::endl;
  }
  if (!ready_file.empty() && !colony::write_ready_file(ready_file, where))
    log->warn("event=ready_file_failed path={}", ready_file);
  int sig = 0;
  if (trainers) {
    trainers->averaging_host = cfg.host;
    auto th = colony::trainer::trainer_host::make(sys, std::move(*trainers), peer, cfg.liveness,
                                                  cfg.faults.expert_calls);
    if (!th) {
      log->error("event=trainers_failed error=\"{}\"", colony::describe(th.error()));
      std::cerr << "colony-node: error: " << colony::describe(th.error()) << "\n";
      sig = -1;
    } else {
      // The trainers' supervisor joins the node's tree (status, logs); it
      // is not restarted from there: run() ends when it gives up.
      colony::supervision::child_spec spec;
      spec.id = "trainers";
      spec.is_supervisor = true;
      spec.restart = colony::supervision::restart_policy::temporary;
      spec.start = [sup = (*th)->supervisor()](caf::actor_system&,
                                               const colony::supervision::start_context&)
        -> caf::expected<colony::supervision::started> {
        return colony::supervision::started{sup, {}};
      };
      caf::anon_send(t.root, colony::supervision::add_child_atom::value, std::move(spec));
      auto summaries = (*th)->run([&] {
        timespec zero{0, 0};
        int s = sigtimedwait(&signals, nullptr, &zero);
        return s > 0 ? (sig = s, true) : false;
      });
      std::cout << "colony-node training done: " << colony::trainer::summarize(summaries, (*th)->model_result())
                << std::endl;
    }
  } else {
    sigwait(&signals, &sig);
  }
  log->info("event=shutdown signal={}", sig);
  if (control)
    colony::control::stop_control(sys, *control);
  bool saved = checkpoint_all(sys, t.host);
  caf::anon_send_exit(manager, caf::exit_reason::user_shutdown);
  colony::node::stop_node_tree(t);
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
  colony::net_guard::outbound_config out;
  out.enabled = cfg->guard.outgoing;
  out.max_message_bytes = cfg->max_message_bytes + (uint64_t{1} << 20); // + the envelope
  colony::net_guard::outbound_guard::instance().configure(out);
  return serve(*cfg, ready_file, dht_ready_file, signals);
}
