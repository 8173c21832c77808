#include "actors/dht/declarer.hpp"

#include <algorithm>
#include <set>

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
  bool again = false; ///< a wake came while a round was in flight
  std::vector<std::string> uids; ///< of the round in flight (or the last one)
  std::set<std::string> withdraw; ///< dropped from the source, to withdraw
  std::vector<std::string> withdrawing; ///< of the round in flight
  bool left = false; ///< after leave: declares nothing more
  double declared_until = 0; ///< the latest expiration declared

  explicit declarer_state(declarer_actor::stateful_pointer<declarer_state> ptr) : self(ptr) {}

  caf::timespan period() const {
    return std::chrono::duration_cast<caf::timespan>(
      std::chrono::duration<double>{cfg.update_period_s});
  }

  void tick() {
    self->delayed_send(self, period(), tick_atom::value);
    declare();
  }

  void declare() {
    if (left)
      return;
    if (in_flight) {
      again = true;
      return;
    }
    auto previous = std::move(uids);
    uids = cfg.uids_source ? cfg.uids_source() : cfg.uids;
    withdraw.insert(previous.begin(), previous.end());
    for (auto& uid : uids)
      withdraw.erase(uid);
    withdrawing.assign(withdraw.begin(), withdraw.end());
    if (uids.empty() && withdrawing.empty())
      return;
    auto expiration = cfg.clock() + cfg.expiration_s;
    declared_until = std::max(declared_until, expiration);
    auto items = declaration_items(uids, cfg.expert_ep, expiration, *cfg.owner);
    auto gone = withdrawal_items(withdrawing, expiration, *cfg.owner);
    if (!items || !gone) {
      auto err = items ? gone.error() : items.error();
      log::get("dht")->error("event=declare_failed error=\"{}\"", describe(err));
      return;
    }
    items->insert(items->end(), gone->begin(), gone->end());
    in_flight = true;
    auto start = std::chrono::steady_clock::now();
    self->request(peer, period(), dht_put_request{std::move(*items)})
      .then([this, start](dht_put_reply& reply) { done(reply, start); },
            [this](caf::error& err) { failed(err); });
  }

  /// Ends a round; runs the one a wake asked for meanwhile.
  void round_over() {
    in_flight = false;
    ++rounds;
    if (again) {
      again = false;
      declare();
    }
  }

  void done(const dht_put_reply& reply, std::chrono::steady_clock::time_point start) {
    uint64_t acks = 0;
    for (auto n : reply.acks)
      acks += n;
    auto n = std::min(uids.size(), reply.acks.size());
    auto min_acks = n == 0 ? 0 : *std::min_element(reply.acks.begin(), reply.acks.begin() + n);
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
    log::get("dht")->info("event=declare experts={} withdrawn={} acks={} min_acks={} "
                          "took_ms={:.1f}",
                          uids.size(), withdrawing.size(), acks, min_acks, ms.count());
    for (auto& uid : withdrawing)
      withdraw.erase(uid); // stored; a failed round keeps them for the next
    round_over();
  }

  /// Withdraws every uid declared so far or still to declare.
  caf::result<uint64_t> leave() {
    left = true;
    std::set<std::string> all{uids.begin(), uids.end()};
    all.insert(withdraw.begin(), withdraw.end());
    for (auto& uid : cfg.uids_source ? cfg.uids_source() : cfg.uids)
      all.insert(uid);
    std::vector<std::string> gone{all.begin(), all.end()};
    // Newer than every declaration, even on a clock that did not move.
    auto expiration = std::max(cfg.clock() + cfg.expiration_s, declared_until + 1e-3);
    auto items = withdrawal_items(gone, expiration, *cfg.owner);
    if (!items)
      return items.error();
    if (items->empty())
      return uint64_t{0};
    auto rp = self->make_response_promise<uint64_t>();
    self->request(peer, period(), dht_put_request{std::move(*items)})
      .then([rp, n = gone.size()](dht_put_reply&) mutable { rp.deliver(uint64_t{n}); },
            [rp](caf::error& err) mutable { rp.deliver(err); });
    return rp;
  }

  void failed(const caf::error& err) {
    log::get("dht")->warn("event=declare_failed experts={} error=\"{}\"", uids.size(),
                          describe(err));
    round_over();
  }
};

declarer_actor::behavior_type declarer(declarer_actor::stateful_pointer<declarer_state> self,
                                       peer_actor peer, declarer_config cfg) {
  self->state.peer = std::move(peer);
  self->state.cfg = std::move(cfg);
  self->send(self, tick_atom::value);
  return {
    [self](tick_atom) { self->state.tick(); },
    [self](wake_atom) { self->state.declare(); },
    [self](stats_atom) { return self->state.rounds; },
    [self](leave_atom) { return self->state.leave(); },
  };
}

} // namespace

void leave(caf::actor_system& sys, const declarer_actor& d, caf::timespan timeout) {
  auto start = std::chrono::steady_clock::now();
  caf::scoped_actor self{sys};
  self->request(d, timeout, leave_atom::value)
    .receive(
      [&](uint64_t n) {
        auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now()
                                                            - start);
        log::get("dht")->info("event=leave withdrawn={} took_ms={:.1f}", n, ms.count());
      },
      [&](caf::error& err) {
        log::get("dht")->warn("event=leave_failed error=\"{}\"", describe(err));
      });
}

declarer_actor spawn_declarer(caf::actor_system& sys, peer_actor peer, declarer_config cfg) {
  if (!cfg.owner)
    cfg.owner = std::make_shared<const identity::node_key>(identity::node_key::generate());
  return sys.spawn(declarer, std::move(peer), std::move(cfg));
}

} // namespace colony::dht
