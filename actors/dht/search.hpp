// One running lookup of a target, shared by every caller that wants it at
// the same time: the lookup state machine plus the value merged from the
// replies so far and the callers waiting for the outcome. Pure data.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

#include "actors/dht/lookup.hpp"
#include "actors/dht/record_store.hpp"

namespace colony::dht {

/// What a finished search reports.
struct search_outcome {
  std::optional<record> value;  ///< merged from the replies that carried it
  std::vector<contact> nearest; ///< peers that answered, nearest first
  size_t hops = 0;              ///< see lookup::hops()
};

/// A lookup of the k peers nearest to a target, or (want_value) of a value
/// stored near it, stopping at the first reply that carries it.
class search {
public:
  using waiter = std::function<void(const search_outcome&)>;

  search(node_id target, bool want_value, size_t k, size_t alpha,
         const std::vector<contact>& initial, node_id self);

  /// Adds a caller to notify when the search is done.
  void add_waiter(waiter w) { waiters_.push_back(std::move(w)); }

  /// Peers to ask now (see lookup::next_requests).
  std::vector<contact> next_requests() { return walk_.next_requests(); }

  /// `from` answered with `returned` peers and, if it holds one, a value.
  void on_reply(const node_id& from, const std::vector<contact>& returned,
                const std::optional<record>& value);

  /// `from` failed to answer.
  void on_failure(const node_id& from) { walk_.on_failure(from); }

  /// Whether the lookup is finished.
  bool done() const { return walk_.done(); }

  /// The result so far.
  search_outcome outcome() const;

  /// Removes and returns the waiters.
  std::vector<waiter> take_waiters() { return std::move(waiters_); }

  bool want_value() const { return want_value_; }

  const node_id& target() const { return walk_.target(); }

private:
  lookup walk_;
  bool want_value_;
  std::optional<record> value_;
  std::vector<waiter> waiters_;
};

} // namespace colony::dht
