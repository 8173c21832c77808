// The reducer's side of one part of one round (pure, CAF-free): which
// members contributed, the weighted sum so far, and when it is done.
// Invariants: it holds exactly `size` floats whatever arrives; a member
// contributes at most once; a contribution of the wrong size, from an
// unknown member or with a bad weight is refused (an error naming the
// problem) and that member is no longer waited for.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>

namespace colony::averaging {

class reduce_state {
public:
  /// Part `part` (`size` floats) of a group of `members`.
  reduce_state(uint32_t part, uint64_t size, uint32_t members);

  /// Adds member `sender`'s values with `weight` (> 0, finite).
  /// errc::bad_request for an unknown or repeated sender or a bad weight,
  /// errc::bad_shape for a wrong size.
  caf::error add(uint32_t sender, double weight, const std::vector<float>& values);

  /// The member will not deliver (it died, or was refused): stop waiting.
  void drop(uint32_t member);

  /// All members delivered or were dropped.
  bool complete() const { return waiting_ == 0; }

  /// Whether the reducer may still take `sender`'s contribution.
  bool waits_for(uint32_t sender) const;

  /// The weighted mean of what arrived (all zeros when nothing did).
  std::vector<float> mean() const;

  /// Indices of the members whose values are in the mean, ascending.
  std::vector<uint32_t> contributors() const;

  uint64_t size() const { return sum_.size(); }
  uint32_t part() const { return part_; }

private:
  enum : uint8_t { pending, delivered, dropped };
  uint32_t part_;
  std::vector<double> sum_;
  double weight_ = 0;
  std::vector<uint8_t> member_;
  uint32_t waiting_;
};

} // namespace colony::averaging
