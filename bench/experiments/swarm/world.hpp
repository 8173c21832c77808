// The swarm experiment's shared state, between the driver thread (which
// owns the dht::swarm, the churn and the declarers) and the gate actors
// (which search): which peers a gate may search through, which expert is
// served where right now (the truth the searches are scored against), and
// the finished searches. Every member function takes the one lock.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "actors/dht/protocol.hpp"
#include "actors/gate/beam_search.hpp"
#include "bench/experiments/swarm/settings.hpp"

namespace colony::swarm_exp {

/// One finished (or failed) beam search.
struct search_record {
  double t_s = 0;         ///< when it ended, seconds since the measurement began
  bool ok = false;        ///< every round answered before the search timeout
  double ms = 0;          ///< first get sent -> last reply
  uint32_t keys = 0;      ///< prefix keys looked up (one DHT lookup each)
  uint64_t rpcs = 0;      ///< RPCs the searching peer sent meanwhile
  double hops = 0;        ///< mean depth of the answering peer over the keys
  double recall = 0;      ///< |returned ∩ true top-k| / |true top-k| (uid and endpoint)
  bool exact = false;     ///< returned == true top-k as sets
  uint32_t returned = 0;  ///< experts returned
  uint32_t stale = 0;     ///< returned experts not served there any more
};

/// Driver-side and gate-side view of the experiment.
class world {
public:
  explicit world(const settings& s);

  // -- the grid and the truth ------------------------------------------------

  /// The coordinates of cell `c` (row-major over settings::grid).
  std::vector<int64_t> coords_of(size_t c) const;

  /// Cell `c` is served by `owner` (a declarer slot) at `ep`, or by no one
  /// (owner < 0).
  void serve(size_t c, int32_t owner, const endpoint& ep);

  /// Declarer slot `owner` stops serving (its host vanished) or serves
  /// again at `ep`.
  void set_slot(int32_t owner, bool live, const endpoint& ep);

  /// The exhaustive top-k over the experts served now, ordered like
  /// gate::beam_search (score desc, uid asc).
  std::vector<gate::expert_choice> true_top_k(const std::vector<float>& scores) const;

  /// uid -> endpoint of every expert served now (for gate::exhaustive_top_k).
  std::map<std::string, endpoint> served() const;

  /// Scores `returned` against the truth now; fills recall/exact/stale.
  void score(const std::vector<float>& scores, const std::vector<gate::expert_choice>& returned,
             search_record& rec) const;

  // -- peers gates search through --------------------------------------------

  /// Adds a live non-declaring peer that gates may use.
  void add_search_peer(size_t index, dht::peer_actor handle);

  /// A random unused search peer, now marked in use; none when all are.
  std::optional<std::pair<size_t, dht::peer_actor>> borrow(std::mt19937_64& rng);

  /// Returns a borrowed peer.
  void give_back(size_t index);

  /// Takes a random unused search peer out of the pool (churn); none when
  /// all are in use.
  std::optional<size_t> take_random_idle(std::mt19937_64& rng);

  /// Search peers in the pool (idle or borrowed).
  size_t search_peers() const;

  // -- records -----------------------------------------------------------------

  void record(search_record rec);
  std::vector<search_record> take_records();

private:
  struct slot {
    bool live = false;
    endpoint ep;
  };

  float score_of(const std::vector<float>& scores, size_t c) const;

  const settings cfg_;
  gate::grid_spec grid_;
  std::vector<size_t> offsets_;
  mutable std::mutex mx_;
  std::vector<int32_t> owner_;  ///< per cell: declarer slot or -1
  std::vector<slot> slots_;
  std::vector<size_t> idle_;    ///< search peers not in use
  std::unordered_map<size_t, dht::peer_actor> handles_;  ///< every search peer
  std::vector<search_record> records_;
};

} // namespace colony::swarm_exp
