// search_gate: one search = borrow a peer, read its RPC counter, run the
// beam search rounds (one batched get per grid dimension), read the
// counter again, score the result, give the peer back, repeat.
#include "bench/experiments/swarm/search_gate.hpp"

#include <random>

#include <caf/all.hpp>

#include "actors/dht/async_get.hpp"
#include "actors/dht/expert_directory.hpp"
#include "messages/atoms.hpp"

namespace colony::swarm_exp {

namespace {

using steady = std::chrono::steady_clock;
using next_atom = caf::atom_constant<caf::atom("next")>;

double ms_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct gate_state {
  static inline const char* name = "swarm_gate";

  caf::event_based_actor* self = nullptr;
  std::shared_ptr<gate_context> ctx;
  std::mt19937_64 rng;
  // The search in flight.
  size_t peer_index = 0;
  dht::peer_actor peer;
  std::unique_ptr<gate::beam_search> search;
  std::vector<float> scores;
  steady::time_point start;
  steady::time_point deadline;
  uint64_t rpcs_before = 0;
  search_record rec;
  double hops_sum = 0;
  steady::time_point began;  ///< when the search in flight was started
  bool counted = false;      ///< rpcs_before holds this search's reading

  caf::timespan left() const {
    return std::max(caf::timespan{1}, std::chrono::duration_cast<caf::timespan>(
                                        deadline - steady::now()));
  }

  void next() {
    if (ctx->stop) {
      --ctx->active;
      self->quit();
      return;
    }
    auto borrowed = ctx->w->borrow(rng);
    if (!borrowed) {
      self->delayed_send(self, std::chrono::milliseconds{50}, next_atom::value);
      return;
    }
    std::tie(peer_index, peer) = *borrowed;
    began = steady::now();
    counted = false;
    std::normal_distribution<float> normal;
    size_t row = 0;
    for (auto d : ctx->cfg.grid)
      row += d;
    scores.resize(row);
    for (auto& x : scores)
      x = normal(rng);
    search = std::make_unique<gate::beam_search>(
      gate::grid_spec{ctx->cfg.prefix, ctx->cfg.grid}, std::vector<std::vector<float>>{scores},
      ctx->cfg.k_best, ctx->cfg.beam_size);
    rec = {};
    hops_sum = 0;
    auto timeout = std::chrono::duration<double>{ctx->cfg.search_timeout_s};
    self->request(peer, std::chrono::seconds{5}, stats_atom::value)
      .then(
        [this, timeout](dht_peer_stats& st) {
          rpcs_before = st.rpcs_sent;
          counted = true;
          start = steady::now();
          deadline = start + std::chrono::duration_cast<steady::duration>(timeout);
          round();
        },
        [this](caf::error&) { finish(false); });
  }

  void round() {
    auto keys = search->pending_keys();
    rec.keys += static_cast<uint32_t>(keys.size());
    dht::get_async(self, peer, keys, left(),
                   [this, keys](caf::expected<std::vector<dht_get_result>> results) {
                     if (!results)
                       return finish(false);
                     std::map<std::string, gate::successor_map> found;
                     for (size_t i = 0; i < keys.size() && i < results->size(); ++i) {
                       hops_sum += (*results)[i].hops;
                       auto succ = dht::successors(keys[i], (*results)[i]);
                       if (!succ.empty())
                         found.emplace(keys[i], std::move(succ));
                     }
                     search->feed(found);
                     if (search->done())
                       return finish(true);
                     round();
                   });
  }

  void finish(bool ok) {
    auto end = steady::now();
    rec.ok = ok;
    rec.ms = ok ? ms_between(start, end) : ctx->cfg.search_timeout_s * 1000;
    rec.t_s = ms_between(ctx->t0, end) / 1000;
    rec.hops = rec.keys == 0 ? 0 : hops_sum / rec.keys;
    if (ok)
      ctx->w->score(scores, search->result().at(0), rec);
    self->request(peer, std::chrono::seconds{5}, stats_atom::value)
      .then(
        [this](dht_peer_stats& st) {
          rec.rpcs = counted && st.rpcs_sent >= rpcs_before ? st.rpcs_sent - rpcs_before : 0;
          done();
        },
        [this](caf::error&) { done(); });
  }

  void done() {
    ctx->w->record(rec);
    ctx->w->give_back(peer_index);
    auto period = std::chrono::duration_cast<steady::duration>(
      std::chrono::duration<double>{ctx->cfg.search_period_s});
    auto wait = began + period - steady::now();
    if (wait.count() > 0 && !ctx->stop)
      self->delayed_send(self, wait, next_atom::value);
    else
      next();
  }
};

} // namespace

caf::actor spawn_search_gate(caf::actor_system& sys, std::shared_ptr<gate_context> ctx,
                             uint64_t seed) {
  ++ctx->active;
  return sys.spawn([ctx, seed](caf::stateful_actor<gate_state>* self) -> caf::behavior {
    auto& st = self->state;
    st.self = self;
    st.ctx = ctx;
    st.rng.seed(seed);
    // A random phase in [0, search_period_s), so that the gates spread out.
    std::uniform_real_distribution<double> phase{0, ctx->cfg.search_period_s};
    self->delayed_send(self,
                       std::chrono::duration_cast<caf::timespan>(
                         std::chrono::duration<double>{phase(st.rng)}),
                       next_atom::value);
    return {
      [self](next_atom) { self->state.next(); },
    };
  });
}

} // namespace colony::swarm_exp
