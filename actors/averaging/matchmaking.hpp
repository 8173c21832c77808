// Matchmaking (pure, CAF-free): who leads a round and how a leader forms
// its group. Peers that want to average store themselves under the DHT key
// avg.<run> (subkey: their endpoint, a short expiration) and read the key
// back; the leader is the smallest endpoint among the entries (itself
// included), so every peer that saw the same entries picks the same one. A
// leader takes joins for join_window_s, then sends the group (sorted
// endpoints, a fresh round id) to all; a follower that gets no group in
// time gives up this round.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "messages/averaging_messages.hpp"

namespace colony::averaging {

/// The leader among `ready` (endpoints read under the key) and `self`.
std::string choose_leader(const std::vector<std::string>& ready, const std::string& self);

/// A leader's joins for one round. Invariant: it holds at most
/// group_size - 1 joins (the leader is the last member).
class leader_state {
public:
  leader_state(std::string self, std::string run, uint64_t layout, uint32_t group_size,
               uint32_t min_group);

  /// Takes a join; errc::bad_request when the group is full or the run
  /// differs, errc::bad_shape when the tensor layout differs. A repeated
  /// join of the same endpoint is accepted once.
  caf::error join(const avg_join& j);

  /// Closes the group: members sorted, with `round`; errc::timeout when
  /// fewer than min_group members joined ("1 of min_group=2 ...").
  caf::expected<avg_group> close(uint64_t round, uint32_t parts) const;

  size_t joined() const { return joins_.size(); }

private:
  std::string self_;
  std::string run_;
  uint64_t layout_;
  uint32_t group_size_;
  uint32_t min_group_;
  std::vector<std::string> joins_;
};

/// Checks a group a follower got: `self` is a member, at most `group_size`
/// members, no duplicates, parts a positive multiple of the members;
/// errc::bad_request otherwise. The member's index.
caf::expected<uint32_t> check_group(const avg_group& g, const std::string& self,
                                    uint32_t group_size);

} // namespace colony::averaging
