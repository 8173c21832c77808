#include "actors/client/remote_expert.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/client/fanout.hpp"
#include "actors/client/liveness.hpp"
#include "messages/errc.hpp"
#include "runtime/supervision/report.hpp"

namespace colony {

node_connections::node_connections(caf::actor_system& sys)
  : sys_(sys), st_(std::make_shared<shared_state>()) {
  // nop
}

node_connections::node_connections(caf::actor_system& sys, std::shared_ptr<shared_state> st)
  : sys_(sys), st_(std::move(st)), owner_(false) {
  // nop
}

std::shared_ptr<node_connections> node_connections::share() const {
  return std::shared_ptr<node_connections>{new node_connections{sys_, st_}};
}

node_connections::~node_connections() {
  if (!owner_)
    return;
  std::lock_guard<std::mutex> guard{st_->mx};
  if (st_->liveness)
    caf::anon_send(st_->liveness, stop_atom::value);
}

void node_connections::enable_liveness(const liveness_config& cfg) {
  if (cfg.interval_ms == 0)
    return;
  std::weak_ptr<shared_state> weak = st_;
  auto on_hung = [weak](const endpoint& ep, double silent_ms) {
    if (auto st = weak.lock())
      lose(*st, ep, "hung", silent_ms);
  };
  std::lock_guard<std::mutex> guard{st_->mx};
  if (!st_->liveness)
    st_->liveness = spawn_liveness(sys_, cfg, std::move(on_hung));
}

caf::expected<expert_server_actor> node_connections::get(const endpoint& ep,
                                                         caf::timespan timeout) {
  if (auto server = st_->cache.find(ep))
    return *server;
  // caf::io::remote_actor() has no timeout: ask the middleman, bounded.
  auto server = net::connect_blocking<expert_server_actor>(sys_, ep, timeout, "node");
  if (!server)
    return server.error();
  auto kept = adopt(ep, *server);
  if (st_->cache.lost(ep)) // the connection was gone already
    return net::unreachable("node", ep, "connection lost");
  return kept;
}

std::optional<expert_server_actor> node_connections::find(const endpoint& ep) const {
  return st_->cache.find(ep);
}

expert_server_actor node_connections::adopt(const endpoint& ep, expert_server_actor server) {
  std::weak_ptr<shared_state> weak = st_;
  auto addr = server.address();
  auto watched = server;
  bool was_lost = false;
  bool inserted = false;
  auto kept = st_->cache.put(ep, std::move(server), &was_lost, &inserted);
  if (was_lost)
    supervision::report(supervision::event::node_up, {{"endpoint", ep.to_string()}});
  {
    std::lock_guard<std::mutex> guard{st_->mx};
    if (inserted) { // else already watched: re-watching would restart its silence clock
      ++st_->connections[ep];
      if (st_->liveness)
        caf::anon_send(st_->liveness, watch_atom::value, ep, kept);
    }
  }
  // Runs when the proxy dies, i.e. when CAF lost the connection to the node;
  // a proxy that is no longer the cached connection is ignored. Attached
  // after the put and outside the lock: CAF runs it at once for a proxy
  // that is dead already (under load the middleman can still hand out the
  // proxy of a connection lost a moment ago), marking the endpoint lost.
  watched->attach_functor([weak, ep, addr] {
    auto st = weak.lock();
    if (!st)
      return;
    auto cached = st->cache.find(ep);
    if (!cached || cached->address() == addr)
      lose(*st, ep, "connection_lost", -1);
  });
  return kept;
}

void node_connections::lose(shared_state& st, const endpoint& ep, const std::string& reason,
                            double silent_ms) {
  auto fresh = st.cache.mark_lost(ep);
  if (fresh) {
    supervision::fields f{{"endpoint", ep.to_string()}, {"reason", reason}};
    if (silent_ms >= 0)
      f.emplace_back("silent_ms", std::to_string(static_cast<int64_t>(silent_ms)));
    supervision::report(supervision::event::node_down, f, spdlog::level::warn);
  }
  auto why = reason == "hung"
               ? "hung: no ping answer for " + std::to_string(static_cast<int64_t>(silent_ms))
                   + " ms"
               : std::string{"connection lost"};
  std::vector<caf::actor_addr> subs;
  {
    std::lock_guard<std::mutex> guard{st.mx};
    auto i = st.subscribers.find(ep);
    if (i != st.subscribers.end())
      subs = i->second;
  }
  for (auto& addr : subs)
    if (auto who = caf::actor_cast<caf::actor>(addr))
      caf::anon_send(who, lost_atom::value, ep, why);
}

void node_connections::mark_lost(const endpoint& ep, const std::string& reason,
                                 double silent_ms) {
  lose(*st_, ep, reason, silent_ms);
}

uint64_t node_connections::connections(const endpoint& ep) const {
  std::lock_guard<std::mutex> guard{st_->mx};
  auto i = st_->connections.find(ep);
  return i == st_->connections.end() ? 0 : i->second;
}

void node_connections::subscribe(const endpoint& ep, const caf::actor_addr& who) {
  std::lock_guard<std::mutex> guard{st_->mx};
  auto& subs = st_->subscribers[ep];
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [](const caf::actor_addr& a) {
                              return !caf::actor_cast<caf::strong_actor_ptr>(a);
                            }),
             subs.end());
  subs.push_back(who);
}

void node_connections::unsubscribe(const caf::actor_addr& who) {
  std::lock_guard<std::mutex> guard{st_->mx};
  for (auto i = st_->subscribers.begin(); i != st_->subscribers.end();) {
    auto& subs = i->second;
    subs.erase(std::remove(subs.begin(), subs.end(), who), subs.end());
    i = subs.empty() ? st_->subscribers.erase(i) : std::next(i);
  }
}

void node_connections::evict(const endpoint& ep) {
  st_->cache.erase(ep);
}

void node_connections::set_faults(std::shared_ptr<fault_injection> faults) {
  std::lock_guard<std::mutex> guard{st_->mx};
  st_->faults = std::move(faults);
}

std::shared_ptr<fault_injection> node_connections::faults() const {
  std::lock_guard<std::mutex> guard{st_->mx};
  return st_->faults;
}

bool node_connections::lost(const endpoint& ep) const {
  return st_->cache.lost(ep);
}

std::vector<expert_answer> call_many(node_connections& conns, std::vector<expert_call> calls,
                                     caf::timespan timeout) {
  fanout_spec spec;
  spec.calls = std::move(calls);
  spec.deadline = conns.system().clock().now() + timeout;
  auto out = std::make_shared<fanout_result>();
  auto n = spec.calls.size();
  // The fan-out holds its own handle on the connections: when this wait
  // gives up below, the caller may destroy `conns` while the fan-out still
  // runs a handler (the CLI crashed so: issue 15).
  auto shared = conns.share();
  auto fan = spawn_fanout(conns.system(), *shared, std::move(spec), out, shared);
  caf::scoped_actor self{conns.system()};
  bool done = false;
  // The fan-out ends by its deadline; the margin only covers scheduling.
  self->request(fan, timeout + std::chrono::seconds{5}, run_atom::value)
    .receive([&](done_atom) { done = true; }, [&](caf::error&) {});
  if (!done) {
    self->send_exit(fan, caf::exit_reason::kill);
    return std::vector<expert_answer>(n, make_error(errc::timeout, "fan-out did not finish"));
  }
  return std::move(out->answers);
}

remote_expert::remote_expert(node_connections& conns, endpoint node, std::string uid,
                             caf::timespan timeout)
  : conns_(conns), node_(std::move(node)), uid_(std::move(uid)), timeout_(timeout) {
  // nop
}

expert_answer remote_expert::call(expert_call c) {
  std::vector<expert_call> calls;
  calls.push_back(std::move(c));
  return std::move(call_many(conns_, std::move(calls), timeout_)[0]);
}

caf::expected<std::vector<tensor_blob>> remote_expert::forward(std::vector<tensor_blob> inputs) {
  auto r = call(expert_call{node_, forward_request{uid_, std::move(inputs)}});
  if (!r)
    return r.error();
  return std::move(std::get<forward_reply>(*r).outputs);
}

caf::expected<std::vector<tensor_blob>>
remote_expert::backward(std::vector<tensor_blob> inputs, std::vector<tensor_blob> grad_outputs) {
  auto r = call(expert_call{node_, backward_request{uid_, std::move(inputs),
                                                    std::move(grad_outputs)}});
  if (!r)
    return r.error();
  return std::move(std::get<backward_reply>(*r).grad_inputs);
}

caf::expected<expert_info> remote_expert::info() {
  auto r = call(expert_call{node_, info_request{uid_}});
  if (!r)
    return r.error();
  return std::move(std::get<expert_info>(*r));
}

caf::expected<std::vector<std::string>> list_experts(node_connections& conns,
                                                     const endpoint& node,
                                                     caf::timespan timeout) {
  auto start = std::chrono::steady_clock::now();
  auto server = conns.get(node, timeout);
  if (!server)
    return server.error();
  auto left = std::max(caf::timespan{0}, timeout - (std::chrono::steady_clock::now() - start));
  caf::scoped_actor self{conns.system()};
  caf::expected<std::vector<std::string>> result{caf::error{}};
  self->request(*server, left, list_atom::value)
    .receive([&](std::vector<std::string>& uids) { result = std::move(uids); },
             [&](caf::error& err) {
               if (net::is_connection_loss(err))
                 conns.evict(node);
               result = net::classify(err, node, "node " + node.to_string(), timeout,
                                      conns.lost(node));
             });
  return result;
}

} // namespace colony
