#include "actors/dht/record_store.hpp"

#include <algorithm>

namespace colony::dht {

double record::expiration() const {
  if (!is_dictionary)
    return plain.expiration;
  double result = 0;
  for (const auto& [subkey, x] : subkeys)
    result = std::max(result, x.expiration);
  return result;
}

bool record_store::store(const node_id& key, std::string value,
                         double expiration, double now) {
  if (!newer_than_held(key, false, {}, expiration, now))
    return false;
  if (records_.count(key) == 0 && !make_room(expiration, now))
    return false;
  record r;
  r.plain = {std::move(value), expiration};
  put(key, std::move(r));
  return true;
}

bool record_store::store_subkey(const node_id& key, const std::string& subkey,
                                std::string value, double expiration,
                                double now) {
  if (!newer_than_held(key, true, subkey, expiration, now))
    return false;
  auto i = records_.find(key);
  if (i != records_.end() && i->second.is_dictionary)
    return merge_subkey(i, subkey, std::move(value), expiration);
  if (i == records_.end() && !make_room(expiration, now))
    return false;
  record r;
  r.is_dictionary = true;
  r.subkeys.emplace(subkey, timed_value{std::move(value), expiration});
  put(key, std::move(r));
  return true;
}

std::optional<record> record_store::get(const node_id& key, double now) const {
  auto i = records_.find(key);
  if (i == records_.end() || i->second.expiration() <= now)
    return std::nullopt;
  auto result = i->second;
  for (auto j = result.subkeys.begin(); j != result.subkeys.end();)
    j = j->second.expiration <= now ? result.subkeys.erase(j) : std::next(j);
  return result;
}

const record* record_store::peek(const node_id& key) const {
  auto i = records_.find(key);
  return i == records_.end() ? nullptr : &i->second;
}

bool record_store::newer_than_held(const node_id& key, bool has_subkey,
                                   const std::string& subkey, double expiration,
                                   double now) const {
  if (expiration <= now)
    return false;
  auto i = records_.find(key);
  if (i == records_.end())
    return true;
  const auto& r = i->second;
  if (!has_subkey)
    return expiration > r.expiration();
  if (!r.is_dictionary)
    return expiration > r.plain.expiration;
  auto j = r.subkeys.find(subkey);
  return j == r.subkeys.end() || expiration > j->second.expiration;
}

void record_store::purge(double now) {
  drop_expired_keys(now);
  for (auto& [key, r] : records_) {
    if (!r.is_dictionary)
      continue;
    auto before = r.expiration();
    for (auto j = r.subkeys.begin(); j != r.subkeys.end();)
      j = j->second.expiration <= now ? r.subkeys.erase(j) : std::next(j);
    reindex(key, before, r.expiration());
  }
}

bool record_store::merge_subkey(records_map::iterator i,
                                const std::string& subkey, std::string value,
                                double expiration) {
  auto& subkeys = i->second.subkeys; // newer than the subkey's: checked by the caller
  auto before = i->second.expiration();
  subkeys[subkey] = timed_value{std::move(value), expiration};
  reindex(i->first, before, i->second.expiration());
  return true;
}

bool record_store::make_room(double expiration, double now) {
  if (capacity_ == 0 || records_.size() < capacity_)
    return true;
  drop_expired_keys(now);
  if (records_.size() < capacity_)
    return true;
  auto soonest = *by_expiration_.begin();
  if (expiration <= soonest.first)
    return false;
  erase(soonest.second);
  return true;
}

void record_store::drop_expired_keys(double now) {
  while (!by_expiration_.empty() && by_expiration_.begin()->first <= now)
    erase(by_expiration_.begin()->second);
}

void record_store::put(const node_id& key, record r) {
  erase(key);
  by_expiration_.emplace(r.expiration(), key);
  records_.emplace(key, std::move(r));
}

void record_store::reindex(const node_id& key, double before, double after) {
  if (before == after)
    return;
  by_expiration_.erase({before, key});
  by_expiration_.emplace(after, key);
}

void record_store::erase(const node_id& key) {
  auto i = records_.find(key);
  if (i == records_.end())
    return;
  by_expiration_.erase({i->second.expiration(), key});
  records_.erase(i);
}

std::vector<node_id> record_store::keys() const {
  std::vector<node_id> result;
  result.reserve(records_.size());
  for (const auto& entry : records_)
    result.push_back(entry.first);
  return result;
}

} // namespace colony::dht
