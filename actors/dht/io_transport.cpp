#include "actors/dht/io_transport.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

namespace colony::dht {

void io_transport::resolve(peer_actor::pointer self, const endpoint& ep,
                           caf::timespan timeout, resolve_handler done) {
  if (auto peer = cache_.find(ep)) {
    done(*peer);
    return;
  }
  auto on_connect = [this, ep, done](caf::expected<peer_front_actor> peer) {
    if (peer)
      cache_.put(ep, *peer);
    done(std::move(peer));
  };
  net::connect_async<peer_front_actor>(self, ep, timeout, "DHT peer", std::move(on_connect));
}

void io_transport::forget(const endpoint& ep) {
  cache_.erase(ep);
}

} // namespace colony::dht
