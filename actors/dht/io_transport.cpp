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
  net::connect_async<peer_actor>(self, ep, timeout, "DHT peer",
                                 [this, ep, done](caf::expected<peer_actor> peer) {
                                   if (peer)
                                     cache_.put(ep, *peer);
                                   done(std::move(peer));
                                 });
}

void io_transport::forget(const endpoint& ep) {
  cache_.erase(ep);
}

} // namespace colony::dht
