// The peer_actor's behavior: a dispatch table onto peer_state.
#include <caf/all.hpp>

#include "actors/dht/peer_state.hpp"

namespace colony::dht {

namespace {

peer_actor::behavior_type peer_behavior(peer_state::pointer self, peer_config cfg,
                                        std::shared_ptr<transport> net) {
  auto& st = self->state;
  st.init(std::move(cfg), std::move(net));
  return {
    [&st](const dht_ping& req) { return st.on_ping(req); },
    [&st](const dht_store_request& req) { return st.on_store(req); },
    [&st](const dht_find_request& req) { return st.on_find(req); },
    [&st](const dht_bootstrap_request& req) { return st.bootstrap(req); },
    [&st](const dht_put_request& req) { return st.put(req); },
    [&st](const dht_get_request& req) { return st.get(req); },
    [&st](stats_atom) { return st.stats(); },
    [&st](tick_atom) { st.tick(); },
    [&st](defer_atom, uint64_t id) { st.run_deferred(id); },
  };
}

} // namespace

peer_actor spawn_peer(caf::actor_system& sys, peer_config cfg, std::shared_ptr<transport> net) {
  return sys.spawn(peer_behavior, std::move(cfg), std::move(net));
}

} // namespace colony::dht
