// Crash injection (the node's faults.crash_rate_per_min): an actor that, at
// exponentially distributed intervals, kills one victim chosen uniformly
// at random by sending it an exit message with an abnormal reason, so that
// its supervisor restarts it. Every kill is one crash_injected report line.
//
// Its timers come from the actor clock (delayed_send), so it runs in
// virtual time on CAF's deterministic test scheduler. It is a local actor:
// never publish it. It stops when it receives an exit message.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>

namespace colony::supervision {

/// The current candidates of a kill (e.g. the node's expert actors); asked
/// at every kill, so restarted actors are picked up. Called in the
/// injector's context.
using victims_fn = std::function<std::vector<caf::actor>()>;

/// The exit reason of an injected crash: errc::compute_failed with the
/// context "injected crash (faults.crash_rate_per_min)".
caf::error injected_crash_reason();

/// Spawns the injector: kills happen at rate `rate_per_min` (mean interval
/// 60 / rate_per_min seconds, exponential), drawn from an RNG seeded with
/// `seed`. rate_per_min <= 0 spawns an idle injector. A kill with no
/// victims does nothing (and is not reported).
caf::actor spawn_crash_injector(caf::actor_system& sys, double rate_per_min, uint64_t seed,
                                victims_fn victims);

} // namespace colony::supervision
