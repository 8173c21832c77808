// The gate's beam search over an expert grid (hivemind's MoE beam search) as
// a pure state machine: the caller fetches the prefix keys pending_keys()
// names with ONE batched DHT get (all samples together), feeds back the live
// successors of each key, and repeats until done().
//
// Experts of a grid "ffn" with dims {A, B} have uids "ffn.a.b" (a < A,
// b < B). The DHT holds, under each prefix key below the root ("ffn.3."),
// the live next coordinates with the endpoint of an expert below each. The
// root ("ffn.") holds entries only for a one-dimensional grid: no key is
// written by every declarer and read by every search. The first dimension
// is found by probing, as hivemind does: each sample asks for the prefixes
// of its best-scored first coordinates (beam_size of them, then twice as
// many each further round while too few were live) until it holds
// beam_size live ones or has asked for all. The probed prefixes' answers
// are also the second dimension's, so a dense two-dimensional grid takes
// one round; every later dimension takes one more.
//
// A sample's gate scores are one vector of sum(dims) floats: the block of
// dimension d starts at dims[0] + ... + dims[d-1], and an expert's score is
// the sum over d of scores[offset_d + coord_d] (added in order of d).
//
// Exactness: with beam_size >= k_best the search returns exactly the
// exhaustive top-k (exhaustive_top_k) whenever the alive experts form a dense
// sub-grid, i.e. a product S_0 x ... x S_{D-1} of coordinate sets. It is NOT
// exact for arbitrary sparse alive patterns: a prefix whose own score is
// high but that has few (or poorly scored) live experts below can push out
// of the beam a prefix leading to a better expert.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "runtime/endpoint.hpp"

namespace colony::gate {

/// An expert grid: uids "prefix.c0.c1..." with c_d in [0, dims[d]).
struct grid_spec {
  std::string prefix;          ///< e.g. "ffn", without a trailing dot
  std::vector<uint32_t> dims;  ///< the size of each grid dimension
};

/// The most dimensions and the largest dimension size validate_grid allows.
constexpr size_t max_grid_dims = 8;
constexpr uint32_t max_grid_dim_size = 65536;

/// Checks a grid: the prefix matches the uid grammar's [A-Za-z_][A-Za-z0-9_]*,
/// 1..8 dims, each dim in 1..65536. errc::bad_config naming the problem
/// otherwise; a default (empty) error when the grid is fine.
caf::error validate_grid(const grid_spec& grid);

/// The uid of the expert at `coords`, e.g. "ffn.3.7".
std::string uid_of(const grid_spec& grid, const std::vector<int64_t>& coords);

/// The DHT key of the prefix made of `coords` (the first r coordinates):
/// "ffn." for none, "ffn.3." for {3}.
std::string prefix_key(const grid_spec& grid, const std::vector<int64_t>& coords);

/// One selected expert of a sample.
struct expert_choice {
  std::string uid;              ///< e.g. "ffn.3.7"
  endpoint ep;                  ///< where the DHT says it is served
  float score = 0;              ///< the sum of its per-dimension scores
  std::vector<int64_t> coords;  ///< its grid coordinates
};

/// The live next coordinates under a prefix key, with the endpoint of an
/// expert below each (see dht::successors).
using successor_map = std::map<int64_t, endpoint>;

/// The beam search of one batch. Ordering everywhere: higher score first,
/// ties broken by uid ascending (string order, so "ffn.10" < "ffn.2").
/// Invariants: each sample's beam holds at most beam_size prefixes of
/// round() coordinates (k_best full experts once done), all of them live
/// according to the answers fed so far and sorted by the ordering above.
class beam_search {
public:
  /// Starts a search over `grid` (valid, see validate_grid) for one sample
  /// per row of `scores`; each row must hold sum(dims) floats (asserted: a
  /// wrong size is a caller bug). A batch without samples is done at once.
  beam_search(grid_spec grid, std::vector<std::vector<float>> scores, size_t k_best,
              size_t beam_size);

  /// Whether every dimension was searched, or every beam became empty.
  bool done() const { return done_; }

  /// The dimensions searched so far (at most dims.size()).
  size_t round() const { return round_; }

  /// The deduplicated, sorted prefix keys the next round needs, for all
  /// samples together: {"ffn."} for a one-dimensional grid, first-level
  /// prefixes ("ffn.3.") while probing. Empty once done().
  std::vector<std::string> pending_keys() const;

  /// Feeds the successors of the pending keys and advances: one dimension,
  /// or (probing) the first two once every sample found its live first
  /// coordinates. A pending key missing from `found` has no live
  /// successors; coordinates outside [0, dims[d]) are ignored, as are keys
  /// that are not pending. Ignored once done().
  void feed(const std::map<std::string, successor_map>& found);

  /// Per sample, up to k_best experts, best first; empty lists until done().
  std::vector<std::vector<expert_choice>> result() const;

private:
  /// A live prefix (or, in the last round, a full expert) in a beam.
  struct entry {
    std::vector<int64_t> coords;
    float score = 0;
    endpoint ep;
  };

  /// An extension of entry `parent` of a beam by coordinate `coord`.
  struct candidate {
    size_t parent = 0;
    int64_t coord = 0;
    float score = 0;
    const endpoint* ep = nullptr;
  };

  /// One sample's probe of the first dimension.
  struct probe {
    std::vector<int64_t> order;  ///< best first coordinates first (a prefix of them)
    size_t next = 0;             ///< order[next] is the next one to look at
    size_t window = 0;           ///< how many it asks for in the next round
    std::vector<int64_t> live;   ///< live ones found, best first
    size_t want = 0;             ///< beam_size
    size_t limit = 0;            ///< dims[0]
    bool complete() const { return live.size() >= want || next >= limit; }
  };

  std::vector<std::string> probe_keys() const;
  void feed_probe(const std::map<std::string, successor_map>& found);
  void advance(size_t sample);
  void step(const std::map<std::string, successor_map>& found);
  std::vector<candidate> candidates_of(size_t sample,
                                       const std::map<std::string, successor_map>& found) const;
  void select(size_t sample, std::vector<candidate>& cands, size_t keep);
  float score_of(size_t sample, size_t dim, int64_t coord) const;

  grid_spec grid_;
  std::vector<std::vector<float>> scores_;
  std::vector<size_t> offsets_;  ///< where each dimension's block starts
  size_t k_best_;
  size_t beam_size_;
  size_t round_ = 0;
  bool done_ = false;
  bool probing_ = false;                   ///< the first dimension is being probed
  std::vector<probe> probes_;              ///< one per sample while probing
  std::map<std::string, successor_map> probed_;  ///< answers so far (empty: none live)
  std::vector<std::vector<entry>> beams_;  ///< one per sample
};

/// The exhaustive reference: per sample (row of `scores`) the top `k` of
/// `alive` (uid -> endpoint), ordered as beam_search orders. Uids that do not
/// parse, belong to another prefix, have another number of coordinates or
/// a coordinate out of range are ignored.
std::vector<std::vector<expert_choice>>
exhaustive_top_k(const grid_spec& grid, const std::vector<std::vector<float>>& scores,
                 const std::map<std::string, endpoint>& alive, size_t k);

} // namespace colony::gate
