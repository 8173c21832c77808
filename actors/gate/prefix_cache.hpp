// A gate's cache of DHT prefix answers: prefix key ("ffn.3.") -> the live
// successors under it, so that consecutive batches skip most beam-search
// gets. Keys that were found with no live successors go to a separate
// negative cache with its own (shorter) expiry and bound. Pure: the caller
// passes the time, in seconds of any monotonic clock.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "actors/gate/beam_search.hpp"

namespace colony::gate {

/// Bounds and lifetimes of a prefix_cache.
struct prefix_cache_config {
  size_t max_entries = 4096;      ///< positive entries kept at most
  double expiry_s = 5;            ///< lifetime of a positive entry
  size_t max_negative = 4096;     ///< negative entries kept at most
  double negative_expiry_s = 2;   ///< lifetime of a negative entry
};

namespace detail {

/// A map key -> value with an absolute expiry per entry, bounded in entries:
/// over the bound, the entry that expires first goes.
/// Invariant: `order_` holds exactly one (expires, key) per entry.
template <class Value>
class expiring_map {
public:
  /// The value of `key`, or nullptr if absent or expired at `now` (an
  /// expired entry is erased).
  const Value* find(const std::string& key, double now) {
    auto it = entries_.find(key);
    if (it == entries_.end())
      return nullptr;
    if (now >= it->second.second) {
      erase(key);
      return nullptr;
    }
    return &it->second.first;
  }

  /// Stores (or replaces) `key` until `expires`, then evicts down to `bound`.
  void put(const std::string& key, Value value, double expires, size_t bound) {
    erase(key);
    entries_.emplace(key, std::make_pair(std::move(value), expires));
    order_.emplace(expires, key);
    while (entries_.size() > bound) {
      auto first = order_.begin();
      entries_.erase(first->second);
      order_.erase(first);
    }
  }

  /// Removes `key` if present.
  void erase(const std::string& key) {
    auto it = entries_.find(key);
    if (it == entries_.end())
      return;
    order_.erase({it->second.second, key});
    entries_.erase(it);
  }

  /// Entries held, expired ones included until found or evicted.
  size_t size() const { return entries_.size(); }

  /// Removes every entry.
  void clear() {
    entries_.clear();
    order_.clear();
  }

private:
  std::map<std::string, std::pair<Value, double>> entries_;
  std::set<std::pair<double, std::string>> order_;
};

} // namespace detail

/// Prefix key -> successor_map with expiry, plus a negative cache of keys
/// without live successors. Invariant: a key is in at most one of the two.
class prefix_cache {
public:
  /// An empty cache with the bounds and lifetimes of `cfg`.
  explicit prefix_cache(prefix_cache_config cfg);

  /// The cached successors of `key` (an empty map for a negatively cached
  /// key), or nullopt on a miss or an entry expired at `now` (erased then).
  /// An entry stored at t expires at t + expiry (t + negative expiry).
  std::optional<successor_map> find(const std::string& key, double now);

  /// Stores a fresh answer for `key` got at `now`: a non-empty map in the
  /// positive cache, an empty one in the negative cache; either removes the
  /// key's entry from the other. Over a bound, the entry expiring first goes.
  void put(const std::string& key, successor_map found, double now);

  /// Positive entries held (expired ones included until found or evicted).
  size_t size() const { return positive_.size(); }

  /// Negative entries held (expired ones included until found or evicted).
  size_t negative_size() const { return negative_.size(); }

  /// Drops every entry of both caches.
  void clear();

private:
  /// The negative cache needs no value: presence means "no successors".
  struct none {};

  prefix_cache_config cfg_;
  detail::expiring_map<successor_map> positive_;
  detail::expiring_map<none> negative_;
};

} // namespace colony::gate
