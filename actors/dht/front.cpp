// The front's behavior: every message delegated to the peer, which then
// answers the original sender directly.
#include "actors/dht/front.hpp"

#include <caf/all.hpp>

namespace colony::dht {

namespace {

peer_front_actor::behavior_type front(peer_front_actor::pointer self, peer_actor peer) {
  self->monitor(peer);
  self->set_down_handler([=](caf::down_msg& msg) { self->quit(msg.reason); });
  return {
    [=](dht_ping& x) { return self->delegate(peer, std::move(x)); },
    [=](dht_store_request& x) { return self->delegate(peer, std::move(x)); },
    [=](dht_find_request& x) { return self->delegate(peer, std::move(x)); },
    [=](dht_put_request& x) { return self->delegate(peer, std::move(x)); },
    [=](dht_get_request& x) { return self->delegate(peer, std::move(x)); },
    [=](stats_atom x) { return self->delegate(peer, x); },
  };
}

} // namespace

peer_front_actor spawn_peer_front(caf::actor_system& sys, peer_actor peer) {
  return sys.spawn(front, std::move(peer));
}

} // namespace colony::dht
