#include "actors/dht/blacklist.hpp"

#include <algorithm>
#include <cmath>

namespace colony::dht {

blacklist::blacklist(double base, double max_ban, double forget_after)
  : base_(base), max_ban_(std::max(max_ban, base)),
    forget_after_(forget_after) {
}

void blacklist::register_failure(const node_id& id, double now) {
  if (base_ <= 0 || is_banned(id, now))
    return;
  auto& x = entries_[id];
  if (x.failures > 0 && now - x.banned_until >= forget_after_)
    x.failures = 0;
  auto exponent = static_cast<double>(std::min<size_t>(x.failures, 64));
  x.banned_until = now + std::min(base_ * std::exp2(exponent), max_ban_);
  ++x.failures;
}

void blacklist::register_success(const node_id& id) {
  entries_.erase(id);
}

bool blacklist::is_banned(const node_id& id, double now) const {
  return remaining(id, now) > 0;
}

double blacklist::remaining(const node_id& id, double now) const {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return 0;
  return std::max(0.0, i->second.banned_until - now);
}

void blacklist::purge(double now) {
  for (auto i = entries_.begin(); i != entries_.end();)
    i = now - i->second.banned_until >= forget_after_ ? entries_.erase(i)
                                                     : std::next(i);
}

} // namespace colony::dht
