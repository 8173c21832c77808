// Experiment 1's parameters (throughput.yaml / throughput-quick.yaml): the
// delay sweep, the expert nodes, and one chain per form:
//   forward      (a) forward only, ffn_block experts, [B, dim] inputs
//   training     (b) trainer_host training through dmoe layers
//   transformer  (c) forward only, transformer experts, [B, T, dim] inputs
// Every key is checked; an unknown key or a bad value is an error naming it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace colony::throughput {

/// One form's chain: `layers` DMoE layers, each a rows x cols grid of
/// experts (uid `<prefix><layer>.<row>.<col>`, row r on node r % nodes).
struct chain_config {
  std::string form;       ///< forward | training | transformer
  std::string prefix;     ///< uid prefix of the layers, e.g. "fw" -> fw0.1.0
  bool enabled = true;
  uint32_t layers = 16;
  uint32_t rows = 2, cols = 2;
  uint32_t dim = 256;     ///< d (d_model for transformer blocks)
  uint32_t hidden = 1024; ///< ffn_block hidden / transformer ff_dim
  uint32_t heads = 4;     ///< transformer only
  uint32_t seq = 0;       ///< tokens per sample ([B, T, d]); 0 = [B, d]
  uint32_t k_best = 1;    ///< experts per sample (model-parallel: k fixed ones per layer)
  uint32_t trainers = 64; ///< concurrent DMoE trainers
  uint32_t batch = 32;    ///< rows per trainer batch (both systems)
  double warmup_s = 2;    ///< forward forms: not counted
  double window_s = 8;    ///< measured window (training: the run's length)
  double long_window_s = 20; ///< the window at delays >= 1000 ms
  std::vector<double> delays_ms; ///< empty: the experiment's sweep

  std::string block() const { return form == "transformer" ? "transformer" : "ffn_block"; }
  std::string uid(uint32_t layer, uint32_t row, uint32_t col) const;
};

struct experiment_config {
  std::vector<double> delays_ms;   ///< mean of the exponential delay per point
  uint32_t nodes = 2;              ///< colony-node processes over loopback
  uint32_t max_batch_size = 512;   ///< rows per expert batch on the nodes
  uint64_t seed = 42;              ///< fault streams and inputs
  std::vector<chain_config> chains; ///< forward, training, transformer (in order)

  const std::vector<double>& delays_of(const chain_config& c) const {
    return c.delays_ms.empty() ? delays_ms : c.delays_ms;
  }
};

/// Parses the experiment's YAML text. errc::bad_config naming the key.
caf::expected<experiment_config> parse_experiment_config(const std::string& yaml_text);

} // namespace colony::throughput
