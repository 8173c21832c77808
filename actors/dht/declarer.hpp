// The declarer of a node's experts: declares them in the DHT at once, then
// every update period, so that they stay alive while the node does and
// vanish one expiration after it died. A uid that leaves its source (an
// expert stopped, or given up by its supervisors) is withdrawn in the next
// round, at once after a wake: its records are overwritten with empty
// values (expert_directory.hpp: withdrawal_items); all of them when the node
// leaves (leave_atom). Logs one line per round:
//   event=declare experts=N withdrawn=W acks=M min_acks=R took_ms=T
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/dht/peer_config.hpp"
#include "actors/dht/protocol.hpp"
#include "runtime/endpoint.hpp"
#include "runtime/identity/node_key.hpp"

namespace colony::dht {

/// What to declare and how often.
struct declarer_config {
  std::vector<std::string> uids; ///< valid uids (see declaration_items)
  endpoint expert_ep;            ///< where the experts are served
  double expiration_s = 60;      ///< each declaration lives this long
  double update_period_s = 20;   ///< re-declare period (< expiration_s)
  std::function<double()> clock = unix_time;
  /// Seals every record (expert_directory.hpp); none: a key made at spawn,
  /// which lasts as long as this declarer.
  std::shared_ptr<const identity::node_key> owner;
  /// When set, each round declares what it returns instead of `uids` (a
  /// node whose experts change at run time).
  std::function<std::vector<std::string>()> uids_source;
};

/// Re-declares experts through a peer. Invariant: at most one declaration
/// in flight; each is bounded by the update period.
using declarer_actor = caf::typed_actor<
  /// Its own timer: declares and schedules the next round.
  caf::reacts_to<tick_atom>,
  /// Declares now (right after the round in flight, if any), keeping the
  /// schedule: e.g. after experts were added.
  caf::reacts_to<wake_atom>,
  /// Replies with the number of completed rounds (successful or not).
  caf::replies_to<stats_atom>::with<uint64_t>,
  /// Graceful leave: withdraws every uid declared so far (records newer
  /// than the declarations, so gates stop choosing them at once instead of
  /// after expiry) and declares nothing more; replies with the number of
  /// uids withdrawn once the put finished. Errors: the put's, or timeout
  /// after one update period.
  caf::replies_to<leave_atom>::with<uint64_t>>;

/// Spawns a declarer that declares through `peer` at once.
declarer_actor spawn_declarer(caf::actor_system& sys, peer_actor peer, declarer_config cfg);

/// Asks `d` to leave and waits up to `timeout`; logs the outcome
/// (event=leave withdrawn=N took_ms=T, or event=leave_failed). Used when a
/// node stops.
void leave(caf::actor_system& sys, const declarer_actor& d, caf::timespan timeout);

} // namespace colony::dht
