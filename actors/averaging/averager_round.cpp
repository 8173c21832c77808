// The all-reduce of one group (averager_state.hpp): the member's attempts
// (a message fan-out of its parts to their reducers, then re-reduction of
// orphaned parts) and the reducer's side (bounded sums answered when every
// live member delivered or the attempt's time is up).
#include <algorithm>

#include "actors/averaging/averager_state.hpp"
#include "actors/client/connect.hpp"
#include "actors/client/fanout.hpp"
#include "messages/atoms.hpp"
#include "messages/errc.hpp"

namespace colony::averaging {

namespace round_impl {

using part_key = std::pair<uint32_t, uint32_t>;

clock::time_point attempt_end(const reducer_round& g, uint32_t attempt) {
  return g.start + std::chrono::duration_cast<clock::duration>(
                     std::chrono::duration<double>(g.slot_s * (attempt + 1)));
}

/// Answers every waiter of (part, attempt) once its sum is complete (or
/// `force`, at the attempt's end) and remembers the answer for late comers.
void maybe_reply(averager_pointer self, const part_key& key, bool force = false) {
  auto& g = *self->state.group;
  auto it = g.reduce.find(key);
  if (it == g.reduce.end() || g.replied.count(key) > 0 || !(force || it->second.complete()))
    return;
  auto mean = it->second.mean();
  avg_part_result r{g.group.round, key.first, key.second, it->second.contributors(), {}};
  auto data = encode_part(mean.data(), mean.size(), self->state.cfg.compression);
  auto& waiters = g.waiters[key];
  for (auto& w : waiters) {
    if (!data)
      w.deliver(data.error());
    else
      w.deliver(avg_part_result{r.round, r.part, r.attempt, r.contributors, *data});
  }
  waiters.clear();
  if (data) {
    r.data = std::move(*data);
    g.replied.emplace(key, std::move(r));
  }
}

void handle_part(averager_pointer self, avg_part& p, caf::response_promise rp) {
  auto& st = self->state;
  auto& g = *st.group;
  auto members = static_cast<uint32_t>(g.group.members.size());
  auto what = "part " + std::to_string(p.part) + " attempt " + std::to_string(p.attempt)
              + " from member " + std::to_string(p.sender);
  if (p.part >= g.group.parts || p.attempt > g.max_retries || p.sender >= members
      || (p.part + p.attempt) % members != g.self)
    return static_cast<void>(
      rp.deliver(make_error(errc::bad_request, what + ": " + st.self_ep + " does not reduce it")));
  if (p.layout != g.layout)
    return static_cast<void>(rp.deliver(
      make_error(errc::bad_shape, what + ": tensor names or shapes differ from the reducer's")));
  part_key key{p.part, p.attempt};
  if (auto done = g.replied.find(key); done != g.replied.end())
    return static_cast<void>(rp.deliver(done->second));
  auto want = part_of(g.total, g.group.parts, p.part).size();
  auto [it, fresh] = g.reduce.try_emplace(key, p.part, want, members);
  auto& rs = it->second;
  if (fresh)
    for (auto d : g.dead)
      rs.drop(d);
  if (g.armed.insert(p.attempt).second) {
    // reducers stop waiting a tenth of a slot before the members do
    auto end = attempt_end(g, p.attempt) - std::chrono::duration_cast<clock::duration>(
                                             std::chrono::duration<double>(g.slot_s * 0.1));
    self->delayed_send(self, std::max(clock::duration{0}, end - clock::now()), wake_atom::value,
                       g.group.round, p.attempt);
  }
  if (!rs.waits_for(p.sender))
    return static_cast<void>(
      rp.deliver(make_error(errc::bad_request, what + ": already delivered or dropped")));
  auto values = decode_part(std::move(p.data), want);
  auto err = values ? rs.add(p.sender, p.weight, *values) : values.error();
  if (err) {
    rs.drop(p.sender);
    st.log->warn("event=part_refused round={} part={} attempt={} member={} reason=\"{}\"",
                 g.group.round, p.part, p.attempt, p.sender, describe(err));
    rp.deliver(make_error(code_of(err), what + " refused: " + context_of(err)));
  } else {
    g.waiters[key].push_back(rp);
  }
  maybe_reply(self, key);
}

void finish_local(averager_pointer self) {
  auto& st = self->state;
  auto& m = *st.local;
  auto& g = *st.group;
  average_result r;
  r.tensors = unflatten(m.shape, m.reduce->result());
  r.group_size = static_cast<uint32_t>(g.group.members.size());
  for (auto i : m.reduce->delivered())
    r.delivered.push_back(g.group.members[i]);
  r.bytes_sent = m.bytes_sent;
  r.bytes_received = m.bytes_received;
  r.seconds = std::chrono::duration<double>(clock::now() - m.called).count();
  r.round = g.group.round;
  r.attempts = m.reduce->attempt() + 1;
  st.log->info("event=averaged run={} round={} group={} delivered={} attempts={} sent={} "
               "received={} took_ms={}", st.cfg.run, r.round, r.group_size, r.delivered.size(),
               r.attempts, r.bytes_sent, r.bytes_received, static_cast<int64_t>(r.seconds * 1000));
  m.promise.deliver(std::move(r));
  st.local.reset();
  refuse_parked_parts(self, "the round ended on " + st.self_ep);
}

using replies_ptr = std::shared_ptr<std::vector<std::optional<avg_part_result>>>;

void launch_attempt(averager_pointer self, uint32_t attempt);

void after_attempt(averager_pointer self, uint64_t round, std::vector<uint32_t> parts,
                   replies_ptr replies, std::shared_ptr<message_fanout_result> out) {
  auto& st = self->state;
  if (!st.local || st.local->round != round)
    return;
  auto& m = *st.local;
  auto& first = m.first_error;
  for (size_t k = 0; k < parts.size(); ++k) {
    auto err = k < out->errors.size() ? out->errors[k] : make_error(errc::timeout, "no answer");
    auto& r = (*replies)[k];
    if (!err && r && r->contributors.empty())
      err = make_error(errc::bad_request, "part " + std::to_string(parts[k]) + ": no contributor");
    if (!err && r) {
      m.bytes_received += r->data.size();
      auto values = decode_part(std::move(r->data), m.reduce->range(parts[k]).size());
      err = values ? m.reduce->accept(parts[k], std::move(*values), r->contributors)
                   : values.error();
    }
    if (err && !first)
      first = err;
  }
  if (m.reduce->done())
    return finish_local(self);
  auto& g = *st.group;
  if (clock::now() < attempt_end(g, g.max_retries) && m.reduce->next_attempt())
    return launch_attempt(self, m.reduce->attempt());
  auto missing = m.reduce->missing();
  fail_local(self, make_error(first ? code_of(first) : errc::timeout,
                              std::to_string(missing.size()) + " of "
                                + std::to_string(m.reduce->parts()) + " parts unreduced after "
                                + std::to_string(m.reduce->attempt() + 1)
                                + " attempts; first error: " + describe(first)));
}

message_call part_call(averager_pointer self, uint32_t p, uint32_t attempt, size_t k,
                       replies_ptr replies) {
  auto& st = self->state;
  auto& m = *st.local;
  auto& g = *st.group;
  auto reducer = g.group.members[m.reduce->reducer_of(p, attempt)];
  auto n = m.reduce->range(p).size();
  std::vector<float> values(m.reduce->local(p), m.reduce->local(p) + n);
  if (st.opts.corrupt_parts)
    values.push_back(0.0f);
  avg_part msg{g.group.round, p, attempt, g.self, m.weight, m.layout_hash, {}};
  message_call call;
  call.name = "averager " + reducer + " part " + std::to_string(p);
  if (auto h = g.handles.find(reducer); h != g.handles.end())
    call.target = h->second;
  auto data = encode_part(values.data(), values.size(), st.cfg.compression);
  if (!data) {
    call.target = nullptr;
    return call;
  }
  msg.data = std::move(*data);
  m.bytes_sent += msg.data.size();
  auto target = call.target;
  call.send = [target, msg, replies, k](caf::event_based_actor* fan, caf::timespan left,
                                        std::function<void(caf::error)> done) {
    fan->request(target, left, msg).then(
      [replies, k, done](avg_part_result& r) {
        (*replies)[k] = std::move(r);
        done(caf::none);
      },
      [done](caf::error& err) { done(std::move(err)); });
  };
  return call;
}

void launch_attempt(averager_pointer self, uint32_t attempt) {
  auto& st = self->state;
  auto& m = *st.local;
  auto& g = *st.group;
  auto parts = m.reduce->missing();
  auto replies = std::make_shared<std::vector<std::optional<avg_part_result>>>(parts.size());
  message_fanout_spec spec;
  spec.deadline = attempt_end(g, attempt);
  for (size_t k = 0; k < parts.size(); ++k)
    spec.calls.push_back(part_call(self, parts[k], attempt, k, replies));
  auto out = std::make_shared<message_fanout_result>();
  auto fan = spawn_fanout(self->system(), std::move(spec), out);
  auto round = m.round;
  auto left = std::max(clock::duration{0}, attempt_end(g, attempt) - clock::now());
  self->request(fan, left + std::chrono::seconds{5}, run_atom::value)
    .then([=](done_atom) { after_attempt(self, round, parts, replies, out); },
          [=](caf::error&) { after_attempt(self, round, parts, replies, out); });
}

void process_parked(averager_pointer self) {
  auto parts = std::move(self->state.parked_parts);
  self->state.parked_parts.clear();
  for (auto& p : parts) {
    if (p.msg.round == self->state.group->group.round)
      handle_part(self, p.msg, p.promise);
    else
      p.promise.deliver(make_error(errc::bad_request, "unknown round"));
  }
}

void connect_all(averager_pointer self, uint64_t round) {
  auto& st = self->state;
  auto& g = *st.group;
  auto pending = std::make_shared<size_t>(g.group.members.size() - 1);
  g.handles[st.self_ep] = caf::actor_cast<caf::actor>(self);
  if (*pending == 0)
    return launch_attempt(self, 0);
  for (uint32_t i = 0; i < g.group.members.size(); ++i) {
    auto ep_text = g.group.members[i];
    if (ep_text == st.self_ep)
      continue;
    auto connected = [self, round, pending, i, ep_text](caf::expected<averager_front_actor> h) {
      auto& st = self->state;
      if (!st.group || st.group->group.round != round)
        return;
      if (h) {
        auto a = caf::actor_cast<caf::actor>(*h);
        st.group->handles[ep_text] = a;
        self->monitor(a);
      } else {
        st.group->dead.insert(i);
      }
      if (--*pending == 0 && st.local && st.local->round == round)
        launch_attempt(self, 0);
    };
    auto ep = parse_endpoint(ep_text);
    if (!ep) {
      connected(caf::expected<averager_front_actor>{ep.error()});
      continue;
    }
    net::connect_async<averager_front_actor>(self, *ep, seconds(g.slot_s / 2), "averager",
                                             connected);
  }
}

} // namespace round_impl

using namespace round_impl;

void start_round(averager_pointer self, const avg_group& g, uint32_t index) {
  auto& st = self->state;
  auto& m = *st.local;
  if (g.parts > m.shape.total + g.members.size())
    return fail_local(self, make_error(errc::bad_request, std::to_string(g.parts)
                                                            + " parts for "
                                                            + std::to_string(m.shape.total)
                                                            + " values"));
  m.phase = member_round::reducing;
  m.round = g.round;
  auto& r = st.group.emplace();
  r.group = g;
  r.self = index;
  r.layout = m.layout_hash;
  r.total = m.shape.total;
  r.max_retries = st.cfg.max_retries;
  r.start = clock::now();
  r.slot_s = st.cfg.round_timeout_s / (st.cfg.max_retries + 1);
  auto members = static_cast<uint32_t>(g.members.size());
  m.reduce.emplace(flatten(m.tensors, m.shape.total), members, g.parts, index,
                   st.cfg.max_retries);
  if (st.opts.on_group)
    st.opts.on_group(g);
  process_parked(self);
  connect_all(self, g.round);
}

void on_part(averager_pointer self, avg_part& p) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  if (st.group && st.group->group.round == p.round)
    return handle_part(self, p, rp);
  bool waiting = st.local && st.local->phase != member_round::reducing;
  if (waiting && st.parked_parts.size() < size_t{st.cfg.group_size} * (st.cfg.max_retries + 1)) {
    st.parked_parts.push_back({std::move(p), rp});
    return;
  }
  rp.deliver(make_error(errc::bad_request, "part for unknown round "
                                             + std::to_string(p.round) + " at " + st.self_ep));
}

void on_member_down(averager_pointer self, const caf::down_msg& msg) {
  auto& st = self->state;
  if (!st.group)
    return;
  auto& g = *st.group;
  for (uint32_t i = 0; i < g.group.members.size(); ++i) {
    auto h = g.handles.find(g.group.members[i]);
    if (h == g.handles.end() || h->second.address() != msg.source)
      continue;
    g.dead.insert(i);
    for (auto& [key, rs] : g.reduce) {
      rs.drop(i);
      maybe_reply(self, key);
    }
  }
}

void end_attempt(averager_pointer self, uint64_t round, uint32_t attempt) {
  auto& st = self->state;
  if (!st.group || st.group->group.round != round)
    return;
  std::vector<part_key> keys;
  for (auto& [key, rs] : st.group->reduce)
    if (key.second == attempt)
      keys.push_back(key);
  for (auto& key : keys)
    maybe_reply(self, key, true);
}

void refuse_parked_parts(averager_pointer self, const std::string& why) {
  for (auto& p : self->state.parked_parts)
    p.promise.deliver(make_error(errc::bad_request, why));
  self->state.parked_parts.clear();
}

} // namespace colony::averaging
