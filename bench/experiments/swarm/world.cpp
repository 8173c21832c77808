// world: the truth (which cell is served where), the pool of search peers,
// the finished searches.
#include "bench/experiments/swarm/world.hpp"

#include <algorithm>

namespace colony::swarm_exp {

world::world(const settings& s) : cfg_(s), grid_{s.prefix, s.grid} {
  size_t total = 0;
  for (auto d : s.grid) {
    offsets_.push_back(total);
    total += d;
  }
  owner_.assign(grid_cells(s), -1);
  slots_.resize(s.declarers);
}

std::vector<int64_t> world::coords_of(size_t c) const {
  std::vector<int64_t> coords(grid_.dims.size());
  for (size_t d = grid_.dims.size(); d-- > 0;) {
    coords[d] = static_cast<int64_t>(c % grid_.dims[d]);
    c /= grid_.dims[d];
  }
  return coords;
}

void world::serve(size_t c, int32_t owner, const endpoint& ep) {
  std::lock_guard<std::mutex> guard{mx_};
  owner_[c] = owner;
  if (owner >= 0)
    slots_[owner] = {true, ep};
}

void world::set_slot(int32_t owner, bool live, const endpoint& ep) {
  std::lock_guard<std::mutex> guard{mx_};
  slots_[owner] = {live, ep};
}

float world::score_of(const std::vector<float>& scores, size_t c) const {
  // Summed in order of the dimensions, from 0, as gate::beam_search does.
  float total = 0;
  size_t rest = c;
  size_t stride = owner_.size();
  for (size_t d = 0; d < grid_.dims.size(); ++d) {
    stride /= grid_.dims[d];
    total += scores[offsets_[d] + rest / stride];
    rest %= stride;
  }
  return total;
}

std::vector<gate::expert_choice> world::true_top_k(const std::vector<float>& scores) const {
  std::vector<std::pair<float, size_t>> ranked;
  std::vector<endpoint> eps;
  {
    std::lock_guard<std::mutex> guard{mx_};
    ranked.reserve(owner_.size());
    for (size_t c = 0; c < owner_.size(); ++c)
      if (owner_[c] >= 0 && slots_[owner_[c]].live)
        ranked.emplace_back(score_of(scores, c), c);
    auto n = std::min(cfg_.k_best, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + n, ranked.end(),
                      [&](const auto& a, const auto& b) {
                        if (a.first != b.first)
                          return a.first > b.first;
                        return gate::uid_of(grid_, coords_of(a.second))
                               < gate::uid_of(grid_, coords_of(b.second));
                      });
    ranked.resize(n);
    for (const auto& r : ranked)
      eps.push_back(slots_[owner_[r.second]].ep);
  }
  std::vector<gate::expert_choice> top;
  for (size_t i = 0; i < ranked.size(); ++i) {
    auto coords = coords_of(ranked[i].second);
    top.push_back({gate::uid_of(grid_, coords), eps[i], ranked[i].first, coords});
  }
  return top;
}

std::map<std::string, endpoint> world::served() const {
  std::lock_guard<std::mutex> guard{mx_};
  std::map<std::string, endpoint> out;
  for (size_t c = 0; c < owner_.size(); ++c)
    if (owner_[c] >= 0 && slots_[owner_[c]].live)
      out.emplace(gate::uid_of(grid_, coords_of(c)), slots_[owner_[c]].ep);
  return out;
}

void world::score(const std::vector<float>& scores,
                  const std::vector<gate::expert_choice>& returned, search_record& rec) const {
  auto truth = true_top_k(scores);
  auto same = [](const gate::expert_choice& a, const gate::expert_choice& b) {
    return a.uid == b.uid && a.ep == b.ep;
  };
  size_t hits = 0;
  for (const auto& t : truth)
    hits += std::any_of(returned.begin(), returned.end(),
                        [&](const auto& r) { return same(r, t); })
              ? 1
              : 0;
  rec.returned = static_cast<uint32_t>(returned.size());
  rec.recall = truth.empty() ? 1.0 : static_cast<double>(hits) / truth.size();
  rec.exact = hits == truth.size() && returned.size() == truth.size();
  std::lock_guard<std::mutex> guard{mx_};
  rec.stale = 0;
  for (const auto& r : returned) {
    size_t c = 0;
    for (size_t d = 0; d < r.coords.size(); ++d)
      c = c * grid_.dims[d] + static_cast<size_t>(r.coords[d]);
    auto owner = owner_[c];
    bool served_there = owner >= 0 && slots_[owner].live && slots_[owner].ep == r.ep;
    rec.stale += served_there ? 0 : 1;
  }
}

void world::add_search_peer(size_t index, dht::peer_actor handle) {
  std::lock_guard<std::mutex> guard{mx_};
  handles_[index] = std::move(handle);
  idle_.push_back(index);
}

std::optional<std::pair<size_t, dht::peer_actor>> world::borrow(std::mt19937_64& rng) {
  std::lock_guard<std::mutex> guard{mx_};
  if (idle_.empty())
    return std::nullopt;
  auto pos = rng() % idle_.size();
  auto index = idle_[pos];
  idle_[pos] = idle_.back();
  idle_.pop_back();
  return std::make_pair(index, handles_.at(index));
}

void world::give_back(size_t index) {
  std::lock_guard<std::mutex> guard{mx_};
  if (handles_.count(index) > 0)
    idle_.push_back(index);
}

std::optional<size_t> world::take_random_idle(std::mt19937_64& rng) {
  std::lock_guard<std::mutex> guard{mx_};
  if (idle_.empty())
    return std::nullopt;
  auto pos = rng() % idle_.size();
  auto index = idle_[pos];
  idle_[pos] = idle_.back();
  idle_.pop_back();
  handles_.erase(index);
  return index;
}

size_t world::search_peers() const {
  std::lock_guard<std::mutex> guard{mx_};
  return handles_.size();
}

void world::record(search_record rec) {
  std::lock_guard<std::mutex> guard{mx_};
  records_.push_back(rec);
}

std::vector<search_record> world::take_records() {
  std::lock_guard<std::mutex> guard{mx_};
  return std::exchange(records_, {});
}

} // namespace colony::swarm_exp
