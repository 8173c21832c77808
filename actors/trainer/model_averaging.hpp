// A trainer node's model averaged with the other trainer nodes of its run
// (trainers.averaging), through the torch-free averaging component
// (actors/averaging/): every `every_steps` versions or `every_s` seconds,
// on a thread of its own (training goes on meanwhile), the newest snapshot
// is averaged with whoever matched the round, and the difference between
// the average and what was sent is added to the model (so the steps applied
// meanwhile are kept) as a new version. A node that joins late (no
// checkpoint of its own) downloads the current state from a peer of the run
// before its trainers start; after each round the node offers its state to
// later joiners.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/averaging/averager.hpp"
#include "actors/trainer/shared_model.hpp"
#include "runtime/worker_pool.hpp"

namespace colony::trainer {

/// Rounds so far (for progress lines and summaries).
struct averaging_stats {
  uint64_t rounds = 0, failed = 0;
  uint64_t bytes_sent = 0, bytes_received = 0;
  double seconds = 0;        ///< summed over the successful rounds
  uint32_t last_group = 0;
  std::string last_error;
};

class model_averaging {
public:
  /// Starts the averager (its guarded port on `host`, port 0).
  static caf::expected<std::unique_ptr<model_averaging>>
  start(caf::actor_system& sys, const averaging::averaging_config& cfg, dht::peer_actor dht,
        std::shared_ptr<shared_model> model, const std::string& host);

  ~model_averaging();

  /// Downloads the run's state from a peer into the model; false when no
  /// peer announced one (this node is the first).
  caf::expected<bool> join();

  /// Starts a round on the averaging thread when one is due and none runs.
  void maybe_average();

  /// One round now (blocking); the result's error, if any.
  caf::error average_now();

  averaging_stats stats() const;

private:
  model_averaging() = default;
  caf::error round();

  averaging::averaging_config cfg_;
  std::shared_ptr<shared_model> model_;
  std::unique_ptr<averaging::averager> averager_;
  std::vector<std::string> names_;
  std::atomic<bool> busy_{false};
  uint64_t last_version_ = 0;
  std::chrono::steady_clock::time_point last_time_;
  mutable std::mutex mx_;
  averaging_stats stats_;
  std::unique_ptr<worker_pool> thread_;
};

} // namespace colony::trainer
