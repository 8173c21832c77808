#include "actors/averaging/allreduce_state.hpp"

#include <algorithm>

#include "messages/errc.hpp"

namespace colony::averaging {

allreduce_state::allreduce_state(std::vector<float> flat, uint32_t members, uint32_t parts,
                                 uint32_t self, uint32_t max_retries)
  : flat_(std::move(flat)), out_(flat_.size(), 0.0f), have_(parts, 0), count_(members, 0),
    members_(members), parts_(parts), self_(self), max_retries_(max_retries), missing_(parts) {
  // nop
}

caf::error allreduce_state::accept(uint32_t p, std::vector<float> mean,
                                   std::vector<uint32_t> contributors) {
  if (p >= parts_)
    return make_error(errc::bad_request, "part " + std::to_string(p) + " of "
                                           + std::to_string(parts_));
  auto r = range(p);
  if (mean.size() != r.size())
    return make_error(errc::bad_shape, "averaged part " + std::to_string(p) + ": want "
                                         + std::to_string(r.size()) + " values, got "
                                         + std::to_string(mean.size()));
  if (have_[p])
    return caf::none;
  std::copy(mean.begin(), mean.end(), out_.begin() + static_cast<ptrdiff_t>(r.begin));
  std::sort(contributors.begin(), contributors.end());
  contributors.erase(std::unique(contributors.begin(), contributors.end()), contributors.end());
  for (auto c : contributors)
    if (c < members_)
      ++count_[c];
  have_[p] = 1;
  --missing_;
  return caf::none;
}

std::vector<uint32_t> allreduce_state::missing() const {
  std::vector<uint32_t> out;
  for (uint32_t p = 0; p < parts_; ++p)
    if (!have_[p])
      out.push_back(p);
  return out;
}

bool allreduce_state::next_attempt() {
  if (done() || attempt_ >= max_retries_ || attempt_ + 1 >= members_)
    return false;
  ++attempt_;
  return true;
}

std::vector<uint32_t> allreduce_state::delivered() const {
  std::vector<uint32_t> out;
  for (uint32_t m = 0; m < members_; ++m)
    if (count_[m] == parts_)
      out.push_back(m);
  return out;
}

} // namespace colony::averaging
