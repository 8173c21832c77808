#include "actors/averaging/matchmaking.hpp"

#include <algorithm>
#include <set>

#include "messages/errc.hpp"

namespace colony::averaging {

std::string choose_leader(const std::vector<std::string>& ready, const std::string& self) {
  auto best = self;
  for (auto& x : ready)
    if (!x.empty() && x < best)
      best = x;
  return best;
}

leader_state::leader_state(std::string self, std::string run, uint64_t layout,
                           uint32_t group_size, uint32_t min_group)
  : self_(std::move(self)), run_(std::move(run)), layout_(layout), group_size_(group_size),
    min_group_(min_group) {
  // nop
}

caf::error leader_state::join(const avg_join& j) {
  if (j.run != run_)
    return make_error(errc::bad_request, "join for run '" + j.run + "', this leader averages '"
                                           + run_ + "'");
  if (j.layout != layout_)
    return make_error(errc::bad_shape, "join from " + j.endpoint
                                         + ": its tensors' names or shapes differ from the "
                                           "leader's (layout hash mismatch)");
  if (j.endpoint == self_ || std::count(joins_.begin(), joins_.end(), j.endpoint) > 0)
    return caf::none;
  if (joins_.size() + 1 >= group_size_)
    return make_error(errc::bad_request, "group of " + self_ + " is full ("
                                           + std::to_string(group_size_) + " members)");
  joins_.push_back(j.endpoint);
  return caf::none;
}

caf::expected<avg_group> leader_state::close(uint64_t round, uint32_t parts) const {
  auto members = joins_.size() + 1;
  if (members < min_group_)
    return make_error(errc::timeout, std::to_string(members) + " of min_group="
                                       + std::to_string(min_group_)
                                       + " peers joined within the join window");
  avg_group g;
  g.round = round;
  g.members = joins_;
  g.members.push_back(self_);
  std::sort(g.members.begin(), g.members.end());
  g.parts = parts;
  return g;
}

caf::expected<uint32_t> check_group(const avg_group& g, const std::string& self,
                                    uint32_t group_size) {
  std::set<std::string> unique{g.members.begin(), g.members.end()};
  if (g.members.empty() || g.members.size() > group_size || unique.size() != g.members.size())
    return make_error(errc::bad_request, "group of " + std::to_string(g.members.size())
                                           + " members is empty, too large or repeats one");
  if (g.parts == 0 || g.parts % g.members.size() != 0)
    return make_error(errc::bad_request, "group with " + std::to_string(g.parts)
                                           + " parts for " + std::to_string(g.members.size())
                                           + " members");
  auto it = std::find(g.members.begin(), g.members.end(), self);
  if (it == g.members.end())
    return make_error(errc::bad_request, "group without " + self);
  return static_cast<uint32_t>(it - g.members.begin());
}

} // namespace colony::averaging
