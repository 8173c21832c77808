// The composition root of a node's expert side: builds every expert of a
// node_config (spec -> module, optimizer, checkpoint restore), spawns the
// dispatcher, the server and the experts' supervision subtree:
//
//   experts (supervisor, one_for_one, gives a failing group up)
//     <group> (supervisor per config group or `ctl spawn`, one_for_one,
//              escalates when over its intensity)
//       <uid> (expert actor, permanent: rebuilt from its spec and restored
//              from its latest checkpoint; the updates lost are logged)
//
// colony-node and the tests use this one factory.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/expert/expert_registry.hpp"
#include "actors/expert/protocol.hpp"
#include "runtime/node_config.hpp"
#include "runtime/supervision/supervisor.hpp"
#include "runtime/worker_pool.hpp"

namespace colony {

struct expert_host_context;

/// The running expert side of a node.
struct expert_host {
  expert_server_actor server;
  dispatcher_actor dispatcher;
  /// uid -> running actor (or down while restarting).
  std::shared_ptr<expert_registry> registry;
  /// Runs the experts' torch work: compute_slots threads.
  std::shared_ptr<worker_pool> pool;
  std::shared_ptr<expert_host_context> ctx;
};

/// How the experts' supervisors restart (defaults: 3 restarts in 10 s per
/// group, backoff 100 ms doubling up to 5 s; the `experts` supervisor
/// gives up a group that escalates more than 3 times in 60 s).
struct expert_supervision {
  supervision::supervisor_config group;
  supervision::supervisor_config top;
  expert_supervision();
};

/// Builds and spawns everything in `cfg.experts`. Fails (errc::bad_config,
/// errc::io_failed, ...) before spawning anything if one expert cannot be
/// built, naming its uid. `on_change` runs (in a supervisor's context)
/// whenever an expert was (re)started or given up, e.g. to declare (or
/// withdraw) it at once. Given-up experts become unavailable in the
/// registry (expert_registry::mark_unavailable).
caf::expected<expert_host> spawn_expert_host(caf::actor_system& sys, const node_config& cfg,
                                             std::function<void()> on_change = {},
                                             expert_supervision sup = {});

/// The child spec under which a node's tree supervises the host's
/// `experts` supervisor: its first start adopts the running one, a restart
/// spawns a fresh one from the current groups.
supervision::child_spec expert_host_child(const expert_host& host);

/// The current `experts` supervisor.
caf::actor experts_supervisor(const expert_host& host);

/// Adds a group of experts (uids prefix.N, N the lowest free indices) built
/// from `group` (its uid/count are ignored) to a running host; blocks
/// until they are registered. Errors name the uid or key.
caf::expected<std::vector<std::string>>
add_expert_group(caf::actor_system& sys, expert_host& host, const std::string& prefix,
                 uint32_t count, expert_group_config group);

/// The spec of an existing group whose experts start with `prefix` + ".",
/// else with a parent prefix of it (ffn.3 -> ffn.), for `ctl spawn`
/// without --spec; errc::not_found otherwise.
caf::expected<expert_group_config> group_spec_of(const expert_host& host,
                                                 const std::string& prefix);

/// Stops and removes experts (after a checkpoint); returns the uids
/// removed. errc::unknown_expert names the first unknown uid (nothing is
/// removed then).
caf::expected<std::vector<std::string>>
remove_experts(caf::actor_system& sys, expert_host& host, const std::vector<std::string>& uids);

/// Checkpoints every running expert; returns how many were saved (each
/// failure is logged by its expert).
uint64_t checkpoint_experts(caf::actor_system& sys, const expert_host& host,
                            caf::timespan timeout = std::chrono::seconds{120});

/// Stops all actors of `host` (after an optional checkpoint by the caller)
/// and joins its worker pool once the running jobs are done.
void stop_expert_host(expert_host& host);

} // namespace colony
