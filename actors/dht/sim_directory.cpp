#include "actors/dht/sim_directory.hpp"

#include <mutex>

#include <caf/actor_cast.hpp>

#include "messages/errc.hpp"

namespace colony::dht {

void sim_directory::add(const endpoint& ep, peer_actor peer) {
  std::unique_lock<std::shared_mutex> guard{mx_};
  peers_[ep] = caf::actor_cast<caf::weak_actor_ptr>(peer);
}

void sim_directory::remove(const endpoint& ep) {
  std::unique_lock<std::shared_mutex> guard{mx_};
  peers_.erase(ep);
}

void sim_directory::resolve(peer_actor::pointer, const endpoint& ep, caf::timespan,
                            resolve_handler done) {
  peer_actor found;
  {
    std::shared_lock<std::shared_mutex> guard{mx_};
    auto i = peers_.find(ep);
    if (i != peers_.end())
      found = caf::actor_cast<peer_actor>(i->second.lock());
  }
  if (found)
    done(peer_front_actor{found});
  else
    done(make_error(errc::unreachable, "no simulated DHT peer at " + ep.to_string()));
}

} // namespace colony::dht
