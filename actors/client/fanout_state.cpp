#include "actors/client/fanout_state.hpp"

#include <algorithm>

namespace colony {

fanout_state::fanout_state(size_t calls, time_point deadline, std::chrono::nanoseconds grace,
                           quorum_fn quorum)
  : state_(calls, pending), deadline_(deadline), grace_(grace), quorum_(std::move(quorum)) {
  // nop
}

bool fanout_state::record(size_t i, bool ok, time_point now) {
  if (i >= state_.size() || state_[i] != pending)
    return false;
  state_[i] = ok ? ok_state : failed_state;
  ++answered_;
  if (ok)
    ++succeeded_;
  if (quorum_ && quorum_(*this, i, ok) && !quorum_time_)
    quorum_time_ = now;
  if (all_answered())
    all_time_ = now;
  return true;
}

fanout_state::time_point fanout_state::end_time() const {
  auto result = deadline_;
  if (all_time_ || state_.empty())
    result = std::min(result, all_time_.value_or(time_point{}));
  if (quorum_time_)
    result = std::min(result, *quorum_time_ + grace_);
  return result;
}

sample_quorum::sample_quorum(size_t samples, std::vector<std::vector<uint32_t>> samples_of_call,
                             size_t k_min)
  : samples_of_call_(std::move(samples_of_call)), ok_(samples, 0), pending_(samples, 0),
    recorded_(samples_of_call_.size(), false), k_min_(k_min) {
  for (auto& ss : samples_of_call_)
    for (auto s : ss)
      if (s < samples)
        ++pending_[s];
  for (size_t s = 0; s < samples; ++s)
    if (!settled(s))
      ++unsettled_;
}

void sample_quorum::record(size_t c, bool ok) {
  if (c >= recorded_.size() || recorded_[c])
    return;
  recorded_[c] = true;
  for (auto s : samples_of_call_[c]) {
    if (s >= ok_.size())
      continue;
    bool was = settled(s);
    --pending_[s];
    if (ok)
      ++ok_[s];
    if (!was && settled(s))
      --unsettled_;
  }
}

size_t sample_quorum::short_samples() const {
  return static_cast<size_t>(
    std::count_if(ok_.begin(), ok_.end(), [this](size_t n) { return n < k_min_; }));
}

} // namespace colony
