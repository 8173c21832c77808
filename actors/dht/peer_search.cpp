// peer_state: iterative lookups. Searches are shared per (target, kind);
// flush() collects the next requests of every search touched since the
// last flush and sends one find request per peer carrying all targets
// that peer is asked about. A value search ends once values_wanted replicas
// sent their copies, or value_grace after the first copy arrived. Entries
// of a copy whose signature fails are dropped on arrival.
#include "actors/dht/peer_state.hpp"

#include <algorithm>

#include "actors/dht/sealed_value.hpp"
#include "actors/dht/wire.hpp"

namespace colony::dht {

void peer_state::find(const node_id& target, bool want_value, search::waiter w, size_t width) {
  search_key key{target, want_value};
  auto i = searches_.find(key);
  if (i != searches_.end()) {
    ++searches_joined_;
    i->second.add_waiter(std::move(w));
    return;
  }
  ++searches_started_;
  auto k = want_value || width == 0 ? cfg_.k : std::min(width, cfg_.k);
  search s{target, want_value ? std::max<size_t>(cfg_.values_wanted, 1) : 0, k, cfg_.alpha,
           closest_unbanned(target, cfg_.k), id_};
  s.tag = searches_started_;
  s.add_waiter(std::move(w));
  searches_.emplace(key, std::move(s));
  dirty_.insert(key);
}

void peer_state::flush() {
  while (!dirty_.empty()) {
    auto keys = std::move(dirty_);
    dirty_.clear();
    find_batches batches;
    for (const auto& key : keys) {
      auto i = searches_.find(key);
      if (i == searches_.end())
        continue;
      collect(i->second, batches);
      if (i->second.done())
        finish(key);
    }
    for (auto& [id, batch] : batches)
      send_find(batch.first, std::move(batch.second));
  }
}

void peer_state::collect(search& s, find_batches& batches) {
  auto t = now();
  for (;;) {
    auto next = s.next_requests();
    bool skipped = false;
    for (const auto& c : next) {
      if (bans_.is_banned(c.id, t)) {
        s.on_failure(c.id);
        skipped = true;
        continue;
      }
      auto& [to, targets] = batches[c.id];
      to = c;
      if (std::find(targets.begin(), targets.end(), s.target()) == targets.end())
        targets.push_back(s.target());
    }
    if (!skipped)
      return;
  }
}

void peer_state::finish(const search_key& key) {
  auto i = searches_.find(key);
  auto outcome = i->second.outcome();
  if (i->second.want_value())
    read_repair(i->second, outcome);
  auto waiters = i->second.take_waiters();
  searches_.erase(i);
  for (auto& w : waiters)
    w(outcome);
}

void peer_state::on_find_reply(const contact& from, const std::vector<node_id>& targets,
                               dht_find_reply& reply) {
  if (id_from_wire(reply.responder.id) != from.id
      || reply.results.size() != targets.size()) {
    on_find_failure(from, targets);
    return;
  }
  heard_from(from);
  for (size_t i = 0; i < targets.size(); ++i) {
    auto& result = reply.results[i];
    std::vector<contact> returned;
    returned.reserve(result.nearest.size());
    for (const auto& p : result.nearest)
      if (auto c = contact_from_wire(p))
        returned.push_back(*c);
    std::optional<record> value;
    if (result.found)
      value = verified(targets[i], record_from_wire(result.value));
    touch_searches(targets[i], [&](const search_key& key, search& s) {
      auto had_value = s.values() > 0;
      s.on_reply(from.id, returned, value);
      if (key.second && !had_value && s.values() > 0) // the first copy
        arm_grace(key, s);
    });
  }
}

std::optional<record> peer_state::verified(const node_id& key, record r) {
  auto forged = [&](bool has_subkey, const std::string& subkey, const timed_value& v) {
    return open_value(key, has_subkey, subkey, v.value, v.expiration).state
           == seal_state::invalid;
  };
  if (!r.is_dictionary)
    return forged(false, {}, r.plain) ? std::nullopt : std::optional<record>{std::move(r)};
  for (auto i = r.subkeys.begin(); i != r.subkeys.end();)
    i = forged(true, i->first, i->second) ? r.subkeys.erase(i) : std::next(i);
  return r.subkeys.empty() ? std::nullopt : std::optional<record>{std::move(r)};
}

void peer_state::on_find_failure(const contact& from, const std::vector<node_id>& targets) {
  failed(from);
  for (const auto& target : targets)
    touch_searches(target, [&](const search_key&, search& s) { s.on_failure(from.id); });
}

void peer_state::on_find_slow(const contact& from, const std::vector<node_id>& targets) {
  ++finds_stalled_;
  for (const auto& target : targets)
    touch_searches(target, [&](const search_key&, search& s) { s.on_slow(from.id); });
}

void peer_state::touch_searches(const node_id& target,
                                const std::function<void(const search_key&, search&)>& fn) {
  for (bool want_value : {true, false}) {
    auto j = searches_.find(search_key{target, want_value});
    if (j == searches_.end())
      continue;
    fn(j->first, j->second);
    dirty_.insert(j->first);
  }
}

void peer_state::arm_grace(const search_key& key, const search& s) {
  after(std::chrono::duration_cast<caf::timespan>(cfg_.value_grace), [this, key, tag = s.tag] {
    auto i = searches_.find(key);
    if (i == searches_.end() || i->second.tag != tag)
      return; // finished already (a later search of the target has its own)
    i->second.expire();
    dirty_.insert(key);
    flush();
  });
}

std::vector<contact> peer_state::closest_unbanned(const node_id& target, size_t n) {
  auto t = now();
  auto result = table_.closest(target, n);
  result.erase(std::remove_if(result.begin(), result.end(),
                              [&](const contact& c) { return bans_.is_banned(c.id, t); }),
               result.end());
  return result;
}

} // namespace colony::dht
