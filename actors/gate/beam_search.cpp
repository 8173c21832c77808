#include "actors/gate/beam_search.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <set>
#include <string_view>
#include <utility>

#include "messages/errc.hpp"
#include "messages/expert_uid.hpp"

namespace colony::gate {

namespace {

/// Whether the decimal text of `a` sorts before that of `b` ("10" < "2"),
/// without allocating.
bool decimal_less(int64_t a, int64_t b) {
  char buf_a[24];
  char buf_b[24];
  auto end_a = std::to_chars(buf_a, buf_a + sizeof(buf_a), a).ptr;
  auto end_b = std::to_chars(buf_b, buf_b + sizeof(buf_b), b).ptr;
  return std::string_view(buf_a, end_a - buf_a) < std::string_view(buf_b, end_b - buf_b);
}

/// Whether the uid (or prefix key) of `a` sorts before that of `b` for
/// coordinate lists of equal length: the first differing coordinate decides
/// by its decimal text, which is how the uid strings compare.
bool coords_less(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  auto n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i])
      return decimal_less(a[i], b[i]);
  return a.size() < b.size();
}

/// Whether `coord` is a coordinate of a dimension of `size`.
bool in_range(int64_t coord, uint32_t size) {
  return coord >= 0 && coord < static_cast<int64_t>(size);
}

/// The offset of each dimension's block in a score row, and the row size.
std::pair<std::vector<size_t>, size_t> score_layout(const std::vector<uint32_t>& dims) {
  std::vector<size_t> offsets;
  size_t total = 0;
  for (auto d : dims) {
    offsets.push_back(total);
    total += d;
  }
  return {offsets, total};
}

} // namespace

caf::error validate_grid(const grid_spec& grid) {
  auto name = "grid '" + grid.prefix + "'";
  if (grid.prefix.find('.') != std::string::npos || !is_valid_prefix(grid.prefix + "."))
    return make_error(errc::bad_config,
                      name + ": prefix must match [A-Za-z_][A-Za-z0-9_]*");
  if (grid.dims.empty() || grid.dims.size() > max_grid_dims)
    return make_error(errc::bad_config, name + ": want 1.." + std::to_string(max_grid_dims)
                                          + " dims, got " + std::to_string(grid.dims.size()));
  for (size_t d = 0; d < grid.dims.size(); ++d)
    if (grid.dims[d] < 1 || grid.dims[d] > max_grid_dim_size)
      return make_error(errc::bad_config,
                        name + ": dim " + std::to_string(d) + " has size "
                          + std::to_string(grid.dims[d]) + ", want 1.."
                          + std::to_string(max_grid_dim_size));
  return {};
}

std::string uid_of(const grid_spec& grid, const std::vector<int64_t>& coords) {
  return make_uid(grid.prefix, coords);
}

std::string prefix_key(const grid_spec& grid, const std::vector<int64_t>& coords) {
  return make_prefix_key(grid.prefix, coords);
}

beam_search::beam_search(grid_spec grid, std::vector<std::vector<float>> scores,
                         size_t k_best, size_t beam_size)
  : grid_(std::move(grid)),
    scores_(std::move(scores)),
    k_best_(k_best),
    beam_size_(beam_size) {
  auto [offsets, row_size] = score_layout(grid_.dims);
  offsets_ = std::move(offsets);
  for ([[maybe_unused]] const auto& row : scores_)
    assert(row.size() == row_size && "a score row must hold sum(dims) floats");
  // Each beam starts as the empty prefix, whose key is "prefix.".
  beams_.assign(scores_.size(), std::vector<entry>(1));
  done_ = grid_.dims.empty() || scores_.empty();
  probing_ = !done_ && grid_.dims.size() > 1;
  if (!probing_)
    return;
  probes_.resize(scores_.size());
  for (auto& p : probes_) {
    p.want = std::max<size_t>(beam_size_, 1);
    p.limit = grid_.dims[0];
    p.window = p.want;
  }
  for (size_t b = 0; b < probes_.size(); ++b)
    advance(b);
}

std::vector<std::string> beam_search::pending_keys() const {
  if (done_)
    return {};
  if (probing_)
    return probe_keys();
  std::set<std::string> keys;
  for (const auto& beam : beams_)
    for (const auto& e : beam)
      keys.insert(prefix_key(grid_, e.coords));
  return {keys.begin(), keys.end()};
}

std::vector<std::string> beam_search::probe_keys() const {
  std::set<std::string> keys;
  for (const auto& p : probes_) {
    if (p.complete())
      continue;
    auto end = std::min(p.order.size(), p.next + p.window);
    for (auto i = p.next; i < end; ++i) {
      auto key = prefix_key(grid_, {p.order[i]});
      if (probed_.count(key) == 0)
        keys.insert(std::move(key));
    }
  }
  return {keys.begin(), keys.end()};
}

void beam_search::advance(size_t sample) {
  auto& p = probes_[sample];
  for (;;) {
    if (p.complete())
      return;
    // Keep the order known `window` past `next`: the best first coordinates
    // of this sample, ties by decimal text as everywhere.
    auto needed = std::min<size_t>(p.limit, p.next + p.window);
    if (p.order.size() < needed) {
      std::vector<int64_t> all(p.limit);
      for (size_t c = 0; c < all.size(); ++c)
        all[c] = static_cast<int64_t>(c);
      auto better = [&](int64_t a, int64_t b) {
        auto sa = score_of(sample, 0, a);
        auto sb = score_of(sample, 0, b);
        return sa != sb ? sa > sb : decimal_less(a, b);
      };
      std::partial_sort(all.begin(), all.begin() + needed, all.end(), better);
      all.resize(needed);
      p.order = std::move(all);
    }
    auto it = probed_.find(prefix_key(grid_, {p.order[p.next]}));
    if (it == probed_.end())
      return; // asked for in the next round
    if (!it->second.empty())
      p.live.push_back(p.order[p.next]);
    ++p.next;
  }
}

void beam_search::feed(const std::map<std::string, successor_map>& found) {
  if (done_)
    return;
  if (probing_) {
    feed_probe(found);
    return;
  }
  step(found);
}

void beam_search::feed_probe(const std::map<std::string, successor_map>& found) {
  // Record every pending key's answer (none: no live successor), keeping
  // only coordinates of the second dimension.
  for (const auto& key : probe_keys()) {
    auto& live = probed_[key];
    if (auto it = found.find(key); it != found.end())
      for (const auto& [coord, ep] : it->second)
        if (in_range(coord, grid_.dims[1]))
          live.emplace(coord, ep);
  }
  bool all_complete = true;
  for (size_t b = 0; b < probes_.size(); ++b) {
    advance(b);
    if (!probes_[b].complete()) {
      probes_[b].window *= 2; // too few live: ask for twice as many
      advance(b);
      all_complete = false;
    }
  }
  if (!all_complete)
    return;
  // The first dimension's beams: each sample's best live first coordinates.
  bool any_left = false;
  for (size_t b = 0; b < beams_.size(); ++b) {
    std::vector<entry> beam;
    for (auto c : probes_[b].live) {
      if (beam.size() == beam_size_)
        break;
      const auto& below = probed_.at(prefix_key(grid_, {c}));
      beam.push_back({{c}, score_of(b, 0, c), below.begin()->second});
    }
    any_left = any_left || !beam.empty();
    beams_[b] = std::move(beam);
  }
  probing_ = false;
  probes_.clear();
  round_ = 1;
  if (!any_left) {
    done_ = true;
    return;
  }
  auto answers = std::move(probed_);
  probed_.clear();
  step(answers);
}

void beam_search::step(const std::map<std::string, successor_map>& found) {
  auto last = round_ + 1 == grid_.dims.size();
  auto keep = last ? k_best_ : beam_size_;
  bool any_left = false;
  for (size_t b = 0; b < beams_.size(); ++b) {
    auto cands = candidates_of(b, found);
    select(b, cands, keep);
    any_left = any_left || !beams_[b].empty();
  }
  ++round_;
  done_ = last || !any_left;
}

std::vector<beam_search::candidate>
beam_search::candidates_of(size_t sample,
                           const std::map<std::string, successor_map>& found) const {
  std::vector<candidate> cands;
  const auto& beam = beams_[sample];
  auto size = grid_.dims[round_];
  for (size_t i = 0; i < beam.size(); ++i) {
    auto it = found.find(prefix_key(grid_, beam[i].coords));
    if (it == found.end())
      continue;
    for (const auto& [coord, ep] : it->second)
      if (in_range(coord, size))
        cands.push_back({i, coord, beam[i].score + score_of(sample, round_, coord), &ep});
  }
  return cands;
}

void beam_search::select(size_t sample, std::vector<candidate>& cands, size_t keep) {
  const auto& beam = beams_[sample];
  auto better = [&](const candidate& a, const candidate& b) {
    if (a.score != b.score)
      return a.score > b.score;
    if (a.parent != b.parent)
      return coords_less(beam[a.parent].coords, beam[b.parent].coords);
    return decimal_less(a.coord, b.coord);
  };
  auto n = std::min(keep, cands.size());
  std::partial_sort(cands.begin(), cands.begin() + n, cands.end(), better);
  std::vector<entry> next;
  next.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto coords = beam[cands[i].parent].coords;
    coords.push_back(cands[i].coord);
    next.push_back({std::move(coords), cands[i].score, *cands[i].ep});
  }
  beams_[sample] = std::move(next);
}

float beam_search::score_of(size_t sample, size_t dim, int64_t coord) const {
  return scores_[sample][offsets_[dim] + static_cast<size_t>(coord)];
}

std::vector<std::vector<expert_choice>> beam_search::result() const {
  std::vector<std::vector<expert_choice>> out(beams_.size());
  if (!done_)
    return out;
  for (size_t b = 0; b < beams_.size(); ++b)
    for (const auto& e : beams_[b])
      if (e.coords.size() == grid_.dims.size())
        out[b].push_back({uid_of(grid_, e.coords), e.ep, e.score, e.coords});
  return out;
}

std::vector<std::vector<expert_choice>>
exhaustive_top_k(const grid_spec& grid, const std::vector<std::vector<float>>& scores,
                 const std::map<std::string, endpoint>& alive, size_t k) {
  auto offsets = score_layout(grid.dims).first;
  // The experts of this grid, in uid order (the map's), so that a stable
  // order by score alone breaks ties by uid.
  std::vector<std::pair<expert_uid, const std::pair<const std::string, endpoint>*>> experts;
  for (const auto& kv : alive) {
    auto parsed = parse_uid(kv.first);
    if (!parsed || parsed->prefix != grid.prefix || parsed->coords.size() != grid.dims.size())
      continue;
    bool fits = true;
    for (size_t d = 0; d < grid.dims.size(); ++d)
      fits = fits && in_range(parsed->coords[d], grid.dims[d]);
    if (fits)
      experts.emplace_back(std::move(*parsed), &kv);
  }
  std::vector<std::vector<expert_choice>> out;
  for (const auto& row : scores) {
    std::vector<std::pair<float, size_t>> ranked;  // (score, index into experts)
    for (size_t i = 0; i < experts.size(); ++i) {
      float score = 0;
      for (size_t d = 0; d < grid.dims.size(); ++d)
        score += row[offsets[d] + static_cast<size_t>(experts[i].first.coords[d])];
      ranked.emplace_back(score, i);
    }
    auto better = [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    };
    auto n = std::min(k, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + n, ranked.end(), better);
    std::vector<expert_choice> top;
    for (size_t i = 0; i < n; ++i) {
      const auto& [parsed, kv] = experts[ranked[i].second];
      top.push_back({kv->first, kv->second, ranked[i].first, parsed.coords});
    }
    out.push_back(std::move(top));
  }
  return out;
}

} // namespace colony::gate
