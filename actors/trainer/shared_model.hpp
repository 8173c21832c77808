// One model per trainer node: the trainer-side parameters (local layers,
// gating networks) that every trainer of the node trains, their optimizer
// and their version. The model's owner is a one-thread strand (a pool
// job per gradient, in arrival order), never a mutex held across a step:
//
//   chain (pool thread): bind(replica) -> forward/backward on its micro-batch
//                        -> submit(gradient @ version v)
//   strand: staleness s = version - v; beyond max_staleness drop or scale;
//           accumulate; every `accumulate` gradients: optimizer step,
//           version + 1, publish an immutable snapshot of the parameters
//
// A snapshot is one copy of the parameters per version, made by the strand;
// replicas read it by aliasing (Tensor::set_data shares the snapshot's
// storage), so a chain binds a new version without copying the model.
// Nobody writes a published snapshot: the optimizer steps the master's own
// tensors, and the next snapshot is a fresh clone.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "runtime/worker_pool.hpp"

namespace colony::trainer {

/// How the owner treats gradients (trainers: keys of the same names).
struct model_options {
  std::string optimizer = "adam";  ///< adam | sgd
  double lr = 1e-3;
  double weight_decay = 0;
  double clip_grad_norm = 0;       ///< 0 = no clipping
  uint64_t lr_warmup = 0;          ///< optimizer steps of linear warm-up (runtime/lr_schedule.hpp)
  uint64_t lr_total = 0;           ///< lr reaches 0 at this optimizer step; 0 = no decay
  uint32_t accumulate = 1;         ///< gradients (micro-batches) per optimizer step
  uint64_t max_staleness = 0;      ///< versions behind at apply time; 0 = unbounded
  bool drop_stale = true;          ///< beyond max_staleness: drop (else scale by 1/(1+s))
  bool staleness_scale = false;    ///< every gradient weighted 1/(1+s)
  uint64_t log_every = 0;          ///< a model progress line every N versions; 0 = none
  std::string checkpoint_path;     ///< empty = no checkpoints
  uint64_t checkpoint_every = 0;   ///< versions; 0 = only when asked (save())
};

/// Gradients of one micro-batch, aligned with the model's parameters()
/// (an undefined tensor: that parameter got no gradient).
struct model_gradient {
  uint64_t version = 0; ///< the version the gradients were computed at
  std::vector<torch::Tensor> grads;
  uint64_t samples = 0;
};

/// What the owner did since the last take_stats().
struct model_stats {
  uint64_t version = 0;
  uint64_t applied = 0;   ///< gradients accumulated
  uint64_t dropped = 0;   ///< beyond max_staleness, dropped
  uint64_t scaled = 0;    ///< beyond max_staleness, down-weighted
  uint64_t samples = 0;   ///< of the applied gradients
  std::vector<uint32_t> staleness; ///< of every gradient received (bounded)
};

class shared_model {
public:
  /// Takes the master module (initialized) and builds its optimizer.
  /// Throws std::invalid_argument for a bad optimizer name.
  shared_model(std::shared_ptr<torch::nn::Module> master, model_options opts);

  ~shared_model();

  shared_model(const shared_model&) = delete;
  shared_model& operator=(const shared_model&) = delete;

  /// An immutable set of parameter values.
  struct snapshot {
    uint64_t version = 0;
    std::vector<torch::Tensor> values;
  };

  /// The newest snapshot.
  std::shared_ptr<const snapshot> current() const;

  /// Points `replica`'s parameters at the newest snapshot (no copy);
  /// returns its version. `replica` has the master's structure.
  uint64_t bind(torch::nn::Module& replica) const;

  /// Hands a micro-batch's gradients to the owner; the future is ready once
  /// they were applied or dropped.
  std::shared_future<void> submit(model_gradient g);

  /// Moves `replica`'s gradients out (no copy) into a model_gradient.
  static model_gradient take_gradients(torch::nn::Module& replica, uint64_t version,
                                       uint64_t samples);

  model_stats take_stats();

  uint64_t version() const;

  /// Samples of every gradient applied so far (by this process).
  uint64_t samples() const { return samples_total_.load(); }

  /// Waits until the gradients submitted so far were applied, then writes
  /// model, optimizer and version to checkpoint_path (atomically; no file
  /// without a path). Runs on the strand.
  void save();

  /// Restores from checkpoint_path when the file exists; false if none.
  /// Throws on a file that does not match the model.
  bool load();

  const model_options& options() const { return opts_; }

  /// The parameters' names, in the order of parameters() and snapshots.
  std::vector<std::string> names() const;

  /// Adds `delta` (one tensor per parameter, their shapes) to the model
  /// and publishes it as a new version; runs on the strand, waits for it.
  /// Averaging with other nodes uses this: the delta between the average
  /// and the values it sent keeps the steps applied meanwhile.
  void add_delta(const std::vector<torch::Tensor>& delta);

  /// Replaces the model's values (a joiner's download) and its version;
  /// runs on the strand, waits for it. Throws std::invalid_argument when
  /// the values do not fit the model.
  void replace(const std::vector<torch::Tensor>& values, uint64_t version);

private:
  void apply(model_gradient& g);
  void step();
  void publish();
  void save_now();
  void on_strand(std::function<void()> job);
  void log_progress();

  std::shared_ptr<torch::nn::Module> master_;
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::Optimizer> opt_;
  model_options opts_;
  // Strand-only state.
  std::vector<torch::Tensor> acc_;
  uint32_t pending_ = 0;
  uint64_t version_ = 0;
  uint64_t steps_ = 0; ///< optimizer steps of this node (the schedule's clock)
  std::chrono::steady_clock::time_point window_start_;
  uint64_t window_samples_ = 0;
  model_stats window_;
  // Shared with readers.
  std::atomic<uint64_t> samples_total_{0};
  mutable std::mutex mx_;
  std::shared_ptr<const snapshot> current_;
  model_stats stats_;
  worker_pool strand_{1};
};

} // namespace colony::trainer
