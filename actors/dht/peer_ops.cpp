// peer_state: the local API. Each operation keeps its progress in a shared
// struct captured by the continuations of its searches and RPCs, and
// delivers its response promise when the last of them has finished.
#include "actors/dht/peer_state.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "actors/dht/owner_merge.hpp"
#include "actors/dht/wire.hpp"
#include "messages/errc.hpp"
#include "runtime/logging.hpp"

namespace colony::dht {

/// A bootstrap in progress: pings to the initial peers.
struct bootstrap_op {
  caf::typed_response_promise<dht_peer_stats> rp;
  size_t pending = 0;
  size_t answered = 0;
  std::vector<std::string> failures; ///< "HOST:PORT (reason)"
};

/// A put in progress: node lookups per key, then store RPCs per replica.
struct put_op {
  caf::typed_response_promise<dht_put_reply> rp;
  std::vector<dht_store_item> items;             ///< keys as 20-byte ids
  dht_put_reply reply;                           ///< acks per item
  std::map<node_id, std::vector<size_t>> by_key; ///< item indices per key
  std::map<node_id, std::pair<contact, std::vector<size_t>>> by_replica;
  size_t pending = 0; ///< searches, then store RPCs, not finished yet
};

/// A get in progress: one value lookup per key, merged with the local copy.
struct get_op {
  caf::typed_response_promise<dht_get_reply> rp;
  dht_get_reply reply;
  std::vector<std::optional<record>> local; ///< per key: this peer's copy
  size_t pending = 0;
};

namespace {

std::string join(const std::vector<std::string>& xs) {
  std::string result;
  for (const auto& x : xs)
    result += (result.empty() ? "" : ", ") + x;
  return result;
}

} // namespace

// -- bootstrap ----------------------------------------------------------------

caf::result<dht_peer_stats> peer_state::bootstrap(const dht_bootstrap_request& req) {
  if (!req.advertised.empty()) {
    auto ep = parse_endpoint(req.advertised);
    if (!ep)
      return ep.error();
    cfg_.self_ep = *ep;
  }
  std::vector<endpoint> initial;
  for (const auto& text : req.initial_peers) {
    auto ep = parse_endpoint(text);
    if (!ep)
      return ep.error();
    if (*ep != cfg_.self_ep)
      initial.push_back(*ep);
  }
  if (initial.empty())
    return stats(); // the first peer of a swarm
  auto op = std::make_shared<bootstrap_op>();
  op->rp = self_->make_response_promise<dht_peer_stats>();
  op->pending = initial.size();
  for (const auto& ep : initial)
    ping_initial(op, ep);
  return op->rp;
}

void peer_state::ping_initial(const std::shared_ptr<bootstrap_op>& op, const endpoint& ep) {
  send_ping(
    ep,
    [this, op, ep](dht_pong& pong) {
      auto id = id_from_wire(pong.responder.id);
      if (id && *id != id_) {
        ++op->answered;
        heard_from(contact{*id, ep, 0});
      } else {
        op->failures.push_back(ep.to_string() + " (not a DHT peer, or our own id)");
      }
      bootstrap_step(op);
    },
    [this, op, ep](const caf::error& err) {
      op->failures.push_back(ep.to_string() + " (" + describe(err) + ")");
      bootstrap_step(op);
    });
}

void peer_state::bootstrap_step(const std::shared_ptr<bootstrap_op>& op) {
  if (--op->pending > 0)
    return;
  if (op->answered == 0) {
    op->rp.deliver(make_error(errc::bootstrap_failed,
                              "no initial DHT peer answered: " + join(op->failures)));
    return;
  }
  if (!op->failures.empty())
    log::get("dht")->warn("event=bootstrap_partial answered={} failed=\"{}\"", op->answered,
                          join(op->failures));
  find(id_, false, [this, op](const search_outcome&) {
    log::get("dht")->info("event=bootstrapped id={} endpoint={} table={} answered={}",
                          id_.to_hex(), cfg_.self_ep.to_string(), table_.size(), op->answered);
    op->rp.deliver(stats());
  });
}

// -- put ----------------------------------------------------------------------

caf::result<dht_put_reply> peer_state::put(const dht_put_request& req) {
  std::vector<dht_store_item> items;
  items.reserve(req.items.size());
  for (const auto& x : req.items)
    items.push_back(dht_store_item{to_wire(node_id::of_key(x.key)), x.has_subkey, x.subkey,
                                   x.value, x.expiration});
  if (items.empty())
    return dht_put_reply{};
  auto op = start_put(std::move(items));
  op->rp = self_->make_response_promise<dht_put_reply>();
  return op->rp;
}

std::shared_ptr<put_op> peer_state::start_put(std::vector<dht_store_item> items) {
  auto op = std::make_shared<put_op>();
  op->reply.acks.assign(items.size(), 0);
  op->items = std::move(items);
  for (size_t i = 0; i < op->items.size(); ++i)
    if (auto key = id_from_wire(op->items[i].key))
      op->by_key[*key].push_back(i);
  op->pending = op->by_key.size() + 1; // +1: until every lookup started
  auto t = now();
  for (const auto& entry : op->by_key) {
    auto key = entry.first;
    if (auto i = replica_cache_.find(key);
        i != replica_cache_.end() && t - i->second.at < cfg_.replica_cache_s) {
      search_outcome cached;
      cached.nearest = i->second.nearest;
      on_replicas(op, key, cached); // pending stays >= 1 until later() below
      continue;
    }
    // Only the num_replicas nearest are stored on: the lookup ends when they
    // and one more (not k) have answered, a fraction of a k-wide one's RPCs.
    find(
      key, false,
      [this, op, key](const search_outcome& o) {
        if (cfg_.replica_cache_s > 0 && !o.nearest.empty()
            && replica_cache_.size() < max_cached_replicas)
          replica_cache_[key] = cached_replicas{o.nearest, now()};
        on_replicas(op, key, o);
      },
      cfg_.num_replicas + 1);
  }
  flush();
  later([this, op] { on_replicas_step(op); });
  return op;
}

void peer_state::on_replicas(const std::shared_ptr<put_op>& op, const node_id& key,
                             const search_outcome& outcome) {
  const auto& indices = op->by_key[key];
  for (const auto& c : replicas_of(key, outcome.nearest)) {
    auto& [to, assigned] = op->by_replica[c.id];
    to = c;
    assigned.insert(assigned.end(), indices.begin(), indices.end());
  }
  on_replicas_step(op);
}

void peer_state::on_replicas_step(const std::shared_ptr<put_op>& op) {
  if (--op->pending > 0)
    return;
  op->pending = op->by_replica.size() + 1; // +1: until every RPC is sent
  for (const auto& [id, entry] : op->by_replica) {
    if (id == id_)
      store_locally(op, entry.second);
    else
      store_remotely(op, entry.first, entry.second);
  }
  put_step(op);
}

void peer_state::store_locally(const std::shared_ptr<put_op>& op,
                               const std::vector<size_t>& indices) {
  for (auto i : indices)
    op->reply.acks[i] += store_item(op->items[i]) ? 1 : 0;
  put_step(op);
}

void peer_state::store_remotely(const std::shared_ptr<put_op>& op, const contact& to,
                                const std::vector<size_t>& indices) {
  std::vector<dht_store_item> items;
  for (auto i : indices)
    items.push_back(op->items[i]);
  send_store(
    to, std::move(items),
    [this, op, to, indices](dht_store_reply& reply) {
      heard_from(to);
      for (size_t j = 0; j < indices.size() && j < reply.accepted.size(); ++j)
        op->reply.acks[indices[j]] += reply.accepted[j];
      put_step(op);
    },
    [this, op, to, indices](const caf::error&) {
      failed(to);
      for (auto i : indices) // look this key's replicas up again next time
        if (auto key = id_from_wire(op->items[i].key))
          replica_cache_.erase(*key);
      put_step(op);
    });
}

void peer_state::put_step(const std::shared_ptr<put_op>& op) {
  if (--op->pending == 0 && op->rp.pending()) // a republish has no caller
    op->rp.deliver(op->reply);
}

std::vector<contact> peer_state::replicas_of(const node_id& key,
                                         std::vector<contact> nearest) const {
  if (!cfg_.client_mode && !cfg_.self_ep.host.empty())
    nearest.push_back(contact{id_, cfg_.self_ep, 0});
  auto by_distance = [&](const contact& a, const contact& b) { return nearer(key, a.id, b.id); };
  auto n = std::min(cfg_.num_replicas, nearest.size());
  std::partial_sort(nearest.begin(), nearest.begin() + static_cast<ptrdiff_t>(n), nearest.end(),
                    by_distance);
  nearest.resize(n);
  return nearest;
}

// -- get ----------------------------------------------------------------------

namespace {

void on_found(get_op& op, size_t i, const search_outcome& outcome);

} // namespace

caf::result<dht_get_reply> peer_state::get(const dht_get_request& req) {
  auto op = std::make_shared<get_op>();
  op->reply.results.resize(req.keys.size());
  op->local.resize(req.keys.size());
  auto t = now();
  std::vector<std::pair<size_t, node_id>> remote;
  for (size_t i = 0; i < req.keys.size(); ++i) {
    auto key = node_id::of_key(req.keys[i]);
    op->local[i] = store_.get(key, t);
    // One copy wanted and held here: no need to ask anyone. Otherwise the
    // local copy is merged with what the other replicas hold.
    if (op->local[i] && cfg_.values_wanted <= 1)
      op->reply.results[i] = dht_get_result{true, to_wire(*op->local[i]), 0};
    else
      remote.emplace_back(i, key);
  }
  if (remote.empty())
    return op->reply;
  op->rp = self_->make_response_promise<dht_get_reply>();
  op->pending = remote.size();
  for (const auto& [i, key] : remote)
    find(key, true, [op, i = i](const search_outcome& o) { on_found(*op, i, o); });
  flush();
  return op->rp;
}

namespace {

void on_found(get_op& op, size_t i, const search_outcome& outcome) {
  auto& result = op.reply.results[i];
  auto value = outcome.value;
  if (value && op.local[i]) {
    auto copies = outcome.copies;
    copies.push_back(*op.local[i]);
    value = merge_copies(copies);
  } else if (!value) {
    value = op.local[i];
  }
  result.found = value.has_value();
  if (value)
    result.value = to_wire(*value);
  result.hops = outcome.value ? static_cast<uint32_t>(outcome.hops) : 0;
  if (--op.pending == 0)
    op.rp.deliver(op.reply);
}

} // namespace

} // namespace colony::dht
