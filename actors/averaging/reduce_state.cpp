#include "actors/averaging/reduce_state.hpp"

#include <cmath>

#include "messages/errc.hpp"

namespace colony::averaging {

reduce_state::reduce_state(uint32_t part, uint64_t size, uint32_t members)
  : part_(part), sum_(size, 0.0), member_(members, pending), waiting_(members) {
  // nop
}

caf::error reduce_state::add(uint32_t sender, double weight, const std::vector<float>& values) {
  auto what = "part " + std::to_string(part_) + " from member " + std::to_string(sender);
  if (sender >= member_.size())
    return make_error(errc::bad_request, what + ": no such member (group of "
                                           + std::to_string(member_.size()) + ")");
  if (member_[sender] != pending)
    return make_error(errc::bad_request, what + ": already delivered or dropped");
  if (!std::isfinite(weight) || weight <= 0) {
    drop(sender);
    return make_error(errc::bad_request, what + ": weight must be positive and finite");
  }
  if (values.size() != sum_.size()) {
    drop(sender);
    return make_error(errc::bad_shape, what + ": want " + std::to_string(sum_.size())
                                         + " values, got " + std::to_string(values.size()));
  }
  for (size_t i = 0; i < values.size(); ++i)
    sum_[i] += weight * static_cast<double>(values[i]);
  weight_ += weight;
  member_[sender] = delivered;
  --waiting_;
  return caf::none;
}

void reduce_state::drop(uint32_t member) {
  if (member < member_.size() && member_[member] == pending) {
    member_[member] = dropped;
    --waiting_;
  }
}

bool reduce_state::waits_for(uint32_t sender) const {
  return sender < member_.size() && member_[sender] == pending;
}

std::vector<float> reduce_state::mean() const {
  std::vector<float> out(sum_.size(), 0.0f);
  if (weight_ > 0)
    for (size_t i = 0; i < sum_.size(); ++i)
      out[i] = static_cast<float>(sum_[i] / weight_);
  return out;
}

std::vector<uint32_t> reduce_state::contributors() const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < member_.size(); ++i)
    if (member_[i] == delivered)
      out.push_back(i);
  return out;
}

} // namespace colony::averaging
