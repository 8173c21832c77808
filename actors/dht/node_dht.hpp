// The DHT side of a node (colony-node and `colony dht serve`): a peer
// published on the node's dht port, joined to the swarm, plus a declarer
// that keeps the node's experts declared under their endpoint.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/dht/declarer.hpp"
#include "actors/dht/io_peer.hpp"
#include "runtime/node_config.hpp"

namespace colony::dht {

/// The running DHT side of a node.
struct node_dht {
  io_peer peer;
  std::optional<declarer_actor> declarer; ///< none when there is nothing to declare
  std::shared_ptr<const identity::node_key> key; ///< seals the node's declarations
};

/// The node's key: loaded from (or created at) cfg.key_file, or made for
/// this run when it is empty. Errors: load_or_create's (bad_config for a
/// file readable by others or not a key, io_failed).
caf::expected<std::shared_ptr<const identity::node_key>> node_key_of(const dht_config& cfg);

/// The peer settings a dht_config stands for.
peer_config peer_config_of(const dht_config& cfg);

/// Starts the node's peer per `cfg` and, if `uids` is not empty, declares
/// them at `expert_ep` every cfg.update_period(). Fails like start_io_peer
/// (bootstrap_failed naming the initial peers, io_failed, ...) or with
/// bad_request for an invalid uid, before declaring anything. The peer's
/// port is behind a guard configured by `guard`; its outgoing messages are
/// delayed and dropped per `faults` (the node's faults.latency/dht_latency).
/// `key` (none: node_key_of(cfg)) seals the declarations.
caf::expected<node_dht> start_node_dht(caf::actor_system& sys, const dht_config& cfg,
                                       const std::vector<std::string>& uids,
                                       const endpoint& expert_ep,
                                       const net_guard::guard_config& guard = {},
                                       const fault_config& faults = {},
                                       std::shared_ptr<const identity::node_key> key = nullptr);

/// Withdraws the declared experts (bounded: 5 s), then stops the declarer
/// and the peer.
void stop_node_dht(caf::actor_system& sys, node_dht& x);

} // namespace colony::dht
