#include "actors/dht/io_transport.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "messages/errc.hpp"

namespace colony::dht {

void io_transport::resolve(peer_actor::pointer self, const endpoint& ep,
                           caf::timespan timeout, resolve_handler done) {
  {
    std::lock_guard<std::mutex> guard{mx_};
    auto i = cache_.find(ep);
    if (i != cache_.end()) {
      done(i->second);
      return;
    }
  }
  auto unreachable = [ep](const std::string& why) {
    return make_error(errc::unreachable, "cannot connect to DHT peer " + ep.to_string() + ": "
                                           + why);
  };
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, timeout, caf::connect_atom::value, ep.host, ep.port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
        if (!ptr || !self->system().assignable<peer_actor>(ifs)) {
          done(unreachable("no DHT peer published there"));
          return;
        }
        auto peer = caf::actor_cast<peer_actor>(std::move(ptr));
        remember(ep, peer);
        done(std::move(peer));
      },
      [=](caf::error& err) { done(unreachable(self->system().render(err))); });
}

void io_transport::forget(const endpoint& ep) {
  std::lock_guard<std::mutex> guard{mx_};
  cache_.erase(ep);
}

void io_transport::remember(const endpoint& ep, const peer_actor& peer) {
  std::lock_guard<std::mutex> guard{mx_};
  cache_.emplace(ep, peer);
}

} // namespace colony::dht
