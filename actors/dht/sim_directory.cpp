// sim_directory: the endpoint map, and the silent front of vanished peers.
#include "actors/dht/sim_directory.hpp"

#include <mutex>

#include <caf/actor_cast.hpp>
#include <caf/all.hpp>

#include "messages/errc.hpp"

namespace colony::dht {

namespace {

/// Every handler claims to have delegated its request, so CAF sends no
/// reply and keeps nothing: the requester waits for its own timeout.
peer_front_actor::behavior_type silent_front(peer_front_actor::pointer) {
  return {
    [](dht_ping&) -> caf::result<dht_pong> { return caf::delegated<dht_pong>{}; },
    [](dht_store_request&) -> caf::result<dht_store_reply> {
      return caf::delegated<dht_store_reply>{};
    },
    [](dht_find_request&) -> caf::result<dht_find_reply> {
      return caf::delegated<dht_find_reply>{};
    },
    [](dht_put_request&) -> caf::result<dht_put_reply> {
      return caf::delegated<dht_put_reply>{};
    },
    [](dht_get_request&) -> caf::result<dht_get_reply> {
      return caf::delegated<dht_get_reply>{};
    },
    [](stats_atom) -> caf::result<dht_peer_stats> { return caf::delegated<dht_peer_stats>{}; },
  };
}

} // namespace

void sim_directory::add(const endpoint& ep, peer_actor peer) {
  std::unique_lock<std::shared_mutex> guard{mx_};
  vanished_.erase(ep);
  peers_[ep] = caf::actor_cast<caf::weak_actor_ptr>(peer);
}

void sim_directory::remove(const endpoint& ep) {
  std::unique_lock<std::shared_mutex> guard{mx_};
  vanished_.erase(ep);
  peers_.erase(ep);
}

void sim_directory::vanish(const endpoint& ep, peer_front_actor silent) {
  std::unique_lock<std::shared_mutex> guard{mx_};
  peers_.erase(ep);
  vanished_[ep] = std::move(silent);
}

void sim_directory::resolve(peer_actor::pointer, const endpoint& ep, caf::timespan,
                            resolve_handler done) {
  peer_front_actor found;
  {
    std::shared_lock<std::shared_mutex> guard{mx_};
    if (auto i = peers_.find(ep); i != peers_.end()) {
      if (auto peer = caf::actor_cast<peer_actor>(i->second.lock()))
        found = peer_front_actor{peer};
    } else if (auto j = vanished_.find(ep); j != vanished_.end()) {
      found = j->second;
    }
  }
  if (found)
    done(found);
  else
    done(make_error(errc::unreachable, "no simulated DHT peer at " + ep.to_string()));
}

peer_front_actor spawn_silent_front(caf::actor_system& sys) {
  return sys.spawn(silent_front);
}

} // namespace colony::dht
