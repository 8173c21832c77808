// Outgoing connections guarded like incoming ones.
//
// A node connects to endpoints it read from the DHT, and any peer may have
// written them: a hostile server answers the handshake with one BASP header
// that claims 4 GiB, and CAF 0.17.6 sizes its read buffer from it (NOTES
// section 4), on the client this time. So every outgoing connection of a
// process (connect.hpp: expert servers, DHT peers, averagers, control
// ports) goes through this relay: CAF connects to a port on 127.0.0.1 that
// stands for the remote endpoint, and one thread relays the bytes to the
// remote host and back, parsing the BASP header of every message the
// remote sends before CAF sees it. A connection is cut, and the remote's
// refusal recorded (refusal_since), when a header claims more than
// max_message_bytes or names an operation BASP does not have. What one
// server can make the process allocate is then bounded by
// max_message_bytes plus the two relay buffers per connection.
//
// One listening port per remote endpoint (idle ones close after 10
// minutes, or after one when there are more than max_routes), all served
// by one thread; the relay costs one extra copy and loopback hop per byte.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "runtime/endpoint.hpp"

namespace colony::net_guard {

/// How outgoing connections are guarded.
struct outbound_config {
  bool enabled = true;
  /// The largest BASP payload a server may send (a reply's tensors, one
  /// message: the node's max_message_bytes plus headroom for the envelope).
  uint64_t max_message_bytes = (uint64_t{256} << 20) + (uint64_t{1} << 20);
  size_t max_routes = 256; ///< listening ports kept beyond a minute idle
};

/// Counters since the guard started.
struct outbound_stats {
  uint64_t connections = 0;
  uint64_t oversized = 0;      ///< cut: a header claimed more than the limit
  uint64_t garbage = 0;        ///< cut: unknown BASP operation
  uint64_t connect_failed = 0; ///< the remote endpoint refused or is unreachable
  uint64_t routes = 0;         ///< listening ports now
};

/// The process's outgoing guard.
class outbound_guard {
public:
  /// The process's guard (started at first use).
  static outbound_guard& instance();

  /// Replaces the settings (connections made from now on).
  void configure(const outbound_config& cfg);

  /// Where to connect instead of `remote`: a port on 127.0.0.1 relaying to
  /// it, or `remote` itself when disabled. Errors: io_failed (no port left),
  /// unreachable (the host does not resolve).
  caf::expected<endpoint> route(const endpoint& remote);

  /// Connections to `remote` cut so far (see refusal_since).
  uint64_t refusals(const endpoint& remote) const;

  /// Why the guard cut a connection to `remote` after `count` refusals
  /// (refusals() read before connecting), e.g. "its BASP header claimed
  /// 4294967295 bytes, over the limit of 269484032"; empty when it cut none.
  std::string refusal_since(const endpoint& remote, uint64_t count) const;

  outbound_stats stats() const;

  ~outbound_guard();

private:
  outbound_guard();
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace colony::net_guard
