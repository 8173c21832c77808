// The experiment's gates: each runs the gate's beam search
// (gate::beam_search over batched DHT gets, the way the gate actor does it,
// without its prefix cache so that every search reads the DHT) on random
// gating scores, one every search_period_s (or back to back when a search
// takes longer), each time through a random idle
// non-declaring peer borrowed from the world, and records every search
// scored against the exhaustive top-k over the experts served at its end.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "bench/experiments/swarm/world.hpp"

namespace colony::swarm_exp {

/// What every gate shares: the world, the settings, the measurement clock
/// and the stop flag. `active` counts the gates still running.
struct gate_context {
  world* w = nullptr;
  settings cfg;
  std::chrono::steady_clock::time_point t0;
  std::atomic<bool> stop{false};
  std::atomic<int> active{0};
};

/// Spawns one gate; it searches until ctx->stop is set, then quits
/// (decrementing ctx->active after its search in flight ended).
caf::actor spawn_search_gate(caf::actor_system& sys, std::shared_ptr<gate_context> ctx,
                             uint64_t seed);

} // namespace colony::swarm_exp
