#include "actors/trainer/trainer_actor.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "runtime/logging.hpp"
#include "runtime/quantile.hpp"

namespace colony::trainer {

namespace {

using clock = std::chrono::steady_clock;

constexpr size_t max_window_latencies = 100000;

/// One chain: a replica of the model and its own batch sampler; touched
/// only by its pool job, one at a time.
struct chain {
  model replica{nullptr};
  std::unique_ptr<batch_sampler> sampler;
  std::shared_future<void> last_submit; ///< its previous gradient, until applied
};

/// The torch side of a trainer: its chains.
struct trainer_core {
  trainer_setup setup;
  std::vector<chain> chains;

  /// One micro-batch on chain `c` against the model's newest version.
  step_report run(uint32_t c) {
    auto& ch = chains[c];
    auto& owner = *setup.owner;
    step_report r;
    r.chain = c;
    try {
      // The chain's previous gradient is applied (accumulated, or stepped
      // with accumulate 1) before it reads a version: its next gradient is
      // never stale by its own previous one, and at most one gradient per
      // chain waits for the owner, so memory stays bounded by the chains
      // even when the owner falls behind.
      if (ch.last_submit.valid()
          && ch.last_submit.wait_for(std::chrono::seconds{60}) != std::future_status::ready)
        throw std::runtime_error("the model's owner did not apply a gradient within 60 s");
      r.version = owner.bind(*ch.replica);
      auto [x, y] = ch.sampler->next();
      auto loss = torch::nn::functional::cross_entropy(ch.replica->forward(x), y);
      loss.backward();
      r.loss = loss.item<double>();
      r.samples = static_cast<uint64_t>(x.size(0));
      ch.last_submit = owner.submit(shared_model::take_gradients(*ch.replica, r.version,
                                                                 r.samples));
    } catch (const std::exception& e) {
      ch.replica->zero_grad();
      r.failed = true;
      r.error = e.what();
    }
    auto s = ch.replica->take_stats();
    r.asked = s.asked + s.backward_asked;
    r.answered = s.answered + s.backward_answered;
    r.timeouts = s.timeouts;
    r.anomalies = s.anomalies;
    r.short_samples = s.short_samples;
    r.lost_gradients = s.backward_missing;
    r.latency_ms = std::move(s.latency_ms);
    return r;
  }
};

struct trainer_state {
  std::shared_ptr<trainer_core> core;
  trainer_summary summary;
  std::vector<caf::typed_response_promise<trainer_summary>> waiters;
  bool running = false;
  bool stopping = false;
  bool finished = false;
  uint64_t launched = 0;   ///< steps started (done + in flight)
  uint32_t in_flight = 0;
  clock::time_point started, window_start;
  uint64_t window_samples = 0, window_failed = 0;
  double window_loss = 0;
  uint64_t window_steps = 0;
  step_report window;
  std::shared_ptr<spdlog::logger> log = log::get("trainer");
  static inline const char* name = "colony.trainer";
};

using trainer_pointer = trainer_actor::stateful_pointer<trainer_state>;

void post(trainer_pointer self, uint32_t c) {
  auto core = self->state.core;
  auto me = caf::actor_cast<trainer_actor>(self);
  ++self->state.launched;
  ++self->state.in_flight;
  core->setup.pool->post([core, me, c] { caf::anon_send(me, core->run(c)); });
}

/// One progress line over the steps since the last one.
void log_progress(trainer_pointer self, const step_report& r) {
  auto& st = self->state;
  auto secs = std::chrono::duration<double>(clock::now() - st.window_start).count();
  st.log->info("trainer={} step={} loss={:.4f} samples_per_s={:.1f} experts_asked={} "
               "experts_answered={} p50_ms={:.2f} p95_ms={:.2f} timeouts={} anomalies={} "
               "short_samples={} lost_gradients={} failed_steps={} version={}",
               st.summary.index, st.summary.steps,
               st.window_steps ? st.window_loss / static_cast<double>(st.window_steps) : 0.0,
               secs > 0 ? static_cast<double>(st.window_samples) / secs : 0.0, st.window.asked,
               st.window.answered, quantile(st.window.latency_ms, 0.5),
               quantile(st.window.latency_ms, 0.95), st.window.timeouts, st.window.anomalies,
               st.window.short_samples, st.window.lost_gradients, st.summary.failed_steps,
               r.version);
  st.window_start = clock::now();
  st.window_samples = st.window_steps = 0;
  st.window_loss = 0;
  st.window = step_report{};
}

void finish(trainer_pointer self) {
  auto& st = self->state;
  st.finished = true;
  st.summary.seconds = std::chrono::duration<double>(clock::now() - st.started).count();
  st.log->info("trainer={} event=finished steps={} failed_steps={} seconds={:.1f}",
               st.summary.index, st.summary.steps, st.summary.failed_steps, st.summary.seconds);
  for (auto& w : st.waiters)
    w.deliver(st.summary);
  st.waiters.clear();
}

/// Launches chain `c`'s next step, or finishes when nothing is left.
void next(trainer_pointer self, uint32_t c) {
  auto& st = self->state;
  if (!st.stopping && st.launched < st.core->setup.cfg.steps)
    return post(self, c);
  if (st.in_flight == 0 && !st.finished)
    finish(self);
}

void on_report(trainer_pointer self, const step_report& r) {
  auto& st = self->state;
  auto& cfg = st.core->setup.cfg;
  --st.in_flight;
  st.summary.steps = ++*st.core->setup.steps_done;
  if (r.failed) {
    ++st.summary.failed_steps;
    st.log->warn("trainer={} step={} event=step_failed error=\"{}\"", st.summary.index,
                 st.summary.steps, r.error);
  } else {
    st.summary.samples += r.samples;
    st.summary.last_loss = r.loss;
    st.window_loss += r.loss;
    ++st.window_steps;
    st.window_samples += r.samples;
  }
  st.summary.requests += r.asked;
  st.summary.timeouts += r.timeouts;
  st.summary.lost_gradients += r.lost_gradients;
  st.window.asked += r.asked;
  st.window.answered += r.answered;
  st.window.timeouts += r.timeouts;
  st.window.anomalies += r.anomalies;
  st.window.short_samples += r.short_samples;
  st.window.lost_gradients += r.lost_gradients;
  // Bounded: the percentiles of a long window come from its first 100k.
  auto room = std::min(r.latency_ms.size(), max_window_latencies - std::min(
                                              max_window_latencies, st.window.latency_ms.size()));
  st.window.latency_ms.insert(st.window.latency_ms.end(), r.latency_ms.begin(),
                              r.latency_ms.begin() + static_cast<std::ptrdiff_t>(room));
  if (st.summary.steps % cfg.log_every == 0)
    log_progress(self, r);
  next(self, r.chain);
}

} // namespace

trainer_actor spawn_trainer(caf::actor_system& sys, trainer_setup setup) {
  auto core = std::make_shared<trainer_core>();
  auto& cfg = setup.cfg;
  auto chains = std::max<uint32_t>(1, cfg.in_flight);
  for (uint32_t c = 0; c < chains; ++c) {
    chain ch;
    ch.replica = setup.make_replica();
    ch.sampler = std::make_unique<batch_sampler>(
      setup.train, cfg.batch_size, cfg.sampler_seed() + setup.index + uint64_t{1000003} * c);
    core->chains.push_back(std::move(ch));
  }
  core->setup = std::move(setup);
  return sys.spawn([core](trainer_pointer self) -> trainer_actor::behavior_type {
    self->state.core = core;
    self->state.summary.index = core->setup.index;
    self->state.launched = core->setup.steps_done->load();
    return {
      [=](run_atom) -> caf::result<trainer_summary> {
        auto& st = self->state;
        if (st.finished)
          return st.summary;
        auto rp = self->make_response_promise<trainer_summary>();
        st.waiters.push_back(rp);
        if (!st.running) {
          st.running = true;
          st.started = st.window_start = clock::now();
          st.summary.steps = core->setup.steps_done->load();
          for (uint32_t c = 0; c < core->chains.size(); ++c)
            next(self, c);
        }
        return rp;
      },
      [=](stop_atom) { self->state.stopping = true; },
      [=](step_report& r) { on_report(self, r); },
    };
  });
}

} // namespace colony::trainer
