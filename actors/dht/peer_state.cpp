// peer_state: serving the RPCs, contact bookkeeping, maintenance.
#include "actors/dht/peer_state.hpp"

#include <algorithm>

#include "actors/dht/sealed_value.hpp"
#include "actors/dht/wire.hpp"
#include "runtime/logging.hpp"

namespace colony::dht {

namespace {

uint64_t seed_of(const peer_config& cfg) {
  return cfg.seed != 0 ? cfg.seed : std::random_device{}();
}

} // namespace

void peer_state::init(peer_config cfg, std::shared_ptr<transport> net) {
  cfg_ = std::move(cfg);
  net_ = std::move(net);
  rng_.seed(seed_of(cfg_));
  id_ = cfg_.id ? *cfg_.id : node_id::random(rng_);
  table_ = routing_table{id_, cfg_.k, cfg_.depth_modulo};
  store_ = record_store{cfg_.max_records};
  bans_ = blacklist{cfg_.ban_base_s};
  table_.mark_refreshed(id_, now()); // buckets count as fresh from the start
  self_->delayed_send(self_, cfg_.maintenance_period, tick_atom::value);
}

dht_pong peer_state::on_ping(const dht_ping& req) {
  if (auto c = contact_from_wire(req.sender); c && !req.client_mode)
    heard_from(*c);
  return dht_pong{me()};
}

dht_store_reply peer_state::on_store(const dht_store_request& req) {
  if (auto c = contact_from_wire(req.sender); c && !req.client_mode)
    heard_from(*c);
  dht_store_reply reply{me(), {}};
  reply.accepted.reserve(req.items.size());
  for (const auto& x : req.items)
    reply.accepted.push_back(store_item(x) ? 1 : 0);
  return reply;
}

bool peer_state::store_item(const dht_store_item& x) {
  auto key = id_from_wire(x.key);
  if (!key)
    return false;
  auto t = now();
  // A copy no newer than the one held (a republish, a hand-off, a repair of
  // what this peer already has) is refused by the store anyway: it costs no
  // signature check and is not counted as refused.
  if (!store_.newer_than_held(*key, x.has_subkey, x.subkey, x.expiration, t))
    return false;
  if (!admissible(*key, x, t)) {
    ++refused_;
    return false;
  }
  auto stored = x.has_subkey ? store_.store_subkey(*key, x.subkey, x.value, x.expiration, t)
                             : store_.store(*key, x.value, x.expiration, t);
  if (stored)
    touched(*key, t);
  return stored;
}

bool peer_state::admissible(const node_id& key, const dht_store_item& x, double t) const {
  auto opened = open_value(key, x.has_subkey, x.subkey, x.value, x.expiration);
  if (opened.state == seal_state::invalid)
    return false; // forged, tampered or truncated
  const auto* held = store_.peek(key);
  if (!held)
    return true;
  // Nobody but its owner overwrites a live sealed entry (unsigned: no owner).
  auto owned_by_other = [&](const timed_value& v) {
    if (v.expiration <= t)
      return false;
    auto owner = owner_of(v.value);
    return owner && *owner != opened.owner;
  };
  if (!held->is_dictionary)
    return !owned_by_other(held->plain);
  if (!x.has_subkey) // a plain value would replace every entry
    return std::none_of(held->subkeys.begin(), held->subkeys.end(),
                        [&](const auto& entry) { return owned_by_other(entry.second); });
  auto i = held->subkeys.find(x.subkey);
  return i == held->subkeys.end() || !owned_by_other(i->second);
}

dht_find_reply peer_state::on_find(const dht_find_request& req) {
  auto sender = contact_from_wire(req.sender);
  if (sender && !req.client_mode)
    heard_from(*sender);
  auto requester = id_from_wire(req.sender.id);
  dht_find_reply reply{me(), {}};
  reply.results.reserve(req.keys.size());
  auto t = now();
  for (const auto& k : req.keys) {
    dht_find_result result;
    if (auto key = id_from_wire(k)) {
      if (const auto* r = store_.peek(*key); r && r->expiration() > t) {
        result.found = true;
        result.value = to_wire(*r, t);
      }
      for (const auto& c : table_.closest(*key, cfg_.k, requester))
        result.nearest.push_back(to_wire(c));
    }
    reply.results.push_back(std::move(result));
  }
  return reply;
}

dht_peer_stats peer_state::stats() const {
  dht_peer_stats result;
  result.self = me();
  result.client_mode = cfg_.client_mode;
  result.records = store_.size();
  for (const auto& b : table_.buckets())
    for (const auto& c : b.contacts)
      result.contacts.push_back(to_wire(c));
  result.rpcs_sent = rpcs_sent_;
  result.rpcs_failed = rpcs_failed_;
  result.searches_started = searches_started_;
  result.searches_joined = searches_joined_;
  result.finds_stalled = finds_stalled_;
  result.handed_off = handed_off_;
  result.republished = republished_;
  result.repaired = repaired_;
  result.refused = refused_;
  return result;
}

void peer_state::tick() {
  auto t = now();
  store_.purge(t);
  for (auto i = republish_due_.begin(); i != republish_due_.end();)
    i = store_.holds(i->first) ? std::next(i) : republish_due_.erase(i);
  for (auto i = replica_cache_.begin(); i != replica_cache_.end();)
    i = t - i->second.at < cfg_.replica_cache_s ? std::next(i) : replica_cache_.erase(i);
  bans_.purge(t);
  refresh_buckets();
  republish();
  flush();
  self_->delayed_send(self_, cfg_.maintenance_period, tick_atom::value);
}

void peer_state::run_deferred(uint64_t id) {
  auto i = deferred_.find(id);
  if (i == deferred_.end())
    return;
  auto fn = std::move(i->second);
  deferred_.erase(i);
  fn();
  flush();
}

dht_peer peer_state::me() const {
  if (cfg_.client_mode)
    return dht_peer{to_wire(id_), {}, 0};
  return dht_peer{to_wire(id_), cfg_.self_ep.host, cfg_.self_ep.port};
}

void peer_state::heard_from(const contact& c) {
  if (c.id == id_)
    return;
  bans_.register_success(c.id);
  auto result = table_.update(c, now());
  if (result.ping)
    ping_candidate(*result.ping);
  if (result.outcome == update_outcome::added)
    hand_off(c);
}

void peer_state::failed(const contact& c) {
  ++rpcs_failed_;
  bans_.register_failure(c.id, now());
  if (table_.remove(c.id))
    log::get("dht")->debug("event=peer_dropped peer={} endpoint={}", c.id.to_hex(),
                           c.ep.to_string());
}

void peer_state::ping_candidate(const contact& c) {
  send_ping(
    c.ep,
    [this, c](dht_pong& pong) {
      if (id_from_wire(pong.responder.id) == c.id)
        heard_from(c);
      else
        failed(c);
    },
    [this, c](const caf::error&) { failed(c); });
}

void peer_state::refresh_buckets() {
  auto t = now();
  for (const auto& target : table_.stale_buckets(t, cfg_.refresh_interval_s, rng_)) {
    table_.mark_refreshed(target, t);
    find(target, false, [](const search_outcome&) {});
  }
}

} // namespace colony::dht
