// A node's supervision tree, built by colony-node's main:
//
//   node (root, one_for_one; gives a failing child up, never exits for one)
//     dht       the DHT peer (restarted on its port and re-joined)
//     declarer  keeps the node's experts declared (declares at once after
//               any expert (re)start, spawn or stop)
//     server    the published expert server (a restart re-publishes it
//               behind the same guarded port)
//     experts   the experts' subtree (actors/expert/expert_host.hpp)
//     crashes   faults.crash_rate_per_min > 0 only: kills random experts
//
// The structs main used to tear down by hand are children now; main waits
// for a signal, checkpoints the experts and stops the root.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/dht/node_dht.hpp"
#include "actors/expert/expert_host.hpp"
#include "runtime/endpoint.hpp"
#include "runtime/net_guard/publish.hpp"
#include "runtime/node_config.hpp"

namespace colony::node {

/// The running node. Thread-safe where noted; owned by main.
struct node_tree {
  caf::actor_system* sys = nullptr;
  node_config cfg;
  expert_host host;
  endpoint where;                  ///< the data-plane endpoint
  caf::actor root;
  double started_at = 0;           ///< steady seconds

  std::mutex mx;                   ///< guards the members below
  std::shared_ptr<net_guard::guarded_port> data_port;
  expert_server_actor published;   ///< the server behind data_port
  std::optional<dht::node_dht> dht;
  std::optional<dht::declarer_actor> declarer;

  /// Asks the declarer to declare now (no-op without a DHT).
  void declare_now();
};

/// Builds the experts, publishes the server, joins the DHT and spawns the
/// root supervisor over all of it. Errors name what failed (the node
/// serves nothing then).
caf::expected<std::shared_ptr<node_tree>> start_node_tree(caf::actor_system& sys,
                                                          const node_config& cfg);

/// Withdraws the node's experts from the DHT (at most 5 s), stops the root
/// (children in reverse order) and waits up to `timeout` for it; then
/// closes the published ports.
void stop_node_tree(node_tree& t, caf::timespan timeout = std::chrono::seconds{30});

/// Seconds on the steady clock (uptimes).
double steady_s();

} // namespace colony::node
