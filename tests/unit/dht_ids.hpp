// Helpers of the DHT unit tests: a contact for an id, the ids of contacts,
// and the brute-force nearest ids that routing and lookups are checked
// against.
#pragma once

#include <algorithm>
#include <vector>

#include "actors/dht/routing_table.hpp"

namespace colony::dht::test_ids {

inline contact make_contact(const node_id& id) {
  return {id, {"10.0.0.1", 4000}, 0};
}

inline std::vector<node_id> ids_of(const std::vector<contact>& xs) {
  std::vector<node_id> result;
  for (const auto& x : xs)
    result.push_back(x.id);
  return result;
}

/// The `n` ids of `ids` nearest to `target`, nearest first.
inline std::vector<node_id> brute_force(std::vector<node_id> ids, const node_id& target,
                                        size_t n) {
  auto by_distance = [&](const node_id& a, const node_id& b) { return nearer(target, a, b); };
  n = std::min(n, ids.size());
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end(),
                    by_distance);
  ids.resize(n);
  return ids;
}

} // namespace colony::dht::test_ids
