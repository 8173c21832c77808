// A member's side of one butterfly all-reduce (pure, CAF-free). The flat
// vector is cut into `parts` (a multiple of the group size G); attempt 0
// sends part p to member p % G, which averages it over what arrived and
// sends the mean back. A part whose reducer failed is "orphaned" and sent
// again at attempt a to member (p + a) % G: every survivor walks the same
// sequence, so all meet at the first live reducer. At most max_retries
// extra attempts, all within the round's deadline.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "actors/averaging/tensors.hpp"

namespace colony::averaging {

class allreduce_state {
public:
  /// `flat` is this member's vector; `members` the group size.
  allreduce_state(std::vector<float> flat, uint32_t members, uint32_t parts, uint32_t self,
                  uint32_t max_retries);

  /// The reducer of part `p` at attempt `a`.
  uint32_t reducer_of(uint32_t p, uint32_t a) const { return (p + a) % members_; }

  /// The range of part `p` in the flat vector.
  part_range range(uint32_t p) const { return part_of(flat_.size(), parts_, p); }

  /// This member's own values of part `p`.
  const float* local(uint32_t p) const { return flat_.data() + range(p).begin; }

  /// Stores the averaged part `p` (its size checked: errc::bad_shape) and
  /// the members that contributed to it.
  caf::error accept(uint32_t p, std::vector<float> mean, std::vector<uint32_t> contributors);

  /// Parts not averaged yet, ascending.
  std::vector<uint32_t> missing() const;

  /// Moves to the next attempt for the missing parts; false when the
  /// retries are used up (or nothing is missing).
  bool next_attempt();

  uint32_t attempt() const { return attempt_; }
  bool done() const { return missing_ == 0; }

  /// The averaged flat vector (valid once done()).
  const std::vector<float>& result() const { return out_; }

  /// Members that contributed to every part, ascending.
  std::vector<uint32_t> delivered() const;

  uint32_t parts() const { return parts_; }
  uint32_t members() const { return members_; }
  uint32_t self() const { return self_; }

private:
  std::vector<float> flat_;
  std::vector<float> out_;
  std::vector<uint8_t> have_;
  std::vector<uint32_t> count_; ///< per member: parts it contributed to
  uint32_t members_;
  uint32_t parts_;
  uint32_t self_;
  uint32_t max_retries_;
  uint32_t attempt_ = 0;
  uint32_t missing_;
};

} // namespace colony::averaging
