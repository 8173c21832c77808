#include "actors/dht/rtt.hpp"

#include <algorithm>
#include <cmath>

namespace colony::dht {

void rtt_estimate::observe(double seconds) {
  seconds = std::max(seconds, 0.0);
  if (samples_++ == 0) {
    srtt_ = seconds;
    rttvar_ = seconds / 2;
  } else {
    rttvar_ = 0.75 * rttvar_ + 0.25 * std::abs(srtt_ - seconds);
    srtt_ = 0.875 * srtt_ + 0.125 * seconds;
  }
  backoff_ = 1;
}

double rtt_estimate::timeout(double floor, double ceiling) const {
  if (!known())
    return ceiling;
  floor = std::min(floor, ceiling); // the configured maximum is never exceeded
  return std::clamp((srtt_ + 4 * rttvar_) * backoff_, floor, ceiling);
}

void rtt_table::observe(const endpoint& ep, double seconds) {
  auto i = peers_.find(ep);
  if (i == peers_.end()) {
    if (capacity_ == 0)
      return;
    if (peers_.size() >= capacity_)
      peers_.erase(peers_.begin());
    i = peers_.emplace(ep, rtt_estimate{}).first;
  }
  i->second.observe(seconds);
  all_.observe(seconds);
}

void rtt_table::backoff(const endpoint& ep) {
  if (auto i = peers_.find(ep); i != peers_.end())
    i->second.backoff();
}

double rtt_table::timeout(const endpoint& ep, double floor, double ceiling) const {
  auto i = peers_.find(ep);
  return i == peers_.end() ? ceiling : i->second.timeout(floor, ceiling);
}

double rtt_table::stall_after(const endpoint& ep, double floor, double ceiling) const {
  return std::min(timeout(ep, floor, ceiling), all_.timeout(floor, ceiling));
}

} // namespace colony::dht
