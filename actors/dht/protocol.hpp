// The DHT peer actor: one Kademlia node. Peers talk to each other with the
// three RPCs (ping, store, find); the local API (bootstrap, put, get,
// stats) drives lookups. The peer itself is never published: remote
// callers reach its front (front.hpp), which carries the RPCs and put, get,
// stats only (not bootstrap, tick, defer).
//
//   client code --put/get--> peer_actor --find/store/ping--> peer_actor ...
//                               | transport (caf::io or in-process
//                               |            directory, delay/drop hook)
//
// Files: node_id, routing_table, record_store, lookup, blacklist, search,
// wire (pure); peer_state* (the actor's logic); peer_actor.cpp (behavior);
// front (the published face);
// io_transport, sim_directory (transports); client, expert_directory,
// declarer, io_peer, node_dht, swarm (on top).
#pragma once

#include <cstdint>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/dht_messages.hpp"

namespace colony::dht {

struct peer_config;
class transport;

/// One DHT peer. Invariants: every request it sends has a finite timeout
/// (peer_config::rpc_timeout); a peer that fails to answer is dropped from
/// the routing table and banned for a while; concurrent lookups of one key
/// share one search.
using peer_actor = caf::typed_actor<
  /// RPC: liveness probe; the sender joins the routing table unless in
  /// client mode. Never fails.
  caf::replies_to<dht_ping>::with<dht_pong>,
  /// RPC: stores each item unless expired or not newer than what is held;
  /// replies 1/0 per item. Never fails.
  caf::replies_to<dht_store_request>::with<dht_store_reply>,
  /// RPC: per key, the value held (if any) and the k nearest known peers,
  /// the sender excluded. Never fails.
  caf::replies_to<dht_find_request>::with<dht_find_reply>,
  /// API: joins the swarm through the initial peers (none: first peer),
  /// then looks up its own id; replies with its stats. Errors: bad_request
  /// (malformed endpoint), bootstrap_failed naming every initial peer when
  /// none answered within rpc_timeout.
  caf::replies_to<dht_bootstrap_request>::with<dht_peer_stats>,
  /// API: stores every item on the num_replicas peers nearest to its key
  /// (itself included when it is one of them); replies with the acks per
  /// item. Finishes within a few rpc_timeouts; never fails.
  caf::replies_to<dht_put_request>::with<dht_put_reply>,
  /// API: looks up every key: an iterative lookup that gathers the copies
  /// of up to values_wanted replicas (at most value_grace after the first)
  /// and merges them with the local copy per subkey, the later expiration
  /// winning (values_wanted 1: a local copy alone answers). Never fails; a
  /// key not found has found == false.
  caf::replies_to<dht_get_request>::with<dht_get_reply>,
  /// API: the peer's id, endpoint, table and counters.
  caf::replies_to<stats_atom>::with<dht_peer_stats>,
  /// Internal: periodic maintenance (purge, unban, bucket refresh).
  caf::reacts_to<tick_atom>,
  /// Internal: runs a deferred step (simulated delay, async failure).
  caf::reacts_to<defer_atom, uint64_t>>;

/// Spawns a peer that reaches others through `net`. It starts alone; send
/// it a dht_bootstrap_request to join a swarm.
peer_actor spawn_peer(caf::actor_system& sys, peer_config cfg,
                      std::shared_ptr<transport> net);

} // namespace colony::dht
