// How a peer reaches other peers by endpoint: the seam between the peer
// logic and the network. io_transport (io_transport.hpp) connects over
// caf::io; sim_directory (sim_directory.hpp) is an in-process map for
// simulations. Both may carry a fault_injection hook that delays or drops
// the peer's outgoing requests and incoming replies.
#pragma once

#include <functional>
#include <memory>

#include <caf/expected.hpp>

#include "actors/dht/front.hpp"
#include "actors/dht/protocol.hpp"
#include "runtime/endpoint.hpp"
#include "runtime/fault_injection.hpp"

namespace colony::dht {

/// Resolves endpoints to peer handles. Shared by all peers of a process;
/// implementations are thread-safe.
class transport {
public:
  /// Receives the handle of a resolved peer (its published front, or the
  /// peer itself in a simulation), or errc::unreachable.
  using resolve_handler = std::function<void(caf::expected<peer_front_actor>)>;

  explicit transport(fault_config faults = {})
    : faults_(std::make_shared<fault_injection>(faults)) {
    // nop
  }

  virtual ~transport() = default;

  /// Finds the peer at `ep` on behalf of `self`, calling `done` exactly
  /// once, in `self`'s context or synchronously, within `timeout`.
  virtual void resolve(peer_actor::pointer self, const endpoint& ep,
                       caf::timespan timeout, resolve_handler done) = 0;

  /// Forgets a cached handle after a failed request to it.
  virtual void forget(const endpoint& ep) = 0;

  /// The delay/drop hook applied to every request and reply.
  fault_injection& faults() { return *faults_; }

private:
  std::shared_ptr<fault_injection> faults_;
};

} // namespace colony::dht
