// What experiment 3's runs share: the options of one model's run, the
// CSV recorder of its validation points (a progress line per point), and
// the result figures that go to <model>.summary (key=value lines that
// run.sh turns into summary.md).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <string>

namespace colony::lm {

/// One model's run (lm_train's flags).
struct run_options {
  std::string model = "small"; ///< small | large | dmoe
  std::string corpus_dir, out_dir;
  size_t vocab = 8000;
  int64_t context = 16;
  int64_t layers = 4;
  double seconds = 60;      ///< training time budget
  int64_t batch = 32;       ///< windows per step (per trainer for dmoe)
  double lr = 1e-3;         ///< Adam on the local parameters
  double eval_every_s = 10; ///< validation every this many seconds of training
  int64_t eval_windows = 512;
  uint64_t seed = 1;
  // dmoe only
  int trainers = 32;
  uint32_t rows = 4, cols = 4;
  uint32_t k_best = 4, k_min = 2;
  double after_k_min_s = 0.5;
  double delay_ms = 1000;
  double fail = 0.1;
  double expert_lr = 1e-3;
  int accumulate = 8;            ///< trainer steps per master step
  uint32_t expert_accumulate = 8; ///< the experts' optimizer.accumulate_rows
  std::string work_dir;
};

/// Appends `model,step,windows,wall_s,val_ce,val_ppl` rows to
/// <out>/<model>.csv and prints a progress line for each. Thread-safe.
class recorder {
public:
  recorder(const std::string& out_dir, std::string model)
    : model_(std::move(model)), csv_(out_dir + "/" + model_ + ".csv") {
    csv_ << "model,step,windows,wall_s,val_ce,val_ppl\n";
  }

  bool ok() const { return static_cast<bool>(csv_); }

  void point(uint64_t step, uint64_t windows, double wall_s, double ce) {
    std::lock_guard<std::mutex> guard{mx_};
    auto ppl = std::exp(ce);
    csv_ << model_ << ',' << step << ',' << windows << ',' << wall_s << ',' << ce << ',' << ppl
         << '\n';
    csv_.flush();
    std::printf("lm: model=%s step=%llu windows=%llu wall_s=%.1f val_ppl=%.2f\n", model_.c_str(),
                static_cast<unsigned long long>(step), static_cast<unsigned long long>(windows),
                wall_s, ppl);
    std::fflush(stdout);
    if (first_ < 0)
      first_ = ppl;
    last_ = ppl;
    best_ = std::min(best_, ppl);
  }

  double first_ppl() const { return first_; }
  double last_ppl() const { return last_; }
  double best_ppl() const { return best_; }

private:
  std::string model_;
  std::ofstream csv_;
  std::mutex mx_;
  double first_ = -1, last_ = -1, best_ = std::numeric_limits<double>::infinity();
};

/// The figures of a finished run, written as key=value lines.
using run_summary = std::map<std::string, std::string>;

inline std::string fmt(double x, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

inline bool write_summary(const std::string& path, const run_summary& s) {
  std::ofstream out{path};
  for (auto& [k, v] : s)
    out << k << '=' << v << '\n';
  return static_cast<bool>(out);
}

} // namespace colony::lm
