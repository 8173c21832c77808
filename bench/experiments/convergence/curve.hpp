// Experiment 2's reading of a trainer node's log: the key=value lines of
// actors/trainer/trainer_actor.cpp (per trainer: `step=S test_accuracy=A`
// at each eval_every, the progress line `step=S loss=L ... experts_asked=Q
// experts_answered=R ... failed_steps=F` at each log_every, and
// `event=finished ... test_accuracy=A`) become one curve point per step S
// at which every trainer has evaluated: mean test accuracy over the
// trainers, the samples all of them have trained on, and when the last one
// got there. Pure (no processes, no clock): fed line by line.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace colony::bench::convergence {

/// The number after ` key=` in `line`, if any.
inline std::optional<double> number_of(const std::string& line, const std::string& key) {
  auto at = line.find(" " + key + "=");
  if (at == std::string::npos)
    return std::nullopt;
  const char* start = line.c_str() + at + key.size() + 2;
  char* end = nullptr;
  double v = std::strtod(start, &end);
  if (end == start)
    return std::nullopt;
  return v;
}

/// One point of the curve.
struct point {
  uint64_t step = 0;
  uint64_t samples = 0;   ///< rows trained on, summed over trainers
  double wall_s = 0;      ///< when the last trainer evaluated this step
  double accuracy = 0;    ///< mean over the trainers
  double accuracy_min = 1, accuracy_max = 0;
  double loss = 0;        ///< mean training loss of the window ending here
};

/// Totals of the progress lines (training traffic; evaluation excluded).
struct totals {
  uint64_t asked = 0, answered = 0, timeouts = 0, short_samples = 0;
  uint64_t failed_steps = 0;  ///< the last progress line's count, summed
  std::vector<double> final_accuracy; ///< event=finished, one per trainer
  double finished_s = 0;      ///< when the last trainer finished
};

class curve {
public:
  curve(uint32_t trainers, uint64_t batch) : trainers_(trainers), batch_(batch) {}

  /// Feeds one log line seen `at_s` seconds after the start. Returns the
  /// points that this line completed (at most one).
  std::vector<point> feed(const std::string& line, double at_s) {
    std::vector<point> out;
    auto t = number_of(line, "trainer");
    if (!t || line.find(" trainer ") == std::string::npos)
      return out;
    auto who = static_cast<uint32_t>(*t);
    if (line.find("event=finished") != std::string::npos) {
      if (auto a = number_of(line, "test_accuracy"))
        totals_.final_accuracy.push_back(*a);
      totals_.finished_s = std::max(totals_.finished_s, at_s);
      return out;
    }
    auto step = number_of(line, "step");
    if (!step)
      return out;
    auto s = static_cast<uint64_t>(*step);
    auto& p = pending_[s];
    if (auto a = number_of(line, "test_accuracy")) {
      p.acc[who] = *a;
      p.last_s = std::max(p.last_s, at_s);
    } else if (auto l = number_of(line, "loss"); l && number_of(line, "experts_asked")) {
      p.loss[who] = *l;
      auto failed = static_cast<uint64_t>(number_of(line, "failed_steps").value_or(0));
      p.failed[who] = failed;
      last_failed_[who] = failed;
      totals_.asked += static_cast<uint64_t>(*number_of(line, "experts_asked"));
      totals_.answered += static_cast<uint64_t>(number_of(line, "experts_answered").value_or(0));
      totals_.timeouts += static_cast<uint64_t>(number_of(line, "timeouts").value_or(0));
      totals_.short_samples += static_cast<uint64_t>(number_of(line, "short_samples").value_or(0));
    } else {
      return out;
    }
    if (p.acc.size() == trainers_ && p.loss.size() == trainers_) {
      out.push_back(complete(s, p));
      pending_.erase(s);
    }
    return out;
  }

  const totals& sums() {
    totals_.failed_steps = 0;
    for (auto& [who, f] : last_failed_)
      totals_.failed_steps += f;
    return totals_;
  }

private:
  struct partial {
    std::map<uint32_t, double> acc, loss;
    std::map<uint32_t, uint64_t> failed;
    double last_s = 0;
  };

  point complete(uint64_t s, const partial& p) {
    point r;
    r.step = s;
    r.wall_s = p.last_s;
    double acc = 0, loss = 0;
    for (auto& [who, a] : p.acc) {
      acc += a;
      r.accuracy_min = std::min(r.accuracy_min, a);
      r.accuracy_max = std::max(r.accuracy_max, a);
    }
    for (auto& [who, l] : p.loss)
      loss += l;
    for (auto& [who, f] : p.failed)
      r.samples += (s - std::min(s, f)) * batch_;
    r.accuracy = acc / trainers_;
    r.loss = loss / trainers_;
    return r;
  }

  uint32_t trainers_;
  uint64_t batch_;
  std::map<uint64_t, partial> pending_;
  std::map<uint32_t, uint64_t> last_failed_;
  totals totals_;
};

} // namespace colony::bench::convergence
