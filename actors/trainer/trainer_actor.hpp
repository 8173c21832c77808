// One trainer: an event-based actor that drives a training loop whose torch
// work (batch -> local layers and DMoE layers -> loss -> backward -> Adam on
// the local layers and gates) runs as one job per step on the node's
// trainer pool. A step waiting for experts blocks only its pool thread on
// the gate's reply (no CPU, no CAF scheduler thread); torch's autograd is
// synchronous, so this is where the two meet.
//
//   trainer_actor --job--> worker_pool (torch) --step_report--> trainer_actor
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/trainer/dataset.hpp"
#include "actors/trainer/model.hpp"
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
  double accuracy = -1; ///< final test accuracy; -1 if not evaluated
  double seconds = 0;
  uint64_t requests = 0; ///< expert requests sent (forward + backward)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, trainer_summary& x) {
  return f(caf::meta::type_name("trainer_summary"), x.index, x.steps, x.failed_steps,
           x.samples, x.last_loss, x.accuracy, x.seconds, x.requests);
}

/// What one pool job reports back (internal).
struct step_report {
  uint64_t step = 0;
  bool failed = false;
  std::string error;
  double loss = 0;
  uint64_t samples = 0;
  double accuracy = -1;       ///< when this job evaluated
  uint64_t asked = 0, answered = 0, timeouts = 0, anomalies = 0, short_samples = 0;
  std::vector<float> latency_ms; ///< of every answered expert request
  bool final = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_report& x) {
  return f(caf::meta::type_name("step_report"), x.step, x.failed, x.error, x.loss, x.samples,
           x.accuracy, x.asked, x.answered, x.timeouts, x.anomalies, x.short_samples,
           x.latency_ms, x.final);
}

using trainer_actor = caf::typed_actor<
  /// Trains until `steps` are done (or stop_atom), then evaluates and
  /// checkpoints; replies with the summary. Never fails: failed steps are
  /// counted (and logged), training goes on.
  caf::replies_to<run_atom>::with<trainer_summary>,
  /// Finishes after the running step (final evaluation and checkpoint).
  caf::reacts_to<stop_atom>,
  /// Internal: a pool job finished.
  caf::reacts_to<step_report>>;

/// What a trainer needs; shared read-only data, its own model.
struct trainer_setup {
  uint32_t index = 0;
  trainer_config cfg;
  labeled_data train;  ///< this trainer's rows (a shard or all)
  labeled_data test;
  model net{nullptr};
  std::shared_ptr<worker_pool> pool;
};

/// Spawns a trainer; restores its checkpoint when cfg.checkpoint_dir has one.
trainer_actor spawn_trainer(caf::actor_system& sys, trainer_setup setup);

} // namespace colony::trainer
