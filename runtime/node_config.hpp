// Node configuration, read from YAML. Unknown keys and bad values are
// rejected with an errc::bad_config error whose context names the key path,
// e.g. "experts[1].optimizer.lr: expected a number, got 'fast'".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "messages/wire/tensor_codec.hpp"
#include "runtime/control_config.hpp"
#include "runtime/liveness_config.hpp"
#include "runtime/log_config.hpp"
#include "runtime/node_faults.hpp"
#include "runtime/net_guard/guard_config.hpp"

namespace colony {

/// Which module an expert runs: a registered spec name plus numeric params
/// (every key of the YAML `module:` map except `type` and `seed`). The
/// params are validated by the expert spec registry, not here.
struct module_config {
  std::string type;
  std::map<std::string, double> params;
  uint64_t seed = 0;
};

/// Optimizer of one expert (hyper-parameters of SGD-with-momentum or Adam)
/// and its linear warm-up / linear decay learning-rate schedule.
struct optimizer_config {
  std::string type = "adam"; ///< "adam" or "sgd"
  double lr = 1e-3;
  double momentum = 0.0;     ///< sgd only
  double beta1 = 0.9;        ///< adam only
  double beta2 = 0.999;      ///< adam only
  double eps = 1e-8;         ///< adam only
  double weight_decay = 0.0;
  double clip_grad_norm = 0.0; ///< 0 = no clipping (global L2 norm)
  uint64_t warmup_steps = 0;   ///< lr grows linearly from 0 over these steps
  uint64_t total_steps = 0;    ///< lr decays linearly to 0 at this step; 0 = never
  /// Backward gradients accumulate until this many rows arrived since the
  /// last step, then one step applies their mean over the accumulated
  /// batches; 0 = one step per backward batch. Steps, not batches, drive the
  /// schedule. Pending gradients are not checkpointed.
  uint64_t accumulate_rows = 0;
};

/// Where and how often an expert writes checkpoints. dir empty = none.
struct checkpoint_config {
  std::string dir;
  uint64_t every_updates = 0; ///< 0 = only on shutdown
  bool load = true;           ///< restore from dir at start when present
  /// A checkpoint whose recorded spec differs (module type or params,
  /// optimizer type) or is missing: "fail" = start-up error naming the
  /// keys; "fresh" = move it to <file>.mismatch-<unix time>, start over.
  std::string on_mismatch = "fail";
};

/// A group of experts with the same spec: uid "ffn.0.*" with count 16 gives
/// ffn.0.0 ... ffn.0.15; a uid without '*' needs count 1.
struct expert_group_config {
  std::string uid;
  uint32_t count = 1;
  uint32_t max_batch_size = 256;
  module_config module;
  optimizer_config optimizer;
  checkpoint_config checkpoint;
};

/// The node's DHT peer (section `dht:`; absent = the node runs no DHT).
struct dht_config {
  std::string host;                       ///< empty = the node's host
  uint16_t port = 0;                      ///< 0 = any free port
  std::vector<std::string> initial_peers; ///< HOST:PORT each; none = first peer
  bool client_mode = false;               ///< never stored in others' tables
  double expiration_s = 60;               ///< declarations live this long
  double update_period_s = 0;             ///< re-declare period; 0 = expiration_s / 3
  uint32_t rpc_timeout_ms = 3000;         ///< the most an RPC waits (peers never measured)
  uint32_t rpc_timeout_min_ms = 500;      ///< floor of the RTT-based timeouts
  double republish_s = 60;                ///< holders re-store keys idle this long; 0 = never
  bool hand_off = true;                   ///< send held keys to new nearer peers
  bool read_repair = true;                ///< a get stores the merged value on stale replicas
  /// The node's Ed25519 key (PEM, mode 600), created at first start; it
  /// seals the node's declarations. Empty: a key made at each start (a
  /// restarted node then waits for its old declarations to expire).
  std::string key_file;
  uint32_t k = 20;
  uint32_t alpha = 3;
  uint32_t num_replicas = 5;
  uint32_t values_wanted = 3;             ///< replicas a get reads and merges
  uint32_t value_grace_ms = 250;          ///< a get waits this long after the first copy

  /// update_period_s, or its default.
  double update_period() const {
    return update_period_s > 0 ? update_period_s : expiration_s / 3;
  }
};

/// The whole node.
struct node_config {
  std::string host = "127.0.0.1";
  uint16_t port = 0;              ///< 0 = any free port
  uint32_t scheduler_threads = 2; ///< CAF scheduler threads
  uint32_t torch_threads = 0;     ///< intra-op threads per batch; 0 = all cores
  uint32_t compute_slots = 1;     ///< batches computed at the same time
  uint64_t max_message_bytes = wire::default_max_bytes;
  /// Where and how the node logs (section `log:`).
  log_config log;
  std::vector<expert_group_config> experts;
  std::optional<dht_config> dht;
  /// The guard in front of the node's published ports (section `guard:`).
  net_guard::guard_config guard;
  /// Liveness pings of the nodes its trainers call (section `liveness:`).
  liveness_config liveness;
  /// Simulated latency, failed requests and crashes (section `faults:`;
  /// absent = all off).
  node_faults faults;
  /// The control port (section `control:`; absent = none).
  control_config control;
  /// The `trainers:` section as YAML text (parsed by actors/trainer's
  /// trainer_config, which the runtime layer cannot see); empty = none.
  std::string trainers_yaml;
};

/// Parses YAML text. Errors are errc::bad_config naming the key.
caf::expected<node_config> parse_node_config(const std::string& yaml_text);

/// Reads and parses a file; a missing file is errc::io_failed.
caf::expected<node_config> load_node_config(const std::string& path);

/// Expands a group's uid pattern: "ffn.0.*" x 3 -> ffn.0.0, ffn.0.1, ffn.0.2.
std::vector<std::string> expand_uids(const expert_group_config& group);

} // namespace colony
