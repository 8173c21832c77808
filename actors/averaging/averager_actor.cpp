// The averager actor: its dispatch table, matchmaking through the DHT, and
// the state it holds for joiners. The all-reduce is in averager_round.cpp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "actors/averaging/averager_state.hpp"
#include "actors/client/connect.hpp"
#include "messages/atoms.hpp"
#include "messages/errc.hpp"

namespace colony::averaging {

caf::timespan seconds(double s) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(s));
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

namespace actor_impl {

std::string hex(uint64_t x) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

/// The endpoints announced under `key` (expired entries are left out by
/// the DHT).
std::vector<std::string> entries_of(const dht_get_reply& r) {
  std::vector<std::string> out;
  if (!r.results.empty() && r.results[0].found)
    for (auto& v : r.results[0].value.values)
      out.push_back(v.subkey);
  return out;
}

void put(averager_pointer self, const std::string& key, std::string value, double ttl_s,
         std::function<void(caf::error)> done) {
  auto& st = self->state;
  dht_put_item item{key, true, st.self_ep, std::move(value), unix_now() + ttl_s};
  self->request(st.dht, seconds(st.cfg.join_window_s + 5), dht_put_request{{std::move(item)}})
    .then([done](const dht_put_reply&) { done(caf::none); },
          [done](caf::error& err) { done(std::move(err)); });
}

/// Refuses parked joins older than a follower waits for its group (their
/// senders gave up: putting them into a group would make everyone wait).
void expire_parked_joins(averager_pointer self) {
  auto& st = self->state;
  auto limit = seconds(st.cfg.join_window_s * 2 + 2);
  auto now = clock::now();
  auto old = std::partition(st.parked_joins.begin(), st.parked_joins.end(),
                            [&](const parked<avg_join>& j) { return now - j.since < limit; });
  for (auto i = old; i != st.parked_joins.end(); ++i)
    i->promise.deliver(make_error(errc::timeout, "join waited too long at " + st.self_ep));
  st.parked_joins.erase(old, st.parked_joins.end());
}

void refuse_parked_joins(averager_pointer self, const std::string& why) {
  for (auto& j : self->state.parked_joins)
    j.promise.deliver(make_error(errc::bad_request, why));
  self->state.parked_joins.clear();
}

void close_group(averager_pointer self) {
  auto& st = self->state;
  auto& l = *st.local;
  auto members = static_cast<uint32_t>(l.leader->joined() + 1);
  auto parts = part_count(l.shape.total, members, st.cfg.max_part_bytes);
  auto g = l.leader->close(st.rng(), parts);
  if (!g)
    return fail_local(self, g.error());
  st.log->info("event=group_formed run={} round={} leader={} members={} parts={}", st.cfg.run,
               g->round, st.self_ep, g->members.size(), g->parts);
  for (auto& p : l.join_promises)
    p.deliver(*g);
  l.join_promises.clear();
  start_round(self, *g, *check_group(*g, st.self_ep, st.cfg.group_size));
}

void lead(averager_pointer self) {
  auto& st = self->state;
  auto& l = *st.local;
  l.phase = member_round::leading;
  l.leader.emplace(st.self_ep, st.cfg.run, l.layout_hash, st.cfg.group_size, st.cfg.min_group);
  expire_parked_joins(self);
  for (auto& j : st.parked_joins) {
    if (auto err = l.leader->join(j.msg))
      j.promise.deliver(err);
    else
      l.join_promises.push_back(j.promise);
  }
  st.parked_joins.clear();
  self->delayed_send(self, seconds(st.cfg.join_window_s), close_atom::value, l.round);
}

void follow(averager_pointer self, const std::string& leader) {
  auto& st = self->state;
  st.local->phase = member_round::following;
  refuse_parked_joins(self, st.self_ep + " is not leading (it follows " + leader + ")");
  auto ep = parse_endpoint(leader);
  if (!ep)
    return fail_local(self, ep.error());
  auto wait = seconds(st.cfg.join_window_s * 2 + 2);
  auto call = st.local->round;
  avg_join j{st.cfg.run, st.self_ep, st.local->layout_hash};
  net::connect_async<averager_front_actor>(
    self, *ep, wait, "averager", [self, j, wait, call](caf::expected<averager_front_actor> h) {
      auto& st = self->state;
      if (!st.local || st.local->round != call)
        return;
      if (!h)
        return fail_local(self, h.error());
      self->request(*h, wait, j).then(
        [self, call](avg_group& g) {
          auto& st = self->state;
          if (!st.local || st.local->round != call)
            return;
          auto index = check_group(g, st.self_ep, st.cfg.group_size);
          if (!index)
            return fail_local(self, index.error());
          start_round(self, g, *index);
        },
        [self, call](caf::error& err) {
          if (self->state.local && self->state.local->round == call)
            fail_local(self, std::move(err));
        });
    });
}

void look(averager_pointer self) {
  auto& st = self->state;
  auto call = st.local->round;
  self->request(st.dht, seconds(st.cfg.join_window_s + 5), dht_get_request{{group_key(st.cfg.run)}})
    .then(
      [self, call](const dht_get_reply& r) {
        auto& st = self->state;
        if (!st.local || st.local->round != call)
          return;
        auto leader = choose_leader(entries_of(r), st.self_ep);
        if (leader == st.self_ep)
          lead(self);
        else
          follow(self, leader);
      },
      [self, call](caf::error& err) {
        if (self->state.local && self->state.local->round == call)
          fail_local(self, std::move(err));
      });
}

caf::result<avg_state_chunk> serve_state(averager_pointer self, const avg_state_request& r) {
  auto& st = self->state;
  if (r.run != st.cfg.run || !st.state_layout)
    return make_error(errc::not_found, st.self_ep + " holds no state of run '" + r.run + "'");
  uint64_t chunk_bytes = st.cfg.max_part_bytes;
  uint64_t size = st.state_bytes.size();
  auto chunks
    = static_cast<uint32_t>(std::max<uint64_t>(1, (size + chunk_bytes - 1) / chunk_bytes));
  if (r.chunk >= chunks)
    return make_error(errc::bad_request, "chunk " + std::to_string(r.chunk) + " of "
                                           + std::to_string(chunks));
  avg_state_chunk c{st.state_version, st.state_layout->names, st.state_layout->shapes,
                    r.chunk, chunks, r.chunk * chunk_bytes, {}};
  c.bytes = st.state_bytes.substr(c.offset, chunk_bytes);
  return c;
}

caf::result<caf::ok_atom> set_state(averager_pointer self, std::vector<named_tensor>& xs,
                                    uint64_t version) {
  auto& st = self->state;
  auto l = layout_of(xs);
  if (!l)
    return l.error();
  auto flat = flatten(xs, l->total);
  st.state_bytes.assign(reinterpret_cast<const char*>(flat.data()), flat.size() * sizeof(float));
  st.state_layout = std::move(*l);
  st.state_version = version;
  auto rp = self->make_response_promise<caf::ok_atom>();
  put(self, state_key(st.cfg.run), std::to_string(version), st.opts.state_ttl_s,
      [rp](caf::error err) mutable {
        if (err)
          rp.deliver(std::move(err));
        else
          rp.deliver(caf::ok_atom::value);
      });
  return rp;
}

void refresh_state(averager_pointer self) {
  auto& st = self->state;
  self->delayed_send(self, seconds(st.opts.state_ttl_s / 3), tick_atom::value);
  if (st.state_layout)
    put(self, state_key(st.cfg.run), std::to_string(st.state_version), st.opts.state_ttl_s,
        [](caf::error) {});
}

} // namespace actor_impl

using namespace actor_impl;

void fail_local(averager_pointer self, caf::error err) {
  auto& st = self->state;
  if (!st.local)
    return;
  st.log->warn("event=round_failed run={} endpoint={} reason=\"{}\"", st.cfg.run, st.self_ep,
               describe(err));
  for (auto& p : st.local->join_promises)
    p.deliver(err);
  st.local->promise.deliver(err);
  st.local.reset();
  refuse_parked_parts(self, "the round ended on " + st.self_ep);
}

void start_average(averager_pointer self, std::vector<named_tensor> tensors, double weight) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  if (st.local)
    return static_cast<void>(rp.deliver(make_error(errc::bad_request, "a round is running")));
  auto l = layout_of(tensors);
  if (!l || !std::isfinite(weight) || weight <= 0)
    return static_cast<void>(rp.deliver(
      l ? make_error(errc::bad_request, "weight must be positive and finite") : l.error()));
  auto& m = st.local.emplace();
  m.promise = rp;
  m.tensors = std::move(tensors);
  m.weight = weight;
  m.shape = std::move(*l);
  m.layout_hash = m.shape.hash();
  m.called = clock::now();
  m.round = st.rng(); // the id of this call until a group gives the round's
  auto call = m.round;
  put(self, group_key(st.cfg.run), hex(m.layout_hash), st.cfg.join_window_s * 3 + 1,
      [self, call](caf::error err) {
        auto& st = self->state;
        if (!st.local || st.local->round != call)
          return;
        if (err)
          return fail_local(self, std::move(err));
        self->delayed_send(self, seconds(st.cfg.join_window_s / 2), look_atom::value, call);
      });
}

void on_join(averager_pointer self, avg_join& j) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  auto& l = st.local;
  if (l && l->phase == member_round::leading) {
    if (auto err = l->leader->join(j))
      rp.deliver(err);
    else
      l->join_promises.push_back(rp);
    return;
  }
  if (l && l->phase != member_round::announcing)
    return static_cast<void>(
      rp.deliver(make_error(errc::bad_request, st.self_ep + " is not leading")));
  expire_parked_joins(self);
  if (st.parked_joins.size() >= st.cfg.group_size)
    return static_cast<void>(rp.deliver(make_error(errc::bad_request, st.self_ep + " is busy")));
  st.parked_joins.push_back({j, rp});
}

caf::behavior averager_actor(averager_pointer self, averaging_config cfg, dht::peer_actor dht,
                             std::string self_ep, averager_options opts) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.dht = std::move(dht);
  st.self_ep = std::move(self_ep);
  st.opts = std::move(opts);
  self->set_down_handler([self](caf::down_msg& msg) { on_member_down(self, msg); });
  refresh_state(self);
  return {
    [=](average_atom, std::vector<named_tensor>& xs, double weight) {
      start_average(self, std::move(xs), weight);
    },
    [=](fetch_atom) { fetch_state(self); },
    [=](ready_atom, std::string& ep) {
      self->state.self_ep = std::move(ep);
      return caf::ok_atom::value;
    },
    [=](set_state_atom, std::vector<named_tensor>& xs, uint64_t version) {
      return set_state(self, xs, version);
    },
    [=](avg_join& j) { on_join(self, j); },
    [=](avg_part& p) { on_part(self, p); },
    [=](const avg_state_request& r) { return serve_state(self, r); },
    [=](look_atom, uint64_t call) {
      if (self->state.local && self->state.local->round == call)
        look(self);
    },
    [=](close_atom, uint64_t call) {
      auto& l = self->state.local;
      if (l && l->round == call && l->phase == member_round::leading)
        close_group(self);
    },
    [=](wake_atom, uint64_t round, uint32_t attempt) { end_attempt(self, round, attempt); },
    [=](tick_atom) { refresh_state(self); },
  };
}

caf::actor spawn_averager_actor(caf::actor_system& sys, averaging_config cfg,
                                dht::peer_actor dht, std::string self_ep,
                                averager_options opts) {
  return sys.spawn(averager_actor, std::move(cfg), std::move(dht), std::move(self_ep),
                   std::move(opts));
}

} // namespace colony::averaging
