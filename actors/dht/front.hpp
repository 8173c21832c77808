// The published face of a DHT peer: a thin actor that carries only what
// remote callers may send (the three peer RPCs and the client API) and
// delegates it to the local peer_actor. The peer's internal messages
// (tick_atom, defer_atom) and bootstrap, which rewrites the peer's
// advertised endpoint, are not part of it: a remote sender gets
// unexpected_message, and the peer never sees them.
//
//   remote peer / client --ping/store/find/put/get/stats--> front --delegate--> peer
#pragma once

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/dht/protocol.hpp"

namespace colony::dht {

/// What io_peer publishes and what remote callers connect to (see
/// peer_actor for each message's meaning). A peer_actor converts to it.
/// Invariant: it lives as long as its peer (it quits when the peer exits).
using peer_front_actor = caf::typed_actor<
  /// RPC: liveness probe.
  caf::replies_to<dht_ping>::with<dht_pong>,
  /// RPC: stores items.
  caf::replies_to<dht_store_request>::with<dht_store_reply>,
  /// RPC: values and nearest peers per key.
  caf::replies_to<dht_find_request>::with<dht_find_reply>,
  /// API: replicated store (remote clients: bench, tests).
  caf::replies_to<dht_put_request>::with<dht_put_reply>,
  /// API: lookup (remote clients).
  caf::replies_to<dht_get_request>::with<dht_get_reply>,
  /// API: id, endpoint, table and counters (read-only).
  caf::replies_to<stats_atom>::with<dht_peer_stats>>;

/// Spawns the front of `peer`; it stops when the peer exits.
peer_front_actor spawn_peer_front(caf::actor_system& sys, peer_actor peer);

} // namespace colony::dht
