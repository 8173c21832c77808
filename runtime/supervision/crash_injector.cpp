#include "runtime/supervision/crash_injector.hpp"

#include <chrono>
#include <random>
#include <string>

#include <caf/all.hpp>

#include "messages/errc.hpp"
#include "runtime/supervision/report.hpp"

namespace colony::supervision {

namespace {

using crash_atom = caf::atom_constant<caf::atom("crash")>;

struct crash_injector_state {
  double rate_per_min = 0;
  std::mt19937_64 rng;
  victims_fn victims;
  uint64_t kills = 0;

  static inline const char* name = "crash_injector";
};

using injector_pointer = caf::stateful_actor<crash_injector_state>*;

/// Arms the timer of the next kill: exponential with mean 60 / rate s.
void schedule_next(injector_pointer self) {
  auto& st = self->state;
  auto seconds = std::exponential_distribution<double>{st.rate_per_min / 60.0}(st.rng);
  auto delay = std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>{seconds});
  self->delayed_send(self, delay, crash_atom::value);
}

/// Kills one victim chosen uniformly, if there is any.
void strike(injector_pointer self) {
  auto& st = self->state;
  auto candidates = st.victims ? st.victims() : std::vector<caf::actor>{};
  if (candidates.empty())
    return;
  std::uniform_int_distribution<size_t> pick{0, candidates.size() - 1};
  auto& victim = candidates[pick(st.rng)];
  if (!victim)
    return;
  ++st.kills;
  report(event::crash_injected,
         {{"victim", caf::to_string(victim.address())},
          {"victim_id", std::to_string(victim.id())},
          {"rate_per_min", std::to_string(st.rate_per_min)},
          {"kills", std::to_string(st.kills)}},
         spdlog::level::warn);
  self->send_exit(victim, injected_crash_reason());
}

caf::behavior crash_injector(injector_pointer self, double rate_per_min, uint64_t seed,
                             victims_fn victims) {
  auto& st = self->state;
  st.rate_per_min = rate_per_min;
  st.rng.seed(seed);
  st.victims = std::move(victims);
  if (rate_per_min > 0)
    schedule_next(self);
  return {
    [=](crash_atom) {
      strike(self);
      schedule_next(self);
    },
  };
}

} // namespace

caf::error injected_crash_reason() {
  return make_error(errc::compute_failed, "injected crash (faults.crash_rate_per_min)");
}

caf::actor spawn_crash_injector(caf::actor_system& sys, double rate_per_min, uint64_t seed,
                                victims_fn victims) {
  return sys.spawn(crash_injector, rate_per_min, seed, std::move(victims));
}

} // namespace colony::supervision
