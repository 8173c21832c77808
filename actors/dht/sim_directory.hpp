// An in-process transport for simulations: peers registered by endpoint in
// one shared map, with the delay/drop hook of runtime/fault_injection on
// every request and reply. It holds its peers weakly (their owner keeps
// them alive). Two ways to leave: a removed (or killed) peer fails to
// resolve, like a host whose port refuses connections; a vanished one
// still resolves, to a silent front that takes every request and never
// answers, like a host that stopped answering (the requester's own timeout
// fires).
#pragma once

#include <shared_mutex>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/weak_intrusive_ptr.hpp>

#include "actors/dht/transport.hpp"

namespace colony::dht {

/// Endpoint -> peer handle map shared by the peers of one process.
class sim_directory : public transport {
public:
  explicit sim_directory(fault_config faults = {}) : transport(faults) {}

  /// Registers `peer` under `ep` (replacing any earlier or vanished one).
  void add(const endpoint& ep, peer_actor peer);

  /// Unregisters `ep`: later resolves fail with errc::unreachable.
  void remove(const endpoint& ep);

  /// Makes `ep` vanish: later resolves hand out `silent` (see
  /// spawn_silent_front), so requests to `ep` end only by their timeout.
  void vanish(const endpoint& ep, peer_front_actor silent);

  void resolve(peer_actor::pointer self, const endpoint& ep, caf::timespan timeout,
               resolve_handler done) override;

  void forget(const endpoint&) override {
    // nop: handles of an in-process directory do not go stale
  }

private:
  struct endpoint_hash {
    size_t operator()(const endpoint& ep) const {
      return std::hash<std::string>{}(ep.host) * 31 + ep.port;
    }
  };

  mutable std::shared_mutex mx_;
  std::unordered_map<endpoint, caf::weak_actor_ptr, endpoint_hash> peers_;
  std::unordered_map<endpoint, peer_front_actor, endpoint_hash> vanished_;
};

/// A front that accepts every message of peer_front_actor and never
/// replies (nothing is kept per request). One can stand in for any number
/// of vanished endpoints; stop it with an exit message.
peer_front_actor spawn_silent_front(caf::actor_system& sys);

} // namespace colony::dht
