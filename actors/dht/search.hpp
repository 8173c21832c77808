// One running lookup of a target, shared by every caller that wants it at
// the same time: the lookup state machine plus the value merged from the
// replies so far and the callers waiting for the outcome. Pure data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "actors/dht/lookup.hpp"
#include "actors/dht/record_store.hpp"

namespace colony::dht {

/// What a finished search reports.
struct search_outcome {
  std::optional<record> value;  ///< merge_copies of the copies
  std::vector<contact> nearest; ///< peers that answered, nearest first
  size_t hops = 0;              ///< see lookup::hops()
  std::vector<record> copies;   ///< one per replica that sent the value
};

/// A lookup of the k peers nearest to a target, or (values_wanted > 0) of a
/// value stored near it, gathering the copies of up to values_wanted
/// replicas (merged per subkey by owner_merge.hpp's vote) or fewer when
/// the caller ends it early (expire(): its grace after the first value ran
/// out).
class search {
public:
  using waiter = std::function<void(const search_outcome&)>;

  search(node_id target, size_t values_wanted, size_t k, size_t alpha,
         const std::vector<contact>& initial, node_id self);

  /// Adds a caller to notify when the search is done.
  void add_waiter(waiter w) { waiters_.push_back(std::move(w)); }

  /// Peers to ask now (see lookup::next_requests); none once done().
  std::vector<contact> next_requests() {
    return expired_ ? std::vector<contact>{} : walk_.next_requests();
  }

  /// `from` answered with `returned` peers and, if it holds one, a value.
  void on_reply(const node_id& from, const std::vector<contact>& returned,
                const std::optional<record>& value);

  /// `from` failed to answer.
  void on_failure(const node_id& from) { walk_.on_failure(from); }

  /// `from` did not answer within its stall time (see lookup::on_slow).
  void on_slow(const node_id& from) { walk_.on_slow(from); }

  /// Whether the lookup is finished (or was ended by expire()).
  bool done() const { return expired_ || walk_.done(); }

  /// Ends the search with what it has (replies still in flight are not
  /// waited for).
  void expire() { expired_ = true; }

  /// Replies that carried the value so far.
  size_t values() const { return walk_.values(); }

  /// The result so far.
  search_outcome outcome() const;

  /// The copy that `from` returned, if any (for read-repair).
  std::optional<record> copy_of(const node_id& from) const {
    auto i = copies_.find(from);
    return i == copies_.end() ? std::nullopt : std::optional<record>{i->second};
  }

  /// Removes and returns the waiters.
  std::vector<waiter> take_waiters() { return std::move(waiters_); }

  bool want_value() const { return want_value_; }

  /// The owner's tag: tells this search from a later one of the same target.
  uint64_t tag = 0;

  const node_id& target() const { return walk_.target(); }

private:
  lookup walk_;
  bool want_value_;
  bool expired_ = false;
  std::map<node_id, record> copies_; ///< per replica that sent one
  std::vector<waiter> waiters_;
};

} // namespace colony::dht
