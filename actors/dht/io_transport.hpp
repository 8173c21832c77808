// The transport over caf::io: connects to the front (front.hpp) published
// at an endpoint through the middleman actor, asynchronously (no scheduler thread
// blocks in a connect), and caches one handle per endpoint. Connect and
// cache are the shared client module (actors/client/connect.hpp).
#pragma once

#include "actors/client/connect.hpp"
#include "actors/dht/transport.hpp"

namespace colony::dht {

/// Endpoint -> remote peer handle cache shared by the peers of a process.
class io_transport : public transport {
public:
  explicit io_transport(fault_config faults = {}) : transport(faults) {}

  void resolve(peer_actor::pointer self, const endpoint& ep, caf::timespan timeout,
               resolve_handler done) override;

  void forget(const endpoint& ep) override;

private:
  net::handle_cache<peer_front_actor> cache_;
};

} // namespace colony::dht
