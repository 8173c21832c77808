#include "actors/client/liveness.hpp"

#include <map>
#include <optional>

#include <caf/all.hpp>

#include "actors/client/connect.hpp"
#include "runtime/logging.hpp"

namespace colony {

namespace {

using time_point = caf::actor_clock::time_point;

struct watched {
  expert_server_actor server;
  time_point since;
  std::optional<time_point> last_reply;
  uint64_t generation = 0;
};

struct liveness_state {
  liveness_config cfg;
  hung_fn on_hung;
  std::map<endpoint, watched> peers;
  uint64_t generation = 0;
  static inline const char* name = "colony.liveness";
};

using liveness_pointer = caf::stateful_actor<liveness_state>*;

double ms_between(time_point a, time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

void probe(liveness_pointer self) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto timeout = std::chrono::milliseconds{st.cfg.timeout_ms};
  auto first = std::chrono::milliseconds{st.cfg.first_reply_ms};
  auto wait = std::max(timeout, first);
  for (auto i = st.peers.begin(); i != st.peers.end();) {
    auto& w = i->second;
    auto silent_since = w.last_reply ? *w.last_reply : w.since;
    auto limit = w.last_reply ? caf::timespan{timeout} : caf::timespan{first};
    if (now - silent_since > limit) {
      auto ep = i->first;
      auto silent = ms_between(silent_since, now);
      i = st.peers.erase(i);
      if (st.on_hung)
        st.on_hung(ep, silent);
      continue;
    }
    auto ep = i->first;
    auto gen = w.generation;
    self->request(w.server, wait, ping_atom::value)
      .then(
        [self, ep, gen](uint64_t) {
          auto j = self->state.peers.find(ep);
          if (j == self->state.peers.end() || j->second.generation != gen)
            return;
          if (!j->second.last_reply) // once per connection: it is watched from now on
            log::get("net")->info("event=node_alive endpoint={}", ep.to_string());
          j->second.last_reply = self->clock().now();
        },
        [self, ep, gen](caf::error& err) {
          // A dropped connection is node_connections' business (the
          // proxy's death marks it lost); a timeout is judged by silence.
          if (!net::is_connection_loss(err))
            return;
          auto j = self->state.peers.find(ep);
          if (j != self->state.peers.end() && j->second.generation == gen)
            self->state.peers.erase(j);
        });
    ++i;
  }
}

caf::behavior liveness_actor(liveness_pointer self, liveness_config cfg, hung_fn on_hung) {
  self->state.cfg = cfg;
  self->state.on_hung = std::move(on_hung);
  auto interval = std::chrono::milliseconds{std::max<uint32_t>(cfg.interval_ms, 1)};
  self->delayed_send(self, interval, tick_atom::value);
  return {
    [self](watch_atom, const endpoint& ep, expert_server_actor& server) {
      auto& st = self->state;
      st.peers[ep] = watched{std::move(server), self->clock().now(), std::nullopt,
                             ++st.generation};
    },
    [self, interval](tick_atom) {
      if (self->current_sender() != caf::actor_cast<caf::strong_actor_ptr>(self))
        return; // only its own timer drives it
      probe(self);
      self->delayed_send(self, interval, tick_atom::value);
    },
    [self](stop_atom) { self->quit(); },
  };
}

} // namespace

caf::actor spawn_liveness(caf::actor_system& sys, liveness_config cfg, hung_fn on_hung) {
  return sys.spawn(liveness_actor, cfg, std::move(on_hung));
}

} // namespace colony
