// Experiment 1 (issue 9; paper section 4.1): throughput under latency.
// Starts the expert nodes and the DHT, then for each form of the config
// (forward, training, transformer) and each mean delay measures DMoE and
// the model-parallel stream, printing one progress line per point and
// rewriting throughput.csv after each; summary.md at the end.
// Usage: throughput --config FILE.yaml --out DIR [--quick]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <torch/torch.h>

#include "bench/experiments/throughput/expert_swarm.hpp"
#include "bench/experiments/throughput/forward_chain.hpp"
#include "bench/experiments/throughput/results.hpp"
#include "bench/experiments/throughput/training_run.hpp"
#include "messages/errc.hpp"
#include "runtime/system_config.hpp"

using namespace colony;
using namespace colony::throughput;

namespace {

struct args {
  std::string config, out;
  bool quick = false;
};

args parse_args(int argc, char** argv) {
  args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--quick")
      a.quick = true;
    else if (s == "--config" && i + 1 < argc)
      a.config = argv[++i];
    else if (s == "--out" && i + 1 < argc)
      a.out = argv[++i];
    else
      bench::die("usage: throughput --config FILE.yaml --out DIR [--quick]");
  }
  if (a.config.empty() || a.out.empty())
    bench::die("usage: throughput --config FILE.yaml --out DIR [--quick]");
  return a;
}

point_result run_point(caf::actor_system& sys, const expert_swarm& swarm, const chain_config& c,
                       bool dmoe, double delay, uint64_t seed) {
  if (c.form == "training")
    return dmoe ? train_dmoe(sys, swarm, c, delay, seed)
                : train_model_parallel(sys, swarm, c, delay, seed);
  return dmoe ? forward_dmoe(sys, swarm, c, delay, seed)
              : forward_model_parallel(sys, swarm, c, delay, seed);
}

/// An untimed short DMoE run at 0 ms per chain: the first batches of each
/// expert (allocations, connections, torch's lazy set-up) are not measured.
void warm_up(caf::actor_system& sys, const expert_swarm& swarm, chain_config c, uint64_t seed) {
  c.warmup_s = 0;
  c.window_s = c.form == "training" ? 3 : 2;
  auto p = run_point(sys, swarm, c, true, 0, seed);
  std::printf("throughput: warm-up form=%s samples_per_s=%.2f (not recorded)\n", c.form.c_str(),
              p.samples_per_s);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  auto a = parse_args(argc, argv);
  auto text = bench::read_all(a.config);
  if (text.empty())
    bench::die("cannot read " + a.config);
  auto cfg = parse_experiment_config(text);
  if (!cfg)
    bench::die(describe(cfg.error()));
  torch::set_num_threads(1);
  auto work = a.out + "/work";
  std::filesystem::create_directories(work);
  auto start = std::chrono::steady_clock::now();
  system_options opts;
  opts.scheduler_threads = 2;
  system_config sys_cfg{opts};
  caf::actor_system sys{sys_cfg};
  std::vector<result_row> rows;
  {
    expert_swarm swarm{sys, *cfg, work};
    std::printf("throughput: %u expert nodes ready, node logs in %s\n", cfg->nodes,
                work.c_str());
    std::fflush(stdout);
    uint64_t seed = cfg->seed;
    for (auto& c : cfg->chains)
      warm_up(sys, swarm, c, seed);
    for (auto& c : cfg->chains)
      for (double d : cfg->delays_of(c))
        for (bool dmoe : {true, false}) {
          auto p = run_point(sys, swarm, c, dmoe, d, ++seed);
          rows.push_back({c.form, c.block(), dmoe ? "dmoe" : "model_parallel", d, p});
          write_csv(a.out, rows);
          std::printf("throughput: form=%s system=%s mean_delay_ms=%.1f samples_per_s=%.2f "
                      "requests=%llu failed=%llu window_s=%.1f elapsed_s=%.0f\n",
                      c.form.c_str(), dmoe ? "dmoe" : "model_parallel", d, p.samples_per_s,
                      static_cast<unsigned long long>(p.requests),
                      static_cast<unsigned long long>(p.failed), p.window_s,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                        .count());
          std::fflush(stdout);
        }
  }
  auto total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_summary(a.out, *cfg, rows, total, a.quick);
  std::printf("throughput: done in %.0f s: %s/throughput.csv, %s/summary.md\n", total,
              a.out.c_str(), a.out.c_str());
  return 0;
}
