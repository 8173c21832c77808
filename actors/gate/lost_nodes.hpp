// Which expert nodes a gate skips, as pure state (no CAF, no clocks: the
// caller passes the time). A node is skipped from when it failed as
// unreachable or node_connections lost it, until it is connected again (by
// anyone) or it declared itself again in the DHT -- a record naming it
// expires later than the newest one seen when it was lost -- and a retry
// (connect + ping, done by the gate) succeeded. Retries of one node start
// at most once per `retry_period_s`, and only after a newer declaration:
// a dead node whose records merely linger in the DHT is never retried.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>

#include "runtime/endpoint.hpp"

namespace colony::gate {

class lost_nodes {
public:
  explicit lost_nodes(double retry_period_s) : retry_period_s_(retry_period_s) {}

  /// A fresh DHT record names `ep` and expires at `expiration`.
  void declared(const endpoint& ep, double expiration) {
    auto& e = declared_[ep];
    e = std::max(e, expiration);
  }

  /// Starts skipping `ep`; `connections` is node_connections::connections()
  /// now. False when it is skipped already.
  bool lose(const endpoint& ep, uint64_t connections) {
    node n;
    n.seen = newest(ep);
    n.connections = connections;
    return lost_.emplace(ep, n).second;
  }

  bool skipped(const endpoint& ep) const { return lost_.count(ep) > 0; }

  /// What to do with experts at `ep` now.
  enum class verdict { eligible, skip, retry };

  /// `connections` and `connected` (a connection is cached) come from
  /// node_connections. `retry`: skip, and start a retry now (the state
  /// counts it as running until retry_done()). A node connected again since
  /// it was lost is eligible (and forgotten).
  verdict check(const endpoint& ep, uint64_t connections, bool connected, double now) {
    auto i = lost_.find(ep);
    if (i == lost_.end())
      return verdict::eligible;
    auto& n = i->second;
    if (connected && connections > n.connections) {
      lost_.erase(i);
      return verdict::eligible;
    }
    if (n.retrying || newest(ep) <= n.seen || now < n.retry_after)
      return verdict::skip;
    n.retrying = true;
    n.retry_after = now + retry_period_s_;
    n.retry_seen = newest(ep);
    return verdict::retry;
  }

  /// A retry of `ep` ended: eligible again when `ok`, else skipped until a
  /// declaration newer than any seen when the retry started.
  void retry_done(const endpoint& ep, bool ok) {
    auto i = lost_.find(ep);
    if (i == lost_.end())
      return;
    if (ok) {
      lost_.erase(i);
      return;
    }
    i->second.retrying = false;
    i->second.seen = std::max(i->second.seen, i->second.retry_seen);
  }

  size_t size() const { return lost_.size(); }

private:
  struct node {
    double seen = 0;          ///< newest declaration when lost (or retried)
    uint64_t connections = 0; ///< connections() when lost
    double retry_after = 0;   ///< no retry before
    double retry_seen = 0;    ///< newest declaration when the retry started
    bool retrying = false;
  };

  double newest(const endpoint& ep) const {
    auto i = declared_.find(ep);
    return i == declared_.end() ? 0 : i->second;
  }

  double retry_period_s_;
  std::map<endpoint, double> declared_;
  std::map<endpoint, node> lost_;
};

} // namespace colony::gate
