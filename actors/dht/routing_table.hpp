// Kademlia k-buckets (hivemind's variant): the table starts as one bucket
// over the whole id space; a full bucket splits in two when its range holds
// our own id or its depth is not a multiple of `depth_modulo`. A full bucket
// that cannot split keeps newcomers as replacement candidates and names its
// least-recently-seen contact for the caller to ping. Pure data: time is an
// argument, randomness is the caller's generator.
#pragma once

#include <cstddef>
#include <optional>
#include <random>
#include <unordered_set>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "actors/dht/node_id.hpp"
#include "runtime/endpoint.hpp"

namespace colony::dht {

/// A DHT peer as the routing table knows it.
struct contact {
  node_id id;
  endpoint ep;
  double last_seen = 0; ///< when it was last heard from (the caller's clock)

  friend bool operator==(const contact& a, const contact& b) {
    return a.id == b.id && a.ep == b.ep && a.last_seen == b.last_seen;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, contact& x) {
  return f(caf::meta::type_name("contact"), x.id, x.ep, x.last_seen);
}

/// One k-bucket: the ids whose first `depth` bits equal those of `prefix`.
struct k_bucket {
  node_id prefix;                        ///< bits past `depth` are zero
  size_t depth = 0;                      ///< number of splits above it
  std::vector<contact> contacts;         ///< least recently seen first
  std::vector<contact> replacements;     ///< oldest first, at most k
  std::unordered_set<node_id> pinged;    ///< contacts handed out for a ping
  double last_updated = 0;               ///< last update() that landed here

  /// Whether `id` falls into this bucket's range.
  bool covers(const node_id& id) const {
    return common_prefix_bits(prefix, id) >= depth;
  }
};

/// What update() did with a contact.
enum class update_outcome {
  refreshed,   ///< already known: moved to most recently seen
  added,       ///< stored in a bucket with room (possibly after splits)
  replacement, ///< bucket full: kept as a replacement candidate
  ignored,     ///< our own id: never stored
};

/// The result of routing_table::update.
struct update_result {
  update_outcome outcome = update_outcome::ignored;
  /// Set for `replacement`: the least-recently-seen contact of the full
  /// bucket, not handed out before. The caller pings it; on failure it calls
  /// remove(id) (promoting the newest replacement), on success update().
  std::optional<contact> ping;
};

/// Kademlia routing table of one node.
/// Invariants: buckets partition the id space, ordered by prefix; each holds
/// at most k contacts and k replacements, none of them `self`.
class routing_table {
public:
  /// A table for node `self` with bucket size `k` and split depth modulo
  /// `depth_modulo` (hivemind's b).
  explicit routing_table(node_id self, size_t k = 20, size_t depth_modulo = 5);

  /// Records that `c` was heard from at `now` (its last_seen is set to now).
  update_result update(contact c, double now);

  /// Drops `id` from its bucket (or its replacements); the newest replacement
  /// takes a freed slot. Returns whether anything was removed.
  bool remove(const node_id& id);

  /// The stored contact `id` (not a replacement), if any.
  std::optional<contact> find(const node_id& id) const;

  /// Up to `n` stored contacts nearest to `target` by XOR distance, nearest
  /// first, leaving out `exclude` (e.g. the requester).
  std::vector<contact> closest(const node_id& target, size_t n,
                               const std::optional<node_id>& exclude
                               = std::nullopt) const;

  /// For each bucket without update() for `refresh_interval` seconds, a
  /// random id in its range: targets for refresh lookups.
  std::vector<node_id> stale_buckets(double now, double refresh_interval,
                                     std::mt19937_64& rng) const;

  /// Marks the bucket covering `target` as updated at `now` (after a refresh
  /// lookup, so an empty range is not refreshed on every tick).
  void mark_refreshed(const node_id& target, double now);

  /// Number of stored contacts (replacements not counted).
  size_t size() const;

  /// Our own id.
  const node_id& self() const { return self_; }

  /// The bucket size.
  size_t k() const { return k_; }

  /// The buckets, ordered by prefix (for inspection and tests).
  const std::vector<k_bucket>& buckets() const { return buckets_; }

private:
  size_t bucket_index(const node_id& id) const;
  bool can_split(const k_bucket& b) const;
  void split(size_t index);
  void place(k_bucket& b, const contact& c);
  std::optional<contact> add_replacement(k_bucket& b, const contact& c);
  std::optional<contact> ping_candidate(k_bucket& b);

  node_id self_;
  size_t k_;
  size_t depth_modulo_;
  std::vector<k_bucket> buckets_;
};

} // namespace colony::dht
