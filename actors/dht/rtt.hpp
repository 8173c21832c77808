// Round-trip times of the peers a DHT peer talks to, and the RPC timeouts
// derived from them as TCP derives its retransmission timeout (RFC 6298):
// smoothed RTT + 4 x its mean deviation, bounded by a floor and the
// configured maximum, doubled after each timeout until the next reply. A
// peer never measured gets the maximum; the estimate over all peers gives
// the stall time of a lookup request to such a peer (lookup::on_slow).
// Pure data: the caller measures the times.
#pragma once

#include <cstddef>
#include <map>

#include "runtime/endpoint.hpp"

namespace colony::dht {

/// One RTT estimate (seconds).
class rtt_estimate {
public:
  /// A reply took `seconds`; clears the backoff.
  void observe(double seconds);

  /// A request timed out: the timeout doubles until the next reply.
  void backoff() { backoff_ = backoff_ < 64 ? backoff_ * 2 : backoff_; }

  /// Whether any reply was measured.
  bool known() const { return samples_ > 0; }

  /// srtt + 4 x rttvar (x backoff), within [floor, ceiling] (`ceiling`
  /// wins over a higher floor); `ceiling` when nothing was measured.
  double timeout(double floor, double ceiling) const;

  double srtt() const { return srtt_; }
  double rttvar() const { return rttvar_; }

private:
  double srtt_ = 0;
  double rttvar_ = 0;
  double backoff_ = 1;
  size_t samples_ = 0;
};

/// RTT estimates per endpoint (at most `capacity`; the oldest-keyed entry
/// makes room) and over all of them.
class rtt_table {
public:
  explicit rtt_table(size_t capacity = 256) : capacity_(capacity) {}

  /// A reply from `ep` took `seconds`.
  void observe(const endpoint& ep, double seconds);

  /// A request to `ep` timed out.
  void backoff(const endpoint& ep);

  /// The RPC timeout for `ep` (see rtt_estimate::timeout).
  double timeout(const endpoint& ep, double floor, double ceiling) const;

  /// How long a lookup waits for `ep` before asking the next candidates:
  /// the timeout that all peers' replies give, if it is shorter than
  /// `ep`'s own, else `ep`'s own.
  double stall_after(const endpoint& ep, double floor, double ceiling) const;

  size_t size() const { return peers_.size(); }

private:
  size_t capacity_;
  std::map<endpoint, rtt_estimate> peers_;
  rtt_estimate all_;
};

} // namespace colony::dht
