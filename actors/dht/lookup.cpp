#include "actors/dht/lookup.hpp"

#include <algorithm>

namespace colony::dht {

lookup::lookup(node_id target, size_t k, size_t alpha,
               const std::vector<contact>& initial, node_id self,
               size_t values_wanted)
  : target_(target), k_(std::max<size_t>(k, 1)),
    alpha_(std::max<size_t>(alpha, 1)), self_(self),
    values_wanted_(values_wanted) {
  for (const auto& c : initial)
    add_candidate(c, 1);
}

std::vector<contact> lookup::next_requests() {
  std::vector<contact> result;
  if (done())
    return result;
  size_t rank = 0;
  for (auto& [dist, x] : candidates_) {
    if (rank == k_ || in_flight_ == alpha_)
      break;
    if (x.st == state::failed || x.st == state::slow)
      continue;
    ++rank;
    if (x.st == state::fresh) {
      x.st = state::in_flight;
      ++in_flight_;
      result.push_back(x.peer);
    }
  }
  return result;
}

bool lookup::on_reply(const node_id& from, const std::vector<contact>& returned,
                      bool found_value) {
  auto* x = outstanding(from);
  if (x == nullptr)
    return false;
  settle(*x, state::answered);
  if (found_value) {
    ++values_;
    if (!value_key_)
      value_key_ = from ^ target_;
  }
  for (const auto& c : returned)
    add_candidate(c, x->depth + 1);
  return true;
}

void lookup::on_failure(const node_id& from) {
  if (auto* x = outstanding(from)) {
    settle(*x, state::failed);
    return;
  }
  auto i = candidates_.find(from ^ target_);
  if (i != candidates_.end() && i->second.st == state::fresh)
    i->second.st = state::failed;
}

void lookup::on_slow(const node_id& from) {
  auto* x = outstanding(from);
  if (x == nullptr || x->st != state::in_flight)
    return;
  x->st = state::slow;
  --in_flight_;
  ++slow_;
}

bool lookup::done() const {
  if (values_wanted_ > 0 && values_ >= values_wanted_)
    return true;
  size_t rank = 0;
  for (const auto& [dist, x] : candidates_) {
    if (rank == k_)
      break;
    if (x.st == state::failed || x.st == state::slow)
      continue;
    if (x.st != state::answered)
      return false;
    ++rank;
  }
  return rank > 0 || slow_ == 0;
}

std::vector<contact> lookup::result() const {
  std::vector<contact> result;
  for (const auto& [dist, x] : candidates_) {
    if (result.size() == k_)
      break;
    if (x.st == state::answered)
      result.push_back(x.peer);
  }
  return result;
}

const contact* lookup::value_source() const {
  return value_key_ ? &candidates_.at(*value_key_).peer : nullptr;
}

size_t lookup::hops() const {
  if (value_key_)
    return candidates_.at(*value_key_).depth;
  for (const auto& [dist, x] : candidates_)
    if (x.st == state::answered)
      return x.depth;
  return 0;
}

void lookup::add_candidate(const contact& c, size_t depth) {
  if (c.id == self_)
    return;
  auto [i, added] = candidates_.emplace(c.id ^ target_, candidate{c, depth});
  if (!added)
    i->second.depth = std::min(i->second.depth, depth);
}

lookup::candidate* lookup::outstanding(const node_id& id) {
  auto i = candidates_.find(id ^ target_);
  if (i == candidates_.end()
      || (i->second.st != state::in_flight && i->second.st != state::slow))
    return nullptr;
  return &i->second;
}

void lookup::settle(candidate& x, state to) {
  if (x.st == state::slow)
    --slow_;
  else
    --in_flight_;
  x.st = to;
}

} // namespace colony::dht
