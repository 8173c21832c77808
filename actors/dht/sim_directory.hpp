// An in-process transport for simulations: peers registered by endpoint in
// one shared map, with the delay/drop hook of runtime/fault_injection on
// every request and reply. It holds its peers weakly (their owner keeps
// them alive); a killed peer fails to resolve, like a vanished host whose
// port refuses connections.
#pragma once

#include <shared_mutex>
#include <unordered_map>

#include <caf/weak_intrusive_ptr.hpp>

#include "actors/dht/transport.hpp"

namespace colony::dht {

/// Endpoint -> peer handle map shared by the peers of one process.
class sim_directory : public transport {
public:
  explicit sim_directory(fault_config faults = {}) : transport(faults) {}

  /// Registers `peer` under `ep` (replacing any earlier one).
  void add(const endpoint& ep, peer_actor peer);

  /// Unregisters `ep`: later resolves fail with errc::unreachable.
  void remove(const endpoint& ep);

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
};

} // namespace colony::dht
