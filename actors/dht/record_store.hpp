// Local storage of DHT records with absolute expiration times (seconds on the
// caller's clock, passed in as `now`). A key holds a plain value or a
// dictionary of subkeys that expire independently. For the same key (or key
// and subkey) the later expiration wins; an older or equal one is rejected
// and leaves the stored value untouched.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "actors/dht/node_id.hpp"

namespace colony::dht {

/// A value with its absolute expiration time.
struct timed_value {
  std::string value;
  double expiration = 0;

  friend bool operator==(const timed_value& a, const timed_value& b) {
    return a.value == b.value && a.expiration == b.expiration;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, timed_value& x) {
  return f(caf::meta::type_name("timed_value"), x.value, x.expiration);
}

/// What a key holds: one plain value, or a dictionary of subkeys.
struct record {
  bool is_dictionary = false;
  timed_value plain;                           ///< used if !is_dictionary
  std::map<std::string, timed_value> subkeys;  ///< used if is_dictionary

  /// The plain value's expiration, or the latest subkey expiration.
  double expiration() const;

  friend bool operator==(const record& a, const record& b) {
    return a.is_dictionary == b.is_dictionary && a.plain == b.plain
           && a.subkeys == b.subkeys;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, record& x) {
  return f(caf::meta::type_name("record"), x.is_dictionary, x.plain,
           x.subkeys);
}

/// Records of one DHT node.
/// Invariants: no stored dictionary is empty; `by_expiration_` holds exactly
/// one (record expiration, key) pair per stored key.
class record_store {
public:
  /// A store of at most `capacity` keys (0: unbounded). When full, a new key
  /// evicts the key that expires soonest, or is rejected if it expires sooner.
  explicit record_store(size_t capacity = 0) : capacity_(capacity) {}

  /// Stores a plain value. Accepted if `expiration` > `now` and later than
  /// whatever the key holds (a dictionary: its latest subkey).
  bool store(const node_id& key, std::string value, double expiration,
             double now);

  /// Stores one dictionary entry. Accepted if `expiration` > `now` and later
  /// than the same subkey's, or than the plain value the key holds (which it
  /// then replaces by a one-entry dictionary).
  bool store_subkey(const node_id& key, const std::string& subkey,
                    std::string value, double expiration, double now);

  /// What `key` holds at `now`, expired subkeys left out; nothing if all of
  /// it expired.
  std::optional<record> get(const node_id& key, double now) const;

  /// What `key` holds as stored, expired subkeys included (the caller
  /// compares expirations); null if nothing. Valid until the next change.
  const record* peek(const node_id& key) const;

  /// Whether store() (no subkey) or store_subkey() would take a value that
  /// expires at `expiration` by its expirations alone (a full store may
  /// still refuse a new key): a copy as old as the one held is not.
  bool newer_than_held(const node_id& key, bool has_subkey, const std::string& subkey,
                       double expiration, double now) const;

  /// Drops every expired value and subkey.
  void purge(double now);

  /// Number of stored keys (expired ones count until purged).
  size_t size() const { return records_.size(); }

  /// Whether `key` is stored (expired until purged).
  bool holds(const node_id& key) const { return records_.count(key) > 0; }

  /// The stored keys (expired ones included until purged), in no order.
  std::vector<node_id> keys() const;

private:
  using records_map = std::unordered_map<node_id, record>;

  bool merge_subkey(records_map::iterator i, const std::string& subkey,
                    std::string value, double expiration);
  bool make_room(double expiration, double now);
  void drop_expired_keys(double now);
  void put(const node_id& key, record r);
  void reindex(const node_id& key, double before, double after);
  void erase(const node_id& key);

  size_t capacity_;
  records_map records_;
  std::set<std::pair<double, node_id>> by_expiration_;
};

} // namespace colony::dht
