// The composition root of a node's trainers: loads the data once, spawns
// one gate per DMoE layer (shared by the node's trainers), the trainer
// pool and the trainers, runs them to the end and collects their
// summaries. colony-node, the tests and bench/dmoe use this one factory.
//
// Gates and trainers run under a `trainers` supervisor (one_for_one):
//   gate.<i>     permanent; a restarted gate takes over the layers' next
//                calls (they hold its gate_slot)
//   trainer.<i>  transient; a crashed trainer is rebuilt (restoring its
//                checkpoint when trainers.checkpoint_dir has one) and, if
//                run() is waiting, started again; its summary counts
//                then. Over the intensity the supervisor exits and run()
//                returns the summaries it has.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/dht/protocol.hpp"
#include "runtime/liveness_config.hpp"
#include "actors/gate/gate_slot.hpp"
#include "actors/trainer/trainer_actor.hpp"

namespace colony::trainer {

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
  std::vector<trainer_summary> run(const std::function<bool()>& stop_requested = {});

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

  caf::actor_system& sys_;
  trainer_config cfg_;
  std::shared_ptr<node_connections> conns_;
  std::vector<gate::gate_ref> gates_;
  std::shared_ptr<worker_pool> pool_;
  std::shared_ptr<shared> shared_;
  caf::actor sup_;
};

/// Summary line over all trainers: mean/min/max accuracy, failed steps.
std::string summarize(const std::vector<trainer_summary>& xs);

} // namespace colony::trainer
