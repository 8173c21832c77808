// A guard in front of every port Colony publishes.
//
// CAF 0.17.6's BASP broker sizes its read buffer from a header's
// payload_len (uint32) with no cap: one 32-byte header that claims 4 GiB
// makes the process allocate 4 GiB (NOTES section 4). Nothing in CAF's
// config bounds it, and Colony does not patch CAF. So a node publishes its
// actors on 127.0.0.1 at a port the kernel picks and listens on the public
// port with this guard: one thread that accepts connections, relays their
// bytes to the internal port and back, and parses the BASP header of every
// message a peer sends before CAF sees it. A connection is closed, without
// CAF ever reading its header, when
//   - a header claims more than max_message_bytes of payload, or names an
//     operation BASP does not have (garbage);
//   - its source address already has max_connections_per_source open
//     connections, or the guard has max_connections (refused at accept);
//   - it has not completed one message within first_message_timeout.
// What one source can make the node allocate is then bounded by
// max_connections_per_source x (max_message_bytes + the guard's two relay
// buffers of relay_buffer_bytes).
//
// Cost per message: the header check is a few comparisons; the price is the
// relay itself, one extra copy through user space and one extra loopback
// hop per byte (bench/expert_throughput measures the round trip with and
// without the guard).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "runtime/net_guard/guard_config.hpp"
#include "runtime/net_guard/relay.hpp"

namespace colony::net_guard {

/// Counters since the guard started.
struct guard_stats {
  uint64_t accepted = 0;
  uint64_t refused_per_source = 0; ///< over max_connections_per_source
  uint64_t refused_total = 0;      ///< over max_connections
  uint64_t oversized = 0;          ///< closed: payload_len over the limit
  uint64_t garbage = 0;            ///< closed: unknown BASP operation
  uint64_t first_message_timeouts = 0;
  uint64_t upstream_failed = 0; ///< the internal port refused the relay
  uint64_t messages = 0;        ///< BASP messages passed to CAF
  uint64_t open = 0;            ///< connections open now
};

class basp_guard {
public:
  /// Listens on `host`:`port` (0: any free port; "" or "0.0.0.0": all IPv4
  /// interfaces, "::" all IPv6) and relays every accepted connection to
  /// 127.0.0.1:`upstream_port`. `name` prefixes its log lines (logger "net").
  /// errc::io_failed naming the address when it cannot listen.
  static caf::expected<std::unique_ptr<basp_guard>>
  start(const std::string& host, uint16_t port, uint16_t upstream_port, guard_config cfg,
        std::string name);

  /// Stops the thread and closes every connection.
  ~basp_guard();

  basp_guard(const basp_guard&) = delete;
  basp_guard& operator=(const basp_guard&) = delete;

  /// The public port (the one to advertise).
  uint16_t port() const { return port_; }

  /// The internal port CAF listens on (127.0.0.1 only).
  uint16_t upstream_port() const { return upstream_port_.load(); }

  /// Relays connections accepted from now on to `upstream_port` (the
  /// published actor was replaced, e.g. restarted by its supervisor).
  void retarget(uint16_t upstream_port) { upstream_port_.store(upstream_port); }

  guard_stats stats() const;

  const guard_config& config() const { return cfg_; }

private:
  struct impl;
  basp_guard(guard_config cfg, int listen_fd, uint16_t port, uint16_t upstream_port,
             std::string name);

  guard_config cfg_;
  uint16_t port_;
  std::atomic<uint16_t> upstream_port_;
  std::unique_ptr<impl> impl_;
};

} // namespace colony::net_guard
