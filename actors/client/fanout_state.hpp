// The pure, CAF-free state of one fan-out: which calls answered and how,
// a quorum predicate, the deadline, and when the fan-out therefore ends.
// The actor that drives a fan-out (fanout.hpp) feeds answers in and asks
// end_time(); unit tests drive it with a fake clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace colony {

class fanout_state {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  /// Asked after each answer with the call's index and outcome.
  using quorum_fn = std::function<bool(const fanout_state&, size_t call, bool ok)>;

  /// `calls` requests that all end by `deadline`. `quorum` is asked after
  /// every answer; once it holds, the fan-out ends `grace` later (never
  /// after the deadline). Without a quorum the fan-out waits for all.
  fanout_state(size_t calls, time_point deadline, std::chrono::nanoseconds grace = {},
               quorum_fn quorum = {});

  /// Records the outcome of call `i` at `now`; the first record of a call
  /// wins (returns false for a late duplicate or an out-of-range index).
  bool record(size_t i, bool ok, time_point now);

  size_t size() const { return state_.size(); }
  bool answered(size_t i) const { return state_.at(i) != pending; }
  bool succeeded(size_t i) const { return state_.at(i) == ok_state; }
  size_t answered_count() const { return answered_; }
  size_t succeeded_count() const { return succeeded_; }
  bool all_answered() const { return answered_ == state_.size(); }

  /// When the quorum first held, if it did.
  std::optional<time_point> quorum_time() const { return quorum_time_; }
  time_point deadline() const { return deadline_; }

  /// When the fan-out ends: the last answer's time once all answered, else
  /// quorum time + grace, else the deadline (whichever is first).
  time_point end_time() const;

  /// Whether the fan-out has ended at `now`.
  bool finished(time_point now) const { return now >= end_time(); }

private:
  enum : uint8_t { pending, ok_state, failed_state };
  std::vector<uint8_t> state_;
  time_point deadline_;
  std::chrono::nanoseconds grace_;
  quorum_fn quorum_;
  size_t answered_ = 0;
  size_t succeeded_ = 0;
  std::optional<time_point> quorum_time_;
  std::optional<time_point> all_time_;
};

/// A per-sample quorum over a fan-out whose call `c` carries the samples
/// `samples_of_call[c]`: it holds when every sample is settled, i.e. has
/// `k_min` successful answers or no call of it is still pending. (The
/// reference counts k_min over the whole batch; this counts per sample.)
class sample_quorum {
public:
  sample_quorum(size_t samples, std::vector<std::vector<uint32_t>> samples_of_call, size_t k_min);

  /// Records call `c`'s outcome (call it once per call).
  void record(size_t c, bool ok);

  /// Every sample settled.
  bool reached() const { return unsettled_ == 0; }

  /// Successful answers of sample `s` so far.
  size_t ok_count(size_t s) const { return ok_.at(s); }

  /// Samples with fewer than k_min successful answers.
  size_t short_samples() const;

  size_t k_min() const { return k_min_; }

private:
  bool settled(size_t s) const { return ok_[s] >= k_min_ || pending_[s] == 0; }

  std::vector<std::vector<uint32_t>> samples_of_call_;
  std::vector<size_t> ok_;
  std::vector<size_t> pending_;
  std::vector<bool> recorded_;
  size_t k_min_;
  size_t unsettled_ = 0;
};

} // namespace colony
