// Start-up of a DHT peer that talks over caf::io: spawn, publish, join.
// colony-node, `colony dht ...` and the loopback tests share it.
#pragma once

#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/dht/front.hpp"
#include "actors/dht/peer_config.hpp"
#include "actors/dht/protocol.hpp"
#include "runtime/fault_injection.hpp"
#include "runtime/net_guard/publish.hpp"

namespace colony::dht {

/// A running peer reachable over caf::io.
struct io_peer {
  peer_actor peer;      ///< the peer itself: local use only, never published
  peer_front_actor front; ///< what is published (null in client mode)
  endpoint ep;          ///< where it listens (empty host in client mode)
  dht_peer_stats stats; ///< right after joining
  /// The guard in front of the published port (null in client mode).
  std::shared_ptr<net_guard::guarded_port> port;
};

/// Spawns a peer on an io_transport, publishes its front (front.hpp: the
/// RPCs and client API only, never tick/defer/bootstrap) behind a basp_guard
/// (`guard`) on cfg.self_ep (port 0: any free port) unless in client mode, and bootstraps it from
/// `initial_peers` (none: it is the first peer). Fails with errc::io_failed
/// when it cannot listen, bad_request for a malformed endpoint, or
/// bootstrap_failed naming the initial peers when none answered within
/// cfg.rpc_timeout; a peer that failed to start is stopped again.
caf::expected<io_peer> start_io_peer(caf::actor_system& sys, peer_config cfg,
                                     const std::vector<std::string>& initial_peers,
                                     fault_config faults = {},
                                     net_guard::guard_config guard = {});

/// Stops the peer and closes its port.
void stop_io_peer(caf::actor_system& sys, const io_peer& p);

} // namespace colony::dht
