// The composition root of a node's trainers: loads the data once, builds
// the node's one model (shared_model: trainer-side parameters, optimizer,
// version, checkpoint), spawns one gate per DMoE layer for training and one
// for evaluation, the trainer pool and the trainers, runs them to the end
// and evaluates the model. colony-node, the tests and bench/dmoe use this
// one factory.
//
// Evaluation is the model's, off the training path: an evaluator thread of
// its own, a replica bound to the newest version, gates that wait for all
// k_best experts (k_min = k_best, trainers.eval_timeout) over connections
// without the training path's injected faults, the whole test set unless
// eval_samples says otherwise.
//
// Gates and trainers run under a `trainers` supervisor (one_for_one):
//   gate.<i>, eval_gate.<i>  permanent; a restarted gate takes over the
//                layers' next calls (they hold its gate_slot)
//   trainer.<i>  transient; a crashed trainer is rebuilt (new chains bound
//                to the same model; its step count goes on) and, if run()
//                is waiting, started again; its summary counts then. Over
//                the intensity the supervisor exits and run() returns the
//                summaries it has.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/dht/protocol.hpp"
#include "runtime/liveness_config.hpp"
#include "actors/gate/gate_slot.hpp"
#include "actors/trainer/model_averaging.hpp"
#include "actors/trainer/trainer_actor.hpp"

namespace colony::trainer {

/// The node's model at the end of a run.
struct model_summary {
  uint64_t version = 0;
  double test_accuracy = -1; ///< -1 when the evaluation failed
  uint64_t test_samples = 0;
  uint64_t applied = 0, dropped = 0, scaled = 0; ///< gradients
  uint32_t staleness_p50 = 0, staleness_p95 = 0, staleness_max = 0;
  uint32_t chains = 0;
  std::string error; ///< of the evaluation, if it failed
  averaging_stats averaging; ///< rounds with the run's other nodes
};

class trainer_host {
public:
  /// Builds everything (data files missing or corrupt -> a clear error
  /// naming the file, before any training starts). `dht` is the node's DHT
  /// peer (needed by dmoe layers). `node_faults` is the node's
  /// faults: delay/loss of outgoing expert calls (node_faults::expert_calls);
  /// setting both it and trainers.faults is refused with bad_config naming
  /// both, since one of them would be silently ignored.
  static caf::expected<std::unique_ptr<trainer_host>>
  make(caf::actor_system& sys, trainer_config cfg, std::optional<dht::peer_actor> dht,
       const liveness_config& liveness = {}, const fault_config& node_faults = {});

  ~trainer_host();

  /// Runs every trainer to its end; `stop_requested` is polled (every
  /// 100 ms) and asks the trainers to finish early when it returns true.
  /// Then evaluates the model and writes its checkpoint (model_result()).
  std::vector<trainer_summary> run(const std::function<bool()>& stop_requested = {});

  /// The model after run(): version, test accuracy, staleness.
  const model_summary& model_result() const { return model_result_; }

  /// The node's model (tests).
  shared_model& owner() const;

  /// The model's test accuracy now (blocking; on the evaluator thread).
  caf::expected<double> evaluate();

  /// Averaging with the run's other nodes; null without trainers.averaging.
  model_averaging* averaging() const;

  const trainer_config& config() const { return cfg_; }
  const std::shared_ptr<node_connections>& connections() const { return conns_; }

  /// The `trainers` supervisor (e.g. to add it to a node's tree).
  const caf::actor& supervisor() const { return sup_; }

  /// The current actor of trainer `i` (tests).
  trainer_actor trainer(size_t i) const;

  /// The current actor of the gate of dmoe layer `i` (tests).
  gate::gate_actor gate(size_t i) const { return gates_.at(i)->get(); }

  struct shared; ///< what the children's start functions share

private:
  trainer_host(caf::actor_system& sys, trainer_config cfg) : sys_(sys), cfg_(std::move(cfg)) {}

  /// After the trainers: the last gradients applied, checkpoint, evaluation.
  void finish_model();

  caf::actor_system& sys_;
  trainer_config cfg_;
  std::shared_ptr<node_connections> conns_;
  std::vector<gate::gate_ref> gates_;
  std::vector<gate::gate_ref> eval_gates_;
  std::shared_ptr<worker_pool> pool_;
  model_summary model_result_;
  std::shared_ptr<shared> shared_;
  caf::actor sup_;
};

/// Summary line over the trainers and the model: steps, failed steps,
/// samples, model version and `model_test_accuracy=`.
std::string summarize(const std::vector<trainer_summary>& xs, const model_summary& m);

} // namespace colony::trainer
