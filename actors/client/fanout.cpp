#include "actors/client/fanout.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <caf/all.hpp>

#include "actors/client/connect.hpp"
#include "messages/chunking.hpp"
#include "messages/errc.hpp"
#include "messages/wire/tensor_codec.hpp"

namespace colony {

namespace {

using clock = fanout_state::clock;

template <class Request>
struct reply_of;
template <>
struct reply_of<forward_request> { using type = forward_reply; };
template <>
struct reply_of<backward_request> { using type = backward_reply; };
template <>
struct reply_of<info_request> { using type = expert_info; };

std::vector<std::vector<tensor_blob>*> blobs_of(forward_request& r) { return {&r.inputs}; }
std::vector<std::vector<tensor_blob>*> blobs_of(backward_request& r) {
  return {&r.inputs, &r.grad_outputs};
}
std::vector<std::vector<tensor_blob>*> blobs_of(info_request&) { return {}; }
std::vector<std::vector<tensor_blob>*> blobs_of(forward_reply& r) { return {&r.outputs}; }
std::vector<std::vector<tensor_blob>*> blobs_of(backward_reply& r) { return {&r.grad_inputs}; }
std::vector<std::vector<tensor_blob>*> blobs_of(expert_info&) { return {}; }

std::string who(const expert_call& c) {
  auto uid = std::visit([](const auto& r) { return r.uid; }, c.request);
  return "node " + c.node.to_string() + " expert '" + uid + "'";
}

/// Reply chunks are sent anonymously by the expert; transfer ids are random.
constexpr uint64_t reply_sender = 0;

struct fanout_actor_state {
  node_connections* conns = nullptr;
  std::shared_ptr<const void> keepalive; ///< owns *conns when set
  fanout_spec spec;
  std::shared_ptr<fanout_result> out;
  std::unique_ptr<fanout_state> state;
  clock::time_point start;
  std::vector<bool> dropped;
  std::vector<std::string> names; ///< who(call), kept: requests are moved out
  std::map<endpoint, std::vector<size_t>> connecting; ///< calls waiting for a connect
  chunk_assembler chunks{wire::default_max_bytes};
  std::mt19937_64 transfer_ids{std::random_device{}()};
  caf::response_promise waiter;
  bool waiting = false;
  bool finished = false;
  static inline const char* name = "colony.fanout";
};

using fanout_pointer = caf::stateful_actor<fanout_actor_state>*;

caf::timespan left(fanout_pointer self) {
  return std::max(caf::timespan{0},
                  caf::timespan{self->state.spec.deadline - self->clock().now()});
}

void finish(fanout_pointer self) {
  auto& st = self->state;
  if (st.finished || !st.waiting)
    return;
  st.finished = true;
  auto timeout = st.spec.deadline - st.start;
  for (size_t i = 0; i < st.out->answers.size(); ++i)
    if (!st.state->answered(i))
      st.out->answers[i] = net::classify(caf::sec::request_timeout, st.spec.calls[i].node,
                                         st.names[i], timeout,
                                         st.conns->lost(st.spec.calls[i].node));
  st.out->answered = st.state->answered_count();
  st.out->succeeded = st.state->succeeded_count();
  st.conns->unsubscribe(self->address());
  st.waiter.deliver(done_atom::value);
  self->quit();
}

/// Schedules a wake-up at the fan-out's current end time.
void arm(fanout_pointer self) {
  auto now = self->clock().now();
  auto end = self->state.state->end_time();
  if (end <= now)
    return finish(self);
  self->delayed_send(self, end - now, wake_atom::value);
}

void record(fanout_pointer self, size_t i, expert_answer answer) {
  auto& st = self->state;
  if (st.finished || st.state->answered(i))
    return;
  if (answer && st.spec.check)
    if (auto err = st.spec.check(i, answer))
      answer = std::move(err);
  bool ok = static_cast<bool>(answer);
  st.out->answers[i] = std::move(answer);
  st.out->latency_ms[i]
    = std::chrono::duration<double, std::milli>(self->clock().now() - st.start).count();
  st.state->record(i, ok, self->clock().now());
  arm(self);
}

template <class Reply>
void on_reply(fanout_pointer self, size_t i, Reply& reply) {
  auto& chunks = self->state.chunks;
  for (auto* blobs : blobs_of(reply)) {
    if (!chunks.ready(reply_sender, *blobs))
      return record(self, i, make_error(errc::malformed_payload,
                                        "chunks of a reply are missing"));
    if (auto err = chunks.restore(reply_sender, *blobs))
      return record(self, i, err);
  }
  record(self, i, expert_answer{std::move(reply)});
}

/// Tells the expert how long this fan-out still waits (rounded up to ms, so
/// a request is never dropped before its client gave up).
template <class Request>
void set_budget(Request& req, caf::timespan left) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(left + milliseconds{1} - nanoseconds{1}).count();
  req.budget_ms = static_cast<uint32_t>(std::clamp<int64_t>(ms, 1, UINT32_MAX));
}

inline void set_budget(info_request&, caf::timespan) {
  // info is answered at once; it has no deadline
}

void send_call(fanout_pointer self, size_t i, const expert_server_actor& server) {
  auto& st = self->state;
  if (st.finished || st.state->answered(i))
    return; // failed meanwhile (its node was lost)
  auto& call = st.spec.calls[i];
  auto timeout = st.spec.deadline - st.start;
  std::visit(
    [&](auto& req) {
      using reply_type = typename reply_of<std::decay_t<decltype(req)>>::type;
      set_budget(req, left(self));
      for (auto& c : split_request(blobs_of(req), default_chunk_bytes,
                                   [&] { return st.transfer_ids(); }))
        self->send(server, std::move(c));
      auto ep = call.node;
      auto name = st.names[i];
      self->request(server, left(self), std::move(req))
        .then([=](reply_type& reply) { on_reply(self, i, reply); },
              [=](caf::error& err) {
                // The server delegates to the expert: request_receiver_down
                // while the node's connection stands means that the expert
                // died with the request in its mailbox, not that the node
                // is gone (CAF reports nothing for calls to a lost node).
                auto& conns = *self->state.conns;
                if (err == caf::sec::request_receiver_down && !conns.lost(ep) && conns.find(ep))
                  return record(self, i, make_error(errc::expert_restarting,
                                                    name + " went down while its node stayed "
                                                           "up; its supervisor restarts it"));
                if (net::is_connection_loss(err))
                  self->state.conns->evict(ep);
                record(self, i, net::classify(err, ep, name, timeout,
                                              self->state.conns->lost(ep)));
              });
    },
    call.request);
}

/// Sends call `i` now that its injected delay (if any) has passed.
void fire(fanout_pointer self, size_t i) {
  auto& st = self->state;
  if (st.finished || st.dropped[i] || st.state->answered(i))
    return; // a dropped request fails as a timeout at the deadline
  auto& ep = st.spec.calls[i].node;
  if (auto server = st.conns->find(ep))
    return send_call(self, i, *server);
  if (!st.spec.reconnect_lost && st.conns->lost(ep))
    return record(self, i, net::unreachable("node", ep, "lost, not reconnected yet"));
  auto& waiting = st.connecting[ep];
  waiting.push_back(i);
  if (waiting.size() > 1)
    return; // a connect to this node is already under way
  net::connect_async<expert_server_actor>(
    self, ep, left(self), "node", [self, ep](caf::expected<expert_server_actor> server) {
      auto& st = self->state;
      auto calls = std::move(st.connecting[ep]);
      st.connecting.erase(ep);
      if (server)
        st.conns->adopt(ep, *server);
      for (auto j : calls) {
        if (server)
          send_call(self, j, *server);
        else
          record(self, j, server.error());
      }
    });
}

/// Fails the unanswered calls to `ep`, which node_connections just lost.
void on_lost(fanout_pointer self, const endpoint& ep, const std::string& why) {
  auto& st = self->state;
  for (size_t i = 0; i < st.spec.calls.size() && !st.finished; ++i)
    if (st.spec.calls[i].node == ep && !st.state->answered(i))
      record(self, i, net::unreachable("node", ep, why));
}

void start(fanout_pointer self) {
  auto& st = self->state;
  st.start = self->clock().now();
  // Subscribed before any call is sent: a loss from now on is heard of.
  std::set<endpoint> nodes;
  for (auto& c : st.spec.calls)
    if (nodes.insert(c.node).second)
      st.conns->subscribe(c.node, self->address());
  auto faults = st.conns->faults();
  for (size_t i = 0; i < st.spec.calls.size(); ++i) {
    fault_verdict fate;
    if (faults && !faults->is_noop())
      fate = faults->next();
    st.dropped[i] = fate.drop;
    if (fate.delay.count() > 0)
      self->delayed_send(self, fate.delay, fire_atom::value, static_cast<uint64_t>(i));
    else
      fire(self, i);
  }
  arm(self);
}

caf::behavior fanout_actor(caf::stateful_actor<fanout_actor_state>* self, node_connections* conns,
                           fanout_spec spec, std::shared_ptr<fanout_result> out,
                           std::shared_ptr<const void> keepalive) {
  auto& st = self->state;
  auto n = spec.calls.size();
  st.conns = conns;
  st.keepalive = std::move(keepalive);
  st.state = std::make_unique<fanout_state>(n, spec.deadline, spec.grace, spec.quorum);
  st.spec = std::move(spec);
  st.out = std::move(out);
  st.out->answers.assign(n, expert_answer{caf::error{}});
  st.out->latency_ms.assign(n, -1.0);
  st.dropped.assign(n, false);
  for (auto& c : st.spec.calls)
    st.names.push_back(who(c));
  return {
    [=](run_atom) -> caf::result<done_atom> {
      auto& st = self->state;
      if (st.waiting)
        return make_error(errc::bad_request, "a fan-out runs once");
      st.waiting = true;
      st.waiter = self->make_response_promise();
      start(self);
      return caf::delegated<done_atom>{};
    },
    [=](fire_atom, uint64_t i) { fire(self, static_cast<size_t>(i)); },
    [=](wake_atom) { arm(self); },
    [=](lost_atom, const endpoint& ep, const std::string& why) { on_lost(self, ep, why); },
    [=](tensor_chunk& c) {
      auto now = std::chrono::duration<double>(self->clock().now().time_since_epoch()).count();
      self->state.chunks.add(reply_sender, std::move(c), now);
    },
  };
}

} // namespace

caf::actor spawn_fanout(caf::actor_system& sys, node_connections& conns, fanout_spec spec,
                        std::shared_ptr<fanout_result> out,
                        std::shared_ptr<const void> keepalive) {
  return sys.spawn(fanout_actor, &conns, std::move(spec), std::move(out), std::move(keepalive));
}

} // namespace colony
