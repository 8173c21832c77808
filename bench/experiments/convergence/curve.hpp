// Experiment 2's reading of a trainer node's log: the key=value lines of
// actors/trainer/ (the model's evaluation `model version=V samples=S
// test_accuracy=A` at each eval_every and once at the end, each trainer's
// progress line `trainer=T step=S loss=L ... experts_asked=Q
// experts_answered=R ... failed_steps=F` at each log_every, and
// `trainer=T event=finished`) become one curve point per evaluation of the
// node's one model: its version, the samples it was trained on, its test
// accuracy, and the mean of the trainers' latest training losses. Pure (no
// processes, no clock): fed line by line.
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
  uint64_t step = 0;      ///< the model's version
  uint64_t samples = 0;   ///< rows the model was trained on
  double wall_s = 0;      ///< when it was evaluated
  double accuracy = 0;    ///< the model's test accuracy
  double loss = 0;        ///< mean of the trainers' latest window losses
};

/// Totals of the progress lines (training traffic; evaluation excluded).
struct totals {
  uint64_t asked = 0, answered = 0, timeouts = 0, short_samples = 0;
  uint64_t failed_steps = 0;     ///< the last progress line's count, summed
  uint32_t finished = 0;         ///< trainers that logged event=finished
  std::optional<double> final_accuracy; ///< the last evaluation of the model
  uint64_t final_samples = 0;
  double finished_s = 0;         ///< when the last trainer finished
};

class curve {
public:
  curve() = default;

  /// Feeds one log line seen `at_s` seconds after the start. Returns the
  /// points that this line completed (at most one).
  std::vector<point> feed(const std::string& line, double at_s) {
    std::vector<point> out;
    if (line.find(" trainer ") == std::string::npos)
      return out;
    if (line.find(" model version=") != std::string::npos) {
      auto a = number_of(line, "test_accuracy");
      if (!a)
        return out;
      point p;
      p.step = static_cast<uint64_t>(number_of(line, "version").value_or(0));
      p.samples = static_cast<uint64_t>(number_of(line, "samples").value_or(0));
      p.wall_s = at_s;
      p.accuracy = *a;
      for (auto& [who, l] : loss_)
        p.loss += l / static_cast<double>(loss_.size());
      totals_.final_accuracy = *a;
      totals_.final_samples = p.samples;
      out.push_back(p);
      return out;
    }
    auto t = number_of(line, "trainer");
    if (!t)
      return out;
    auto who = static_cast<uint32_t>(*t);
    if (line.find("event=finished") != std::string::npos) {
      ++totals_.finished;
      totals_.finished_s = std::max(totals_.finished_s, at_s);
      return out;
    }
    auto l = number_of(line, "loss");
    auto asked = number_of(line, "experts_asked");
    if (!l || !asked || !number_of(line, "step"))
      return out;
    loss_[who] = *l;
    last_failed_[who] = static_cast<uint64_t>(number_of(line, "failed_steps").value_or(0));
    totals_.asked += static_cast<uint64_t>(*asked);
    totals_.answered += static_cast<uint64_t>(number_of(line, "experts_answered").value_or(0));
    totals_.timeouts += static_cast<uint64_t>(number_of(line, "timeouts").value_or(0));
    totals_.short_samples += static_cast<uint64_t>(number_of(line, "short_samples").value_or(0));
    return out;
  }

  const totals& sums() {
    totals_.failed_steps = 0;
    for (auto& [who, f] : last_failed_)
      totals_.failed_steps += f;
    return totals_;
  }

private:
  std::map<uint32_t, double> loss_;
  std::map<uint32_t, uint64_t> last_failed_;
  totals totals_;
};

} // namespace colony::bench::convergence
