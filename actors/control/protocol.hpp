// The control plane of a node (issue: guarded control plane).
//
//   colony ctl --token--> control_actor (published on the node's control
//                            | port, default 127.0.0.1; refuses requests
//                            | without the node's token: errc::unauthorized)
//                            v
//                         node_manager_actor (local, never published: the
//                         node's tree; spawns and stops experts, reports
//                         the supervision tree)
// The control actor answers log requests itself from the node's log ring.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/control_messages.hpp"

namespace colony {

using spawn_atom = caf::atom_constant<caf::atom("spawn")>;
using remove_atom = caf::atom_constant<caf::atom("remove")>;
using status_atom = caf::atom_constant<caf::atom("status")>;

/// Published on the control port. Every request carries the token; a wrong
/// or missing one is refused with errc::unauthorized and logged (ctl_refused).
using control_actor = caf::typed_actor<
  /// Errors: bad_config (spec key named), bad_request (count, prefix).
  caf::replies_to<ctl_spawn>::with<ctl_uids>,
  /// Errors: unknown_expert (uid named).
  caf::replies_to<ctl_stop>::with<ctl_uids>,
  caf::replies_to<ctl_status>::with<node_status>,
  caf::replies_to<ctl_logs>::with<ctl_log_lines>>;

/// The node's local management interface (implemented by the node).
using node_manager_actor = caf::typed_actor<
  /// (spawn, prefix, count, spec) -> the new uids, registered with the
  /// node's server and declared in the DHT.
  caf::replies_to<spawn_atom, std::string, uint32_t, expert_spec_msg>::with<std::vector<std::string>>,
  /// (remove, uids) -> the uids stopped (checkpointed, unregistered).
  caf::replies_to<remove_atom, std::vector<std::string>>::with<std::vector<std::string>>,
  /// The node's supervision tree with expert details.
  caf::replies_to<status_atom>::with<node_status>>;

} // namespace colony
