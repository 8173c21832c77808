// Client side of the expert protocol (torch-free: the CLI uses it).
//
// node_connections caches one CAF connection (a proxy of the node's
// expert_server_actor) per endpoint; remote_expert is a uid on a node with a
// timeout; call_many() sends many requests at once and waits for all of them
// up to one deadline (the gate's fan-out). Every call is bounded in time and
// every failure is an error value: unreachable (connection refused, node
// died), timeout, or the expert's own error (unknown_expert, bad_shape...).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>

#include "actors/client/connect.hpp"
#include "actors/expert/protocol.hpp"
#include "runtime/endpoint.hpp"
#include "runtime/fault_injection.hpp"
#include "runtime/liveness_config.hpp"

namespace colony {

/// (lost_atom, endpoint, std::string why): node_connections tells a
/// subscriber that a node was lost (local message, never sent remotely).
using lost_atom = caf::atom_constant<caf::atom("lost")>;

/// Thread-safe cache of connections to nodes. A connection whose node goes
/// away (CAF kills the node's proxy ~20 ms after the TCP connection drops)
/// or that liveness finds hung is forgotten at once and remembered as lost:
/// the loss is reported once as a node_down supervision event, every
/// subscribed fan-out is told at once (its calls to the node fail as
/// unreachable), and the next call reconnects (node_up when it succeeds).
class node_connections {
public:
  explicit node_connections(caf::actor_system& sys);

  /// Stops the liveness prober, if any.
  ~node_connections();

  node_connections(const node_connections&) = delete;
  node_connections& operator=(const node_connections&) = delete;

  /// Pings every node connected from now on (actors/client/liveness.hpp)
  /// and marks one lost when it stops answering: its calls then fail as
  /// unreachable instead of waiting for their timeouts. Off by default (the
  /// CLI's one-shot calls need none); interval_ms 0 keeps it off.
  void enable_liveness(const liveness_config& cfg);

  /// Returns the node's server, connecting on first use within `timeout`.
  /// errc::unreachable when no node answers at `ep` (or no expert server is
  /// published there).
  caf::expected<expert_server_actor> get(const endpoint& ep,
                                         caf::timespan timeout = std::chrono::seconds{10});

  /// The cached connection to `ep`, if any (never blocks).
  std::optional<expert_server_actor> find(const endpoint& ep) const;

  /// Caches a server handle connected elsewhere (e.g. by an actor through
  /// net::connect_async) and watches it, as get() does.
  expert_server_actor adopt(const endpoint& ep, expert_server_actor server);

  /// Forgets a connection whose node went away (next get() reconnects).
  void evict(const endpoint& ep);

  /// Marks `ep` lost: forgets its connection, reports node_down (endpoint,
  /// reason "connection_lost" or "hung", silent_ms when >= 0) unless it
  /// was lost already, and sends (lost_atom, ep, why) to the actors
  /// subscribed to it. Called when a proxy dies and when liveness says hung.
  void mark_lost(const endpoint& ep, const std::string& reason, double silent_ms = -1);

  /// True when the connection to `ep` was lost and not re-established.
  bool lost(const endpoint& ep) const;

  /// How many connections to `ep` were adopted into an empty slot so far
  /// (grows on every reconnect; a gate tells "connected again" by it).
  uint64_t connections(const endpoint& ep) const;

  /// `who` gets (lost_atom, endpoint, std::string why) when `ep` is marked
  /// lost, until unsubscribe(who). Dead subscribers are pruned.
  void subscribe(const endpoint& ep, const caf::actor_addr& who);

  /// Ends every subscription of `who`.
  void unsubscribe(const caf::actor_addr& who);

  /// Installs a delay/drop hook on outgoing requests (the paper's latency
  /// and failure experiments); nullptr removes it.
  void set_faults(std::shared_ptr<fault_injection> faults);

  /// The installed hook, or nullptr.
  std::shared_ptr<fault_injection> faults() const;

  caf::actor_system& system() { return sys_; }

  /// A second handle on the same connections (cache, subscriptions, fault
  /// hook) for an actor that may outlive this object, e.g. a fan-out whose
  /// caller gave up waiting. It does not stop the liveness prober.
  std::shared_ptr<node_connections> share() const;

private:
  struct shared_state {
    net::handle_cache<expert_server_actor> cache;
    mutable std::mutex mx; ///< guards the members below
    std::shared_ptr<fault_injection> faults;
    caf::actor liveness; ///< the prober, or null
    std::map<endpoint, std::vector<caf::actor_addr>> subscribers;
    std::map<endpoint, uint64_t> connections;
  };
  static void lose(shared_state& st, const endpoint& ep, const std::string& reason,
                   double silent_ms);
  node_connections(caf::actor_system& sys, std::shared_ptr<shared_state> st);
  caf::actor_system& sys_;
  std::shared_ptr<shared_state> st_;
  bool owner_ = true; ///< false for share()'s handles
};

/// One request of a fan-out: where it goes and what it carries.
struct expert_call {
  endpoint node;
  std::variant<forward_request, backward_request, info_request> request;
};

/// The answer to one expert_call.
using expert_answer = caf::expected<std::variant<forward_reply, backward_reply, expert_info>>;

/// Sends all `calls` at once and waits until each is answered or `timeout`
/// has passed since the first was sent; unanswered ones get errc::timeout.
/// With a fault hook installed, each request leaves after its sampled delay
/// and a dropped one fails as errc::timeout when the deadline passes. A
/// blocking wrapper (CLI, tests) over the actor fan-out of fanout.hpp.
std::vector<expert_answer> call_many(node_connections& conns, std::vector<expert_call> calls,
                                     caf::timespan timeout);

/// An expert `uid` served by the node at `node`.
class remote_expert {
public:
  remote_expert(node_connections& conns, endpoint node, std::string uid,
                caf::timespan timeout = std::chrono::seconds{10});

  /// The timeout of the calls from now on.
  void set_timeout(caf::timespan timeout) { timeout_ = timeout; }

  caf::expected<std::vector<tensor_blob>> forward(std::vector<tensor_blob> inputs);
  caf::expected<std::vector<tensor_blob>> backward(std::vector<tensor_blob> inputs,
                                                   std::vector<tensor_blob> grad_outputs);
  caf::expected<expert_info> info();

  const std::string& uid() const { return uid_; }
  const endpoint& node() const { return node_; }

private:
  expert_answer call(expert_call c);

  node_connections& conns_;
  endpoint node_;
  std::string uid_;
  caf::timespan timeout_;
};

/// Uids served by the node at `node`; connecting and the request share
/// `timeout`.
caf::expected<std::vector<std::string>> list_experts(node_connections& conns,
                                                     const endpoint& node,
                                                     caf::timespan timeout);

} // namespace colony
