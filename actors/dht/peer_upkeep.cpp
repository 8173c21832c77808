// peer_state: keeping records on the peers that should hold them while
// peers come and go (Kademlia's maintenance):
//   hand-off     a peer just added to the table receives the held keys it
//                is now one of the num_replicas nearest known peers for,
//                from the nearest other replica only (one sender per key);
//   republish    a held key that nobody stored for republish_s (plus a
//                random quarter of it, so that its replicas do not all
//                act at once) is stored again on its current replicas (a
//                store received meanwhile: another holder or the owner did);
//   read-repair  a get stores the merged value on the nearest replicas it
//                read whose copy was older or missing.
#include "actors/dht/peer_state.hpp"

#include <algorithm>

#include "actors/dht/wire.hpp"

namespace colony::dht {

bool peer_state::should_hand_off(const node_id& key, const contact& c) const {
  // c is now one of the num_replicas nearest to key (this peer included) and
  // this peer is the nearest of the others. One pass over the table, no
  // copies: it runs for every held key whenever a contact is added.
  if (cfg_.num_replicas < 2 || cfg_.self_ep.host.empty())
    return false; // c and this peer cannot both be replicas
  size_t ahead_of_c = nearer(key, id_, c.id) ? 1 : 0;
  for (const auto& b : table_.buckets())
    for (const auto& x : b.contacts) {
      if (x.id == c.id)
        continue;
      if (nearer(key, x.id, id_))
        return false; // another replica is nearer than this peer
      if (nearer(key, x.id, c.id) && ++ahead_of_c >= cfg_.num_replicas)
        return false; // c is not among the replicas
    }
  return true;
}

void peer_state::hand_off(const contact& c) {
  if (!cfg_.hand_off || cfg_.client_mode)
    return;
  auto t = now();
  std::vector<dht_store_item> items;
  for (const auto& key : store_.keys()) {
    if (!should_hand_off(key, c))
      continue;
    if (auto r = store_.get(key, t)) {
      auto more = newer_items(key, *r, std::nullopt);
      items.insert(items.end(), more.begin(), more.end());
      ++handed_off_;
    }
  }
  if (items.empty())
    return;
  send_store(
    c, std::move(items), [](dht_store_reply&) {}, [this, c](const caf::error&) { failed(c); });
}

void peer_state::touched(const node_id& key, double t) {
  std::uniform_real_distribution<double> jitter{0, 0.25};
  republish_due_[key] = t + cfg_.republish_s * (1 + jitter(rng_));
}

void peer_state::republish() {
  if (cfg_.republish_s <= 0 || cfg_.client_mode)
    return;
  auto t = now();
  std::vector<dht_store_item> items;
  for (const auto& key : store_.keys()) {
    auto i = republish_due_.find(key);
    if (i != republish_due_.end() && t < i->second)
      continue;
    touched(key, t);
    if (auto r = store_.get(key, t)) {
      auto more = newer_items(key, *r, std::nullopt);
      items.insert(items.end(), more.begin(), more.end());
      ++republished_;
    }
  }
  if (!items.empty())
    start_put(std::move(items));
}

void peer_state::read_repair(const search& s, const search_outcome& outcome) {
  if (!cfg_.read_repair || !outcome.value)
    return;
  auto n = std::min(outcome.nearest.size(), cfg_.num_replicas);
  for (size_t i = 0; i < n; ++i) {
    const auto& c = outcome.nearest[i];
    auto items = newer_items(s.target(), *outcome.value, s.copy_of(c.id));
    if (items.empty())
      continue;
    repaired_ += items.size();
    send_store(
      c, std::move(items), [](dht_store_reply&) {}, [this, c](const caf::error&) { failed(c); });
  }
}

} // namespace colony::dht
