// The node manager: the local actor behind a node's control port
// (actors/control/protocol.hpp). It spawns and stops experts on the running
// tree and reports the tree with each expert's counters. Never published.
#pragma once

#include <memory>

#include <caf/actor_system.hpp>

#include "actors/control/protocol.hpp"
#include "nodes/node/node_tree.hpp"

namespace colony::node {

/// Spawns the manager of `tree`. Its blocking work (building experts,
/// checkpoints) runs on a thread of its own, never on CAF's scheduler.
node_manager_actor spawn_node_manager(caf::actor_system& sys, std::shared_ptr<node_tree> tree);

/// What status does with the experts that `registry` holds given up: each is
/// a "failed" worker row under its group's row of `status` (added when the
/// group's supervisor no longer lists it), with its last exit and
/// `unavailable_since`.
void add_unavailable(node_status& status, const expert_registry& registry);

} // namespace colony::node
