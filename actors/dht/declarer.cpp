#include "actors/dht/declarer.hpp"

#include <caf/all.hpp>

#include "actors/dht/expert_directory.hpp"
#include "messages/errc.hpp"
#include "runtime/logging.hpp"

namespace colony::dht {

namespace {

/// The declarer's state: its settings, its peer and its round counter.
struct declarer_state {
  static inline const char* name = "dht_declarer";

  declarer_actor::stateful_pointer<declarer_state> self;
  peer_actor peer;
  declarer_config cfg;
  uint64_t rounds = 0;
  bool in_flight = false;

  explicit declarer_state(declarer_actor::stateful_pointer<declarer_state> ptr) : self(ptr) {}

  caf::timespan period() const {
    return std::chrono::duration_cast<caf::timespan>(
      std::chrono::duration<double>{cfg.update_period_s});
  }

  void declare() {
    self->delayed_send(self, period(), tick_atom::value);
    if (in_flight)
      return;
    auto items = declaration_items(cfg.uids, cfg.expert_ep, cfg.clock() + cfg.expiration_s);
    if (!items) {
      log::get("dht")->error("event=declare_failed error=\"{}\"", describe(items.error()));
      return;
    }
    in_flight = true;
    auto start = std::chrono::steady_clock::now();
    self->request(peer, period(), dht_put_request{std::move(*items)})
      .then([this, start](dht_put_reply& reply) { done(reply, start); },
            [this](caf::error& err) { failed(err); });
  }

  void done(const dht_put_reply& reply, std::chrono::steady_clock::time_point start) {
    in_flight = false;
    ++rounds;
    uint64_t acks = 0;
    for (auto n : reply.acks)
      acks += n;
    auto n = std::min(cfg.uids.size(), reply.acks.size());
    auto min_acks = n == 0 ? 0 : *std::min_element(reply.acks.begin(), reply.acks.begin() + n);
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
    log::get("dht")->info("event=declare experts={} acks={} min_acks={} took_ms={:.1f}",
                          cfg.uids.size(), acks, min_acks, ms.count());
  }

  void failed(const caf::error& err) {
    in_flight = false;
    ++rounds;
    log::get("dht")->warn("event=declare_failed experts={} error=\"{}\"", cfg.uids.size(),
                          describe(err));
  }
};

declarer_actor::behavior_type declarer(declarer_actor::stateful_pointer<declarer_state> self,
                                       peer_actor peer, declarer_config cfg) {
  self->state.peer = std::move(peer);
  self->state.cfg = std::move(cfg);
  self->send(self, tick_atom::value);
  return {
    [self](tick_atom) { self->state.declare(); },
    [self](stats_atom) { return self->state.rounds; },
  };
}

} // namespace

declarer_actor spawn_declarer(caf::actor_system& sys, peer_actor peer, declarer_config cfg) {
  return sys.spawn(declarer, std::move(peer), std::move(cfg));
}

} // namespace colony::dht
