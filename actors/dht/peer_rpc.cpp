// peer_state: outgoing RPCs. Each one resolves its endpoint through the
// transport, runs under a deadline of the peer's RTT-based timeout (rtt.hpp)
// from the moment it was issued, and passes through the transport's
// delay/drop hook twice (the request on the way out, the reply on the way
// back). Replies feed the RTT estimates; timeouts back them off.
#include "actors/dht/peer_state.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "actors/dht/wire.hpp"
#include "messages/errc.hpp"

namespace colony::dht {

namespace {

using steady = std::chrono::steady_clock;

caf::error timeout_error(const endpoint& ep, caf::timespan timeout) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  return make_error(errc::timeout, "no reply from DHT peer " + ep.to_string() + " within "
                                     + std::to_string(ms) + " ms");
}

caf::error classify(const caf::error& err, const endpoint& ep, caf::timespan timeout) {
  if (err == caf::sec::request_timeout)
    return timeout_error(ep, timeout);
  if (err.category() == errc_category)
    return err;
  return make_error(errc::unreachable,
                    "DHT peer " + ep.to_string() + " unreachable (" + caf::to_string(err) + ")");
}

double seconds_of(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

caf::timespan timespan_of(double seconds) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>{seconds});
}

} // namespace


void peer_state::send_ping(const endpoint& ep, continuation<dht_pong> ok, failure fail) {
  call<dht_ping, dht_pong>(ep, dht_ping{me(), cfg_.client_mode}, std::move(ok),
                           std::move(fail));
}

void peer_state::send_find(const contact& to, std::vector<node_id> targets) {
  dht_find_request req{me(), cfg_.client_mode, {}};
  req.keys.reserve(targets.size());
  for (const auto& t : targets)
    req.keys.push_back(to_wire(t));
  // Stalled-lookup rule: past its stall time (shorter than its timeout
  // for a peer never measured), the lookups stop waiting on this request.
  // One timer per peer serves every request in flight (armed for the
  // earliest stall time), not one timer per request.
  auto id = next_find_++;
  finds_in_flight_.emplace(id, find_in_flight{to, targets});
  if (auto stall = stall_after(to.ep); stall < timeout_for(to.ep)) {
    auto due = steady::now() + stall;
    stall_due_.emplace(due, id);
    arm_stall_check(due);
  }
  call<dht_find_request, dht_find_reply>(
    to.ep, std::move(req),
    [this, id, to, targets](dht_find_reply& reply) {
      finds_in_flight_.erase(id);
      on_find_reply(to, targets, reply);
    },
    [this, id, to, targets](const caf::error&) {
      finds_in_flight_.erase(id);
      on_find_failure(to, targets);
    });
}

void peer_state::arm_stall_check(steady::time_point due) {
  if (stall_check_at_ && *stall_check_at_ <= due)
    return;
  stall_check_at_ = due;
  after(std::max(due - steady::now(), steady::duration{0}), [this] { check_stalls(); });
}

void peer_state::check_stalls() {
  stall_check_at_.reset();
  auto t = steady::now();
  while (!stall_due_.empty() && stall_due_.begin()->first <= t) {
    auto id = stall_due_.begin()->second;
    stall_due_.erase(stall_due_.begin());
    if (auto i = finds_in_flight_.find(id); i != finds_in_flight_.end()) {
      auto watched = i->second; // on_find_slow may send more finds
      on_find_slow(watched.to, watched.targets);
    }
  }
  if (!stall_due_.empty())
    arm_stall_check(stall_due_.begin()->first);
}

void peer_state::send_store(const contact& to, std::vector<dht_store_item> items,
                            continuation<dht_store_reply> ok, failure fail) {
  call<dht_store_request, dht_store_reply>(
    to.ep, dht_store_request{me(), cfg_.client_mode, std::move(items)}, std::move(ok),
    std::move(fail));
}

caf::timespan peer_state::timeout_for(const endpoint& ep) const {
  return timespan_of(
    rtt_.timeout(ep, seconds_of(cfg_.rpc_timeout_min), seconds_of(cfg_.rpc_timeout)));
}

caf::timespan peer_state::stall_after(const endpoint& ep) const {
  return timespan_of(
    rtt_.stall_after(ep, seconds_of(cfg_.rpc_timeout_min), seconds_of(cfg_.rpc_timeout)));
}

template <class Request, class Reply>
void peer_state::call(const endpoint& ep, Request req, continuation<Reply> ok,
                      failure fail) {
  ++rpcs_sent_;
  auto start = steady::now();
  auto timeout = timeout_for(ep);
  auto deadline = start + timeout;
  ok = [this, ep, start, ok = std::move(ok)](Reply& reply) {
    rtt_.observe(ep, std::chrono::duration<double>(steady::now() - start).count());
    ok(reply);
  };
  fail = [this, ep, fail = std::move(fail)](const caf::error& err) {
    if (code_of(err) == errc::timeout)
      rtt_.backoff(ep);
    fail(err);
  };
  auto verdict = net_->faults().next();
  if (verdict.drop) {
    after(timeout, [=] { fail(timeout_error(ep, timeout)); });
    return;
  }
  if (verdict.delay.count() <= 0) {
    dispatch(ep, std::move(req), std::move(ok), std::move(fail), timeout, deadline);
    return;
  }
  after(verdict.delay, [=]() mutable {
    dispatch(ep, std::move(req), std::move(ok), std::move(fail), timeout, deadline);
  });
}

template <class Request, class Reply>
void peer_state::dispatch(const endpoint& ep, Request req, continuation<Reply> ok,
                          failure fail, caf::timespan timeout,
                          steady::time_point deadline) {
  auto time_out = [=] { fail(timeout_error(ep, timeout)); };
  auto left = deadline - steady::now();
  if (left.count() <= 0)
    return later(time_out);
  auto on_handle = [=](caf::expected<peer_front_actor> handle) mutable {
    auto left = deadline - steady::now();
    if (!handle)
      return later([=] { fail(classify(handle.error(), ep, timeout)); });
    if (left.count() <= 0)
      return later(time_out);
    self_->request(*handle, left, std::move(req))
      .then(
        [=](Reply& reply) {
          auto verdict = net_->faults().next();
          auto left = deadline - steady::now();
          if (verdict.drop || verdict.delay >= left)
            return after(std::max(left, decltype(left){0}), time_out);
          if (verdict.delay.count() > 0)
            return after(verdict.delay, [=]() mutable { ok(reply); });
          ok(reply);
          flush();
        },
        [=](caf::error& err) {
          net_->forget(ep);
          fail(classify(err, ep, timeout));
          flush();
        });
  };
  net_->resolve(self_, ep, left, std::move(on_handle));
}

void peer_state::later(std::function<void()> fn) {
  auto id = next_deferred_++;
  deferred_.emplace(id, std::move(fn));
  self_->send(self_, defer_atom::value, id);
}

void peer_state::after(caf::timespan delay, std::function<void()> fn) {
  auto id = next_deferred_++;
  deferred_.emplace(id, std::move(fn));
  self_->delayed_send(self_, delay, defer_atom::value, id);
}

} // namespace colony::dht
