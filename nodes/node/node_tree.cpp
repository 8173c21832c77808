#include "nodes/node/node_tree.hpp"

#include <chrono>
#include <iostream>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/expert/expert_server.hpp"
#include "messages/errc.hpp"
#include "runtime/logging.hpp"
#include "runtime/supervision/crash_injector.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace colony::node {

using supervision::child_spec;
using supervision::started;
using supervision::start_context;

double steady_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

void node_tree::declare_now() {
  std::lock_guard<std::mutex> guard{mx};
  if (declarer)
    caf::anon_send(*declarer, wake_atom::value);
}

namespace {

using tree_ptr = std::shared_ptr<node_tree>;

/// The published server: the first start adopts the one main published; a
/// restart spawns a new one and points the same guarded port at it.
child_spec server_child(const tree_ptr& t) {
  child_spec spec;
  spec.id = "server";
  spec.start = [t](caf::actor_system& sys, const start_context& sc) -> caf::expected<started> {
    std::lock_guard<std::mutex> guard{t->mx};
    if (sc.restarts == 0)
      return started{caf::actor_cast<caf::actor>(t->published), {}};
    auto server = spawn_expert_server(sys, t->host.registry, t->cfg.max_message_bytes);
    auto internal = sys.middleman().publish(server, 0, "127.0.0.1", false);
    if (!internal) {
      caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
      return make_error(errc::io_failed, "cannot re-publish the expert server ("
                                           + sys.render(internal.error()) + ")");
    }
    if (t->data_port->internal != 0)
      sys.middleman().unpublish(t->published, t->data_port->internal);
    t->data_port->internal = *internal;
    t->data_port->guard->retarget(*internal);
    t->published = server;
    return started{caf::actor_cast<caf::actor>(server), {{"port", std::to_string(t->where.port)}}};
  };
  return spec;
}

/// The DHT peer: the first start adopts the peer main joined; a restart
/// starts a new one on the same port and joins again.
child_spec dht_child(const tree_ptr& t) {
  child_spec spec;
  spec.id = "dht";
  spec.start = [t](caf::actor_system& sys, const start_context& sc) -> caf::expected<started> {
    std::unique_lock<std::mutex> guard{t->mx};
    if (sc.restarts == 0)
      return started{caf::actor_cast<caf::actor>(t->dht->peer.peer), {}};
    auto cfg = *t->cfg.dht;
    cfg.port = t->dht->peer.ep.port;
    auto old = std::move(*t->dht);
    t->dht.reset();
    guard.unlock();
    dht::stop_node_dht(sys, old);
    auto fresh = dht::start_node_dht(sys, cfg, {}, t->where, t->cfg.guard, t->cfg.faults.dht,
                                     old.key); // the same key: its declarations stay its own
    if (!fresh)
      return fresh.error();
    guard.lock();
    t->dht = std::move(*fresh);
    // The declarer still talks to the old peer: its restart picks the new one.
    if (t->declarer)
      caf::anon_send_exit(*t->declarer, caf::exit_reason::kill);
    return started{caf::actor_cast<caf::actor>(t->dht->peer.peer),
                   {{"endpoint", t->dht->peer.ep.to_string()}}};
  };
  return spec;
}

/// The declarer, over the registry's current uids.
child_spec declarer_child(const tree_ptr& t) {
  child_spec spec;
  spec.id = "declarer";
  spec.start = [t](caf::actor_system& sys, const start_context&) -> caf::expected<started> {
    std::lock_guard<std::mutex> guard{t->mx};
    if (!t->dht)
      return make_error(errc::unreachable, "no DHT peer to declare through");
    auto registry = t->host.registry;
    dht::declarer_config dc;
    dc.uids_source = [registry] { return registry->declarable(); };
    dc.expert_ep = t->where;
    dc.expiration_s = t->cfg.dht->expiration_s;
    dc.update_period_s = t->cfg.dht->update_period();
    dc.owner = t->dht->key;
    auto d = dht::spawn_declarer(sys, t->dht->peer.peer, std::move(dc));
    t->declarer = d;
    return started{caf::actor_cast<caf::actor>(d), {}};
  };
  return spec;
}

child_spec crash_child(const tree_ptr& t) {
  child_spec spec;
  spec.id = "crashes";
  spec.start = [t](caf::actor_system& sys, const start_context&) -> caf::expected<started> {
    auto registry = t->host.registry;
    auto victims = [registry] {
      std::vector<caf::actor> out;
      for (auto& [uid, h] : registry->running())
        out.push_back(caf::actor_cast<caf::actor>(h));
      return out;
    };
    auto a = supervision::spawn_crash_injector(sys, t->cfg.faults.crash_rate_per_min,
                                               t->cfg.faults.crash_seed(), victims);
    return started{a, {{"rate_per_min", std::to_string(t->cfg.faults.crash_rate_per_min)}}};
  };
  return spec;
}

} // namespace

caf::expected<std::shared_ptr<node_tree>> start_node_tree(caf::actor_system& sys,
                                                          const node_config& cfg) {
  auto t = std::make_shared<node_tree>();
  t->sys = &sys;
  t->cfg = cfg;
  t->started_at = steady_s();
  std::weak_ptr<node_tree> weak = t;
  auto host = spawn_expert_host(sys, cfg, [weak] {
    if (auto tree = weak.lock())
      tree->declare_now();
  });
  if (!host)
    return host.error();
  t->host = std::move(*host);
  auto port = net_guard::publish_guarded(sys, t->host.server, cfg.host, cfg.port, cfg.guard,
                                         "experts");
  if (!port) {
    stop_expert_host(t->host);
    return port.error();
  }
  t->data_port = *port;
  t->published = t->host.server;
  t->where = endpoint{cfg.host, t->data_port->port()};
  supervision::set_node_name(t->where.to_string());
  std::vector<child_spec> children;
  if (cfg.dht) {
    auto d = dht::start_node_dht(sys, *cfg.dht, {}, t->where, cfg.guard, cfg.faults.dht);
    if (!d) {
      net_guard::unpublish(sys, t->host.server, *t->data_port);
      stop_expert_host(t->host);
      return d.error();
    }
    t->dht = std::move(*d);
    children.push_back(dht_child(t));
    children.push_back(declarer_child(t));
  }
  children.push_back(server_child(t));
  children.push_back(expert_host_child(t->host));
  if (cfg.faults.crash_rate_per_min > 0)
    children.push_back(crash_child(t));
  supervision::supervisor_config root;
  root.id = "node";
  root.escalate = false;
  t->root = supervision::spawn_supervisor(sys, root, std::move(children));
  return t;
}

void stop_node_tree(node_tree& t, caf::timespan timeout) {
  // Graceful leave first: gates stop choosing this node's experts now.
  std::optional<dht::declarer_actor> declarer;
  {
    std::lock_guard<std::mutex> guard{t.mx};
    declarer = t.declarer;
  }
  if (declarer)
    dht::leave(*t.sys, *declarer, std::min<caf::timespan>(timeout, std::chrono::seconds{5}));
  caf::scoped_actor self{*t.sys};
  self->monitor(t.root);
  self->send_exit(t.root, caf::exit_reason::user_shutdown);
  self->receive([](caf::down_msg&) {},
                caf::after(timeout) >> [&] {
                  log::get("node")->warn("event=shutdown_slow waited_s={}",
                                         std::chrono::duration<double>(timeout).count());
                });
  std::lock_guard<std::mutex> guard{t.mx};
  if (t.dht)
    dht::stop_node_dht(*t.sys, *t.dht);
  t.dht.reset();
  if (t.data_port)
    net_guard::unpublish(*t.sys, t.published, *t.data_port);
  stop_expert_host(t.host);
}

} // namespace colony::node
