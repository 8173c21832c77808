// One trainer: an event-based actor that keeps `in_flight` micro-batches
// of the node's one model in flight. Each runs as a pool job on a chain of
// its own (a replica bound to the model's newest version, its own batch
// sampler): forward through local and DMoE layers, backward, then the
// gradients go to the model's owner (shared_model) tagged with the version
// they were computed at. A chain waiting for experts blocks only its pool
// thread on the gate's reply (no CPU, no CAF scheduler thread); torch's
// autograd is synchronous, so this is where the two meet, and why the pool
// has trainers x in_flight threads.
//
//   trainer_actor --job(chain c)--> worker_pool --step_report--> trainer_actor
//                                        \--gradient@version--> shared_model
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/trainer/dataset.hpp"
#include "actors/trainer/model.hpp"
#include "actors/trainer/shared_model.hpp"
#include "messages/atoms.hpp"
#include "runtime/worker_pool.hpp"

namespace colony::trainer {

/// The outcome of one trainer's run.
struct trainer_summary {
  uint32_t index = 0;
  uint64_t steps = 0;
  uint64_t failed_steps = 0;
  uint64_t samples = 0;
  double last_loss = 0;
  double seconds = 0;
  uint64_t requests = 0; ///< expert requests sent (forward + backward)
  uint64_t timeouts = 0; ///< of them unanswered when their fan-out ended
  uint64_t lost_gradients = 0; ///< rows whose input gradient came from no expert
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, trainer_summary& x) {
  return f(caf::meta::type_name("trainer_summary"), x.index, x.steps, x.failed_steps,
           x.samples, x.last_loss, x.seconds, x.requests, x.timeouts, x.lost_gradients);
}

/// What one pool job reports back (internal).
struct step_report {
  uint32_t chain = 0;
  uint64_t version = 0;       ///< of the model the step read
  bool failed = false;
  std::string error;
  double loss = 0;
  uint64_t samples = 0;
  uint64_t asked = 0, answered = 0, timeouts = 0, anomalies = 0, short_samples = 0;
  uint64_t lost_gradients = 0; ///< backward rows left without an input gradient
  std::vector<float> latency_ms; ///< of every answered expert request
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_report& x) {
  return f(caf::meta::type_name("step_report"), x.chain, x.version, x.failed, x.error, x.loss,
           x.samples, x.asked, x.answered, x.timeouts, x.anomalies, x.short_samples,
           x.lost_gradients, x.latency_ms);
}

using trainer_actor = caf::typed_actor<
  /// Trains until `steps` micro-batches are done (or stop_atom) and the
  /// ones in flight came back; replies with the summary. Never fails:
  /// failed steps are counted (and logged), training goes on.
  caf::replies_to<run_atom>::with<trainer_summary>,
  /// Launches no more steps; finishes once those in flight came back.
  caf::reacts_to<stop_atom>,
  /// Internal: a pool job finished.
  caf::reacts_to<step_report>>;

/// What a trainer needs: shared read-only data, the node's model, a factory
/// of replicas (one per chain) and its step count, which outlives a restart.
struct trainer_setup {
  uint32_t index = 0;
  trainer_config cfg;
  labeled_data train;  ///< this trainer's rows (a shard or all)
  std::shared_ptr<shared_model> owner;
  std::function<model()> make_replica;
  std::shared_ptr<worker_pool> pool;
  std::shared_ptr<std::atomic<uint64_t>> steps_done;
};

/// Spawns a trainer (its chains are built here; throws what the replica
/// factory throws).
trainer_actor spawn_trainer(caf::actor_system& sys, trainer_setup setup);

} // namespace colony::trainer
