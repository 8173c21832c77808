// Experiment 2 (issue 9 section 2, paper section 4.2), one condition: a
// DHT bootstrap peer (`colony dht serve`), two colony-node expert nodes
// (64 experts, experts.yaml) unless --model dense, and one colony-node
// trainer node (trainer-dmoe.yaml / trainer-dense.yaml) whose trainers
// train on --dataset with the given expert-request delay and failure
// fraction; all real processes over loopback. The trainer node's log is
// followed as it runs (curve.hpp): each evaluation of the node's one model
// becomes a CSV row and a progress line. At the end one stats
// row (final accuracy, samples/s, failed requests) is appended to --stats.
// Every wait is bounded; children are SIGKILLed on every exit path.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>

#include "bench/experiments/convergence/curve.hpp"
#include "bench/recovery_support.hpp"

using namespace colony::bench;
using namespace std::chrono_literals;
namespace cv = colony::bench::convergence;

namespace {

/// Prints `what`, SIGKILLs every running child and exits with 1.
[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "convergence_run: error: %s\n", what.c_str());
  for (auto pid : live_children())
    ::kill(pid, SIGKILL);
  std::exit(1);
}

struct options {
  std::string dataset = "mnist", data_dir, condition = "0ms", model = "dmoe";
  std::string config_dir, work, csv, stats;
  double delay_ms = 0, fail = 0, grace_s = 0.5, time_limit_s = 600;
  uint32_t trainers = 16, batch = 8, eval_samples = 500, seed = 1;
  uint64_t steps = 100, eval_every = 10;
};

/// `text` with every @KEY@ of `values` replaced; dies on a leftover @...@.
std::string fill(std::string text, const std::map<std::string, std::string>& values) {
  for (auto& [key, value] : values) {
    auto token = "@" + key + "@";
    for (auto at = text.find(token); at != std::string::npos; at = text.find(token, at))
      text.replace(at, token.size(), value);
  }
  std::istringstream lines{text};
  std::string line;
  while (std::getline(lines, line)) {
    auto a = line.find('@');
    if (a != std::string::npos && line.find('@', a + 1) != std::string::npos
        && line.find('#') > a)
      fail("config template: unfilled placeholder in: " + line);
  }
  return text;
}

std::string write_config(const options& o, const std::string& name,
                         const std::map<std::string, std::string>& values) {
  auto text = fill(read_all(o.config_dir + "/" + name), values);
  auto path = o.work + "/" + name;
  std::ofstream{path} << text;
  return path;
}

std::string fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// Waits (bounded) until `colony experts list PREFIX.` shows all 16 experts
/// of each layer, so that no trainer starts against a half-declared grid.
void wait_declared(const std::string& bootstrap, const std::string& work) {
  auto deadline = steady::now() + 30s;
  for (int layer = 0; layer < 4; ++layer) {
    auto prefix = "moe" + std::to_string(layer) + ".";
    for (;;) {
      child list;
      list.start({COLONY_CLI_BIN, "experts", "list", prefix, "--peer", bootstrap},
                 work + "/list.log");
      int status = 0;
      auto until = steady::now() + 10s;
      while (waitpid(list.pid(), &status, WNOHANG) == 0 && steady::now() < until)
        std::this_thread::sleep_for(10ms);
      auto out = read_all(work + "/list.log.out");
      size_t found = 0;
      for (auto at = out.find(prefix); at != std::string::npos; at = out.find(prefix, at + 1))
        ++found;
      if (found >= 16)
        break;
      if (steady::now() > deadline)
        fail("layer " + prefix + " has " + std::to_string(found) + " of 16 experts in the DHT: "
            + out);
      std::this_thread::sleep_for(200ms);
    }
  }
}

void append_csv(const std::string& path, const std::string& header, const std::string& row) {
  bool fresh = !std::filesystem::exists(path) || std::filesystem::file_size(path) == 0;
  std::ofstream out{path, std::ios::app};
  if (fresh)
    out << header << "\n";
  out << row << "\n";
}

int run(const options& o) {
  std::filesystem::create_directories(o.work);
  child bootstrap;
  auto ready = o.work + "/bootstrap.ready";
  bootstrap.start({COLONY_CLI_BIN, "dht", "serve", "--port", "0", "--ready-file", ready,
                   "--log-level", "warn"},
                  o.work + "/bootstrap.log");
  auto peer = bootstrap.wait_ready(ready, 30000ms);
  child experts[2];
  if (o.model == "dmoe") {
    for (int n = 0; n < 2; ++n) {
      auto tag = "experts" + std::to_string(n);
      auto cfg = write_config(o, "experts.yaml", {{"BOOTSTRAP", peer},
                                                  {"ROW0", std::to_string(2 * n)},
                                                  {"ROW1", std::to_string(2 * n + 1)}});
      std::filesystem::rename(cfg, o.work + "/" + tag + ".yaml");
      experts[n].start({COLONY_NODE_BIN, "--config", o.work + "/" + tag + ".yaml",
                        "--ready-file", o.work + "/" + tag + ".ready"},
                       o.work + "/" + tag + ".log");
    }
    for (int n = 0; n < 2; ++n)
      experts[n].wait_ready(o.work + "/experts" + std::to_string(n) + ".ready", 60000ms);
    wait_declared(peer, o.work);
  }
  auto tcfg = write_config(
    o, o.model == "dmoe" ? "trainer-dmoe.yaml" : "trainer-dense.yaml",
    {{"BOOTSTRAP", peer}, {"TRAINERS", std::to_string(o.trainers)},
     {"BATCH", std::to_string(o.batch)}, {"STEPS", std::to_string(o.steps)},
     {"SEED", std::to_string(o.seed)}, {"EVAL_EVERY", std::to_string(o.eval_every)},
     {"EVAL_SAMPLES", std::to_string(o.eval_samples)},
     {"DELAY_KIND", o.delay_ms > 0 ? "exponential" : "none"}, {"DELAY_MS", fmt(o.delay_ms)},
     {"FAIL", fmt(o.fail)}, {"GRACE_S", fmt(o.grace_s)}, {"DATA_KIND", o.dataset},
     {"DATA_DIR", o.data_dir}});
  child trainer;
  auto tlog = o.work + "/trainer.log";
  trainer.start({COLONY_NODE_BIN, "--config", tcfg}, tlog);
  log_follower follow{tlog};
  auto started = follow.wait_for(
    [](const log_line& l) { return l.text.find("event=started trainers=") != std::string::npos; },
    120000ms);
  if (!started)
    fail("the trainer node did not start its trainers: " + read_all(tlog));
  cv::curve curve;
  auto since = [&](const log_line& l) { return ms_between(started->at, l.at) / 1000; };
  auto limit = steady::now() + std::chrono::milliseconds{static_cast<int64_t>(o.time_limit_s * 1000)};
  bool stopped = false;
  int status = 0;
  for (;;) {
    for (auto& l : follow.poll())
      for (auto& p : curve.feed(l.text, since(l))) {
        char row[256];
        std::snprintf(row, sizeof row, "%s,%s,%llu,%llu,%.2f,%.4f,%.4f",
                      o.dataset.c_str(), o.condition.c_str(),
                      static_cast<unsigned long long>(p.step),
                      static_cast<unsigned long long>(p.samples), p.wall_s, p.accuracy, p.loss);
        append_csv(o.csv, "dataset,condition,model_version,samples,wall_s,test_accuracy,loss",
                   row);
        std::printf("convergence: dataset=%s condition=%s step=%llu samples=%llu wall_s=%.1f "
                    "test_accuracy=%.4f loss=%.4f\n", o.dataset.c_str(), o.condition.c_str(),
                    static_cast<unsigned long long>(p.step),
                    static_cast<unsigned long long>(p.samples), p.wall_s, p.accuracy, p.loss);
        std::fflush(stdout);
      }
    if (waitpid(trainer.pid(), &status, WNOHANG) == trainer.pid())
      break;
    if (steady::now() > limit) {
      if (stopped)
        fail("the trainer node did not finish 120 s after SIGTERM: " + tlog);
      std::printf("convergence: time limit %.0f s reached, stopping the trainers\n",
                  o.time_limit_s);
      ::kill(trainer.pid(), SIGTERM); // the trainers finish: final evaluation
      stopped = true;
      limit = steady::now() + 120s;
    }
    std::this_thread::sleep_for(100ms);
  }
  for (auto& l : follow.poll())
    curve.feed(l.text, since(l));
  auto& t = curve.sums();
  if (t.finished != o.trainers || !t.final_accuracy)
    fail("the trainer node exited (status " + std::to_string(status) + ") with "
        + std::to_string(t.finished) + " of " + std::to_string(o.trainers)
        + " trainers finished" + (t.final_accuracy ? "" : " and no evaluation of the model")
        + ": " + tlog);
  double acc = *t.final_accuracy;
  auto out = read_all(tlog + ".out");
  auto steps_at = out.find(" steps=");
  uint64_t steps = steps_at == std::string::npos ? 0 : std::stoull(out.substr(steps_at + 7));
  auto samples = t.final_samples;
  char row[512];
  std::snprintf(row, sizeof row,
                "%s,%s,%s,%g,%g,%u,%u,%llu,%.4f,%.1f,%llu,%.1f,%llu,%llu,%.2f,%llu,%llu",
                o.dataset.c_str(), o.condition.c_str(), o.model.c_str(), o.delay_ms, o.fail,
                o.trainers, o.batch, static_cast<unsigned long long>(steps), acc,
                t.finished_s, static_cast<unsigned long long>(samples),
                t.finished_s > 0 ? samples / t.finished_s : 0.0,
                static_cast<unsigned long long>(t.asked),
                static_cast<unsigned long long>(t.asked - std::min(t.asked, t.answered)),
                t.asked ? 100.0 * (t.asked - std::min(t.asked, t.answered)) / t.asked : 0.0,
                static_cast<unsigned long long>(t.short_samples),
                static_cast<unsigned long long>(t.failed_steps));
  append_csv(o.stats, "dataset,condition,model,delay_ms,fail_fraction,trainers,batch,steps_total,"
                      "final_accuracy,wall_s,samples,"
                      "samples_per_s,requests,requests_failed,requests_failed_pct,"
                      "short_samples,failed_steps", row);
  std::printf("convergence: done dataset=%s condition=%s steps=%llu final_accuracy=%.4f "
              "wall_s=%.1f samples_per_s=%.1f requests=%llu requests_failed=%llu\n",
              o.dataset.c_str(), o.condition.c_str(), static_cast<unsigned long long>(steps),
              acc, t.finished_s, t.finished_s > 0 ? samples / t.finished_s : 0.0,
              static_cast<unsigned long long>(t.asked),
              static_cast<unsigned long long>(t.asked - std::min(t.asked, t.answered)));
  return 0; // the children are SIGKILLed and reaped by their destructors
}

} // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"convergence_run: one condition of experiment 2 (convergence under latency and "
               "failures)"};
  app.add_option("--dataset", o.dataset, "mnist | fashion_mnist")->required();
  app.add_option("--data-dir", o.data_dir, "the data set's folder")->required();
  app.add_option("--condition", o.condition, "name in the CSV")->required();
  app.add_option("--model", o.model, "dmoe | dense")->check(CLI::IsMember({"dmoe", "dense"}));
  app.add_option("--delay-ms", o.delay_ms, "mean exponential delay per expert request");
  app.add_option("--fail", o.fail, "fraction of expert requests lost");
  app.add_option("--grace-s", o.grace_s, "gates' timeout_after_k_min");
  app.add_option("--trainers", o.trainers);
  app.add_option("--batch", o.batch);
  app.add_option("--steps", o.steps, "per trainer");
  app.add_option("--eval-every", o.eval_every);
  app.add_option("--eval-samples", o.eval_samples);
  app.add_option("--seed", o.seed);
  app.add_option("--time-limit-s", o.time_limit_s, "then SIGTERM: the trainers finish early");
  app.add_option("--config-dir", o.config_dir, "the YAML templates")->required();
  app.add_option("--work", o.work, "scratch folder (configs, logs)")->required();
  app.add_option("--csv", o.csv, "curve rows are appended here")->required();
  app.add_option("--stats", o.stats, "one summary row is appended here")->required();
  CLI11_PARSE(app, argc, argv);
  return run(o);
}
