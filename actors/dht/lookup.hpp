// The iterative Kademlia lookup as a pure state machine: the caller sends
// the requests that next_requests() names, feeds back each reply or failure,
// and stops when done(). No clocks, no I/O: timeouts are the caller's, and
// end up here as on_failure().
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <vector>

#include "actors/dht/node_id.hpp"
#include "actors/dht/routing_table.hpp"

namespace colony::dht {

/// One iterative lookup of the k nodes nearest to a target (find node), or
/// of a value stored near it (values_wanted > 0).
/// Invariants: at most alpha requests in flight that are not slow; `self`
/// is never a candidate; a candidate is asked at most once.
class lookup {
public:
  /// Starts a lookup of the `k` nearest nodes to `target` with `alpha`
  /// parallel requests, seeded by `initial` (depth 1), never asking `self`.
  /// With `values_wanted` > 0 it is done as soon as that many replies
  /// carried the value (several replicas, so that their copies can be
  /// merged), or when the k nearest answered, whichever comes first.
  lookup(node_id target, size_t k, size_t alpha,
         const std::vector<contact>& initial, node_id self,
         size_t values_wanted = 0);

  /// Contacts to ask now, nearest unasked first among the k nearest
  /// candidates that did not fail; they count as in flight until their
  /// reply or failure. Empty once done().
  std::vector<contact> next_requests();

  /// `from` answered with `returned` contacts (and the value, if
  /// `found_value`). Replies from contacts not in flight are ignored
  /// (false).
  bool on_reply(const node_id& from, const std::vector<contact>& returned,
                bool found_value = false);

  /// `from` failed (timeout, error): it is skipped from now on.
  void on_failure(const node_id& from);

  /// Kademlia's stalled-lookup rule: `from`, in flight, is slow (no reply
  /// within its stall time). It stops counting against alpha and against
  /// the k nearest, so the next candidates are asked; its late reply is
  /// still taken, its failure still ends it.
  void on_slow(const node_id& from);

  /// Whether the k nearest candidates that neither failed nor are slow all
  /// answered (or none is left), or values_wanted replies carried the
  /// value. While nobody answered, slow requests are waited for.
  bool done() const;

  /// The up to k nearest contacts that answered, nearest first.
  std::vector<contact> result() const;

  /// Whether some reply carried the value.
  bool found_value() const { return value_key_.has_value(); }

  /// Replies that carried the value.
  size_t values() const { return values_; }

  /// The contact whose reply carried the value first (nullptr if none).
  const contact* value_source() const;

  /// Hops to the answer: the depth of the contact that returned the value,
  /// else of the nearest contact that answered (0 if none did). Initial
  /// contacts have depth 1; one returned by a depth-d contact has depth d+1.
  size_t hops() const;

  /// Requests in flight, slow ones not counted.
  size_t pending() const { return in_flight_; }

  /// Requests in flight that were marked slow.
  size_t slow() const { return slow_; }

  /// The target id.
  const node_id& target() const { return target_; }

private:
  enum class state { fresh, in_flight, slow, answered, failed };

  struct candidate {
    contact peer;
    size_t depth = 1;
    state st = state::fresh;
  };

  /// Candidates keyed by XOR distance to the target, nearest first.
  using candidates_map = std::map<node_id, candidate>;

  void add_candidate(const contact& c, size_t depth);
  /// The candidate `id` if its request is in flight (slow or not).
  candidate* outstanding(const node_id& id);
  /// Ends the request to `x` (in flight or slow) in state `to`.
  void settle(candidate& x, state to);

  node_id target_;
  size_t k_;
  size_t alpha_;
  node_id self_;
  size_t values_wanted_;
  size_t values_ = 0;
  size_t in_flight_ = 0;
  size_t slow_ = 0;
  std::optional<node_id> value_key_; ///< distance key of the value source
  candidates_map candidates_;
};

} // namespace colony::dht
