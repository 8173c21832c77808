// How a client decides that a node it talks to is hung (actors/client/
// liveness.hpp). Colony does not use CAF's heartbeat: in 0.17.6 it cuts
// every outgoing connection whose handshake takes longer than one heartbeat
// interval (NOTES section 4), i.e. every link with more than ~0.5 s of
// one-way delay.
#pragma once

#include <cstdint>

namespace colony {

/// Colony's own liveness pings (YAML section `liveness:`).
struct liveness_config {
  /// A ping to every watched node this often; 0 turns liveness off.
  uint32_t interval_ms = 500;
  /// A node whose pings have gone unanswered this long after its last
  /// answer is hung. Pings are pipelined, so on a link with constant delay
  /// the answers keep arriving every interval_ms whatever the delay: the
  /// detection time does not grow with the latency.
  /// Choice: the target is a hung (SIGSTOPped) node logged down within 3 s.
  /// Its last answer came at most at the stop, and silence is judged once
  /// per interval, so detection takes timeout_ms .. timeout_ms + interval_ms
  /// = 2.0 .. 2.5 s, leaving 0.5 s for a loaded scheduler. A healthy node
  /// answers every 500 ms, so a false alarm needs 1.5 s of extra jitter,
  /// also on a link with 1 s of one-way delay (tests/integration/
  /// slow_link_test.cpp checks that case).
  uint32_t timeout_ms = 2000;
  /// Grace for the first answer after a connection is made (it needs one
  /// full round trip: allow twice the largest one-way delay, plus margin).
  uint32_t first_reply_ms = 10000;
};

} // namespace colony
