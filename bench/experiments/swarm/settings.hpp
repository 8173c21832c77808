// Settings of the swarm experiment (issue 9 section 4: finding experts among
// 10,000 participants), read from a YAML file whose keys sit under `swarm:`;
// every key is checked and unknown keys are refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace colony::swarm_exp {

/// One run of the experiment.
struct settings {
  size_t peers = 10000;              ///< DHT peers in the process
  size_t declarers = 1000;           ///< peers that declare experts
  size_t experts_per_declarer = 16;  ///< experts each declarer serves
  size_t gates = 100;                ///< concurrent beam searches
  double search_period_s = 2;        ///< a gate starts a search at most this often
  std::string prefix = "ffn";        ///< the shared grid's prefix
  std::vector<uint32_t> grid{128, 128};
  /// How cells are dealt to declarers: "rows" = each gets
  /// experts_per_declarer consecutive cells of one row (how colony-node
  /// groups serve grid rows; the last dim must be a multiple), "scatter" =
  /// random cells anywhere.
  std::string layout = "rows";
  size_t k_best = 4;                 ///< experts per search
  size_t beam_size = 4;              ///< the gate's default: k_best
  double delay_ms = 100;             ///< fixed one-way delay of every DHT message
  double churn_per_min = 0.10;       ///< fraction of the peers replaced per minute
  double expiration_s = 60;          ///< declarer: each declaration lives this long
  double update_period_s = 20;       ///< declarer: re-declare period
  double declare_spread_s = 20;      ///< declarers start spread over this
  double declare_wait_s = 90;        ///< at most this long for every first declaration
  double baseline_s = 30;            ///< searches without churn
  double churn_s = 300;              ///< searches under churn
  double interval_s = 10;            ///< one CSV row per interval
  double search_timeout_s = 10;      ///< a whole beam search
  double rpc_timeout_s = 3;          ///< DHT peer RPC timeout (the peer default)
  uint64_t seed = 1;
  // Sanity checks of the run (run.sh --quick relies on them).
  double min_baseline_recall = 0.95; ///< mean recall@k without churn at least this
  double min_recall = 0.8;           ///< mean recall@k under churn at least this
  double min_success = 0.95;         ///< searches that completed in time, at least
};

/// Reads `path`; errc::bad_config naming the key or the problem otherwise.
caf::expected<settings> load_settings(const std::string& path);

/// The number of grid cells (the product of the dims).
size_t grid_cells(const settings& s);

} // namespace colony::swarm_exp
