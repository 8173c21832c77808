#include "actors/dht/routing_table.hpp"

#include <algorithm>

namespace colony::dht {

namespace {

/// Finds `id` in `xs`; xs.end() if absent.
std::vector<contact>::iterator find_in(std::vector<contact>& xs,
                                       const node_id& id) {
  return std::find_if(xs.begin(), xs.end(),
                      [&](const contact& x) { return x.id == id; });
}

/// Moves the entry at `pos` to the back of `xs`, replaced by `c`.
void move_to_back(std::vector<contact>& xs,
                  std::vector<contact>::iterator pos, const contact& c) {
  xs.erase(pos);
  xs.push_back(c);
}

} // namespace

routing_table::routing_table(node_id self, size_t k, size_t depth_modulo)
  : self_(self), k_(std::max<size_t>(k, 1)),
    depth_modulo_(std::max<size_t>(depth_modulo, 1)) {
  buckets_.emplace_back();
}

update_result routing_table::update(contact c, double now) {
  if (c.id == self_)
    return {update_outcome::ignored, std::nullopt};
  c.last_seen = now;
  for (;;) {
    auto index = bucket_index(c.id);
    auto& b = buckets_[index];
    b.last_updated = now;
    if (auto pos = find_in(b.contacts, c.id); pos != b.contacts.end()) {
      move_to_back(b.contacts, pos, c);
      b.pinged.erase(c.id);
      return {update_outcome::refreshed, std::nullopt};
    }
    if (b.contacts.size() < k_) {
      if (auto r = find_in(b.replacements, c.id); r != b.replacements.end())
        b.replacements.erase(r);
      b.contacts.push_back(c);
      return {update_outcome::added, std::nullopt};
    }
    if (!can_split(b))
      return {update_outcome::replacement, add_replacement(b, c)};
    split(index);
  }
}

bool routing_table::remove(const node_id& id) {
  auto& b = buckets_[bucket_index(id)];
  if (auto pos = find_in(b.replacements, id); pos != b.replacements.end()) {
    b.replacements.erase(pos);
    return true;
  }
  auto pos = find_in(b.contacts, id);
  if (pos == b.contacts.end())
    return false;
  b.contacts.erase(pos);
  b.pinged.erase(id);
  if (!b.replacements.empty()) {
    b.contacts.push_back(b.replacements.back());
    b.replacements.pop_back();
  }
  return true;
}

std::optional<contact> routing_table::find(const node_id& id) const {
  const auto& xs = buckets_[bucket_index(id)].contacts;
  auto pos = std::find_if(xs.begin(), xs.end(),
                          [&](const contact& x) { return x.id == id; });
  if (pos == xs.end())
    return std::nullopt;
  return *pos;
}

std::vector<contact>
routing_table::closest(const node_id& target, size_t n,
                       const std::optional<node_id>& exclude) const {
  // Answering every find request: select among pointers, copy only the n
  // chosen contacts (each holds a host string).
  std::vector<const contact*> all;
  all.reserve(size());
  for (const auto& b : buckets_)
    for (const auto& c : b.contacts)
      if (!exclude || c.id != *exclude)
        all.push_back(&c);
  auto by_distance = [&](const contact* x, const contact* y) {
    return nearer(target, x->id, y->id);
  };
  auto count = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + count, all.end(), by_distance);
  std::vector<contact> result;
  result.reserve(count);
  for (size_t i = 0; i < count; ++i)
    result.push_back(*all[i]);
  return result;
}

std::vector<node_id> routing_table::stale_buckets(double now,
                                                  double refresh_interval,
                                                  std::mt19937_64& rng) const {
  std::vector<node_id> result;
  for (const auto& b : buckets_)
    if (now - b.last_updated >= refresh_interval)
      result.push_back(node_id::random_with_prefix(b.prefix, b.depth, rng));
  return result;
}

void routing_table::mark_refreshed(const node_id& target, double now) {
  buckets_[bucket_index(target)].last_updated = now;
}

size_t routing_table::size() const {
  size_t result = 0;
  for (const auto& b : buckets_)
    result += b.contacts.size();
  return result;
}

size_t routing_table::bucket_index(const node_id& id) const {
  for (size_t i = 0; i < buckets_.size(); ++i)
    if (buckets_[i].covers(id))
      return i;
  return 0; // unreachable: the buckets partition the id space
}

bool routing_table::can_split(const k_bucket& b) const {
  if (b.depth >= node_id::num_bits)
    return false;
  return b.covers(self_) || b.depth % depth_modulo_ != 0;
}

void routing_table::split(size_t index) {
  auto old = std::move(buckets_[index]);
  k_bucket lo;
  lo.prefix = old.prefix.with_bit(old.depth, false);
  lo.depth = old.depth + 1;
  lo.last_updated = old.last_updated;
  auto hi = lo;
  hi.prefix = old.prefix.with_bit(old.depth, true);
  for (const auto* xs : {&old.contacts, &old.replacements})
    for (const auto& c : *xs)
      place(c.id.bit(old.depth) ? hi : lo, c);
  for (auto* b : {&lo, &hi})
    for (const auto& c : b->contacts)
      if (old.pinged.count(c.id) > 0)
        b->pinged.insert(c.id);
  buckets_[index] = std::move(lo);
  buckets_.insert(buckets_.begin() + static_cast<ptrdiff_t>(index) + 1,
                  std::move(hi));
}

void routing_table::place(k_bucket& b, const contact& c) {
  if (b.contacts.size() < k_)
    b.contacts.push_back(c);
  else
    add_replacement(b, c);
}

std::optional<contact> routing_table::add_replacement(k_bucket& b,
                                                      const contact& c) {
  if (auto pos = find_in(b.replacements, c.id); pos != b.replacements.end())
    b.replacements.erase(pos);
  b.replacements.push_back(c);
  if (b.replacements.size() > k_)
    b.replacements.erase(b.replacements.begin());
  return ping_candidate(b);
}

std::optional<contact> routing_table::ping_candidate(k_bucket& b) {
  for (const auto& c : b.contacts)
    if (b.pinged.insert(c.id).second)
      return c;
  return std::nullopt;
}

} // namespace colony::dht
