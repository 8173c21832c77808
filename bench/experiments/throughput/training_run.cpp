// Training runs through trainer_host (see training_run.hpp).
#include "bench/experiments/throughput/training_run.hpp"

#include <chrono>

#include "actors/trainer/trainer_host.hpp"
#include "messages/errc.hpp"

namespace colony::throughput {
namespace {

using steady = std::chrono::steady_clock;

/// The trainers: section; `mp` replaces every dmoe layer by k fixed experts.
std::string trainers_yaml(const expert_swarm& swarm, const chain_config& c, bool mp,
                          double delay_ms) {
  auto s = [](double v) { return std::to_string(v); };
  auto d = std::to_string(c.dim);
  auto timeout = s(std::max(60.0, 40 * delay_ms / 1000));
  std::string layers;
  for (uint32_t l = 0; l < c.layers; ++l) {
    if (mp) {
      std::string list;
      for (uint32_t r = 0; r < c.k_best; ++r)
        list += (r ? ", " : "") + c.uid(l, r, 0) + "@" + swarm.node_of(r).to_string();
      layers += "    - {type: fixed_experts, dim: " + d + ", experts: [" + list
                + "], timeout: " + timeout + ", residual: false}\n";
    } else {
      layers += "    - {type: dmoe, prefix: " + c.prefix + std::to_string(l) + ", grid: ["
                + std::to_string(c.rows) + ", " + std::to_string(c.cols) + "], dim: " + d
                + ", k_best: " + std::to_string(c.k_best)
                + ", k_min: 1, timeout_after_k_min: 1, forward_timeout: " + timeout
                + ", backward_timeout: " + timeout + ", cache_expiry: 600, residual: false}\n";
    }
  }
  return "count: " + std::to_string(mp ? 1 : c.trainers) + "\nbatch_size: "
         + std::to_string(c.batch)
         + "\nsteps: 1000000\nlog_every: 1000000\neval_samples: 16\neval_batch: 16\n"
           "data: {kind: synthetic, features: 64, classes: 8, train_size: 4096, "
           "test_size: 64}\nmodel:\n    - {type: linear, in: 64, out: " + d
         + "}\n    - {type: relu}\n" + layers + "    - {type: layernorm, dim: " + d
         + "}\n    - {type: linear, in: " + d + ", out: 8}\n";
}

point_result train(caf::actor_system& sys, const expert_swarm& swarm, const chain_config& c,
                   bool mp, double delay_ms, uint64_t seed) {
  auto cfg = trainer::parse_trainer_config(trainers_yaml(swarm, c, mp, delay_ms));
  if (!cfg)
    bench::die("trainers config: " + describe(cfg.error()));
  if (delay_ms > 0) {
    cfg->faults.delay = fault_config::delay_kind::exponential;
    cfg->faults.delay_ms = delay_ms;
  }
  cfg->faults.seed = seed;
  auto host = trainer::trainer_host::make(sys, *cfg, swarm.peer());
  if (!host)
    bench::die("trainer host: " + describe(host.error()));
  double window = delay_ms >= 1000 ? c.long_window_s : c.window_s;
  auto start = steady::now();
  auto elapsed = [&] { return std::chrono::duration<double>(steady::now() - start).count(); };
  auto summaries = (*host)->run([&] { return elapsed() > window; });
  point_result p;
  p.window_s = elapsed();
  uint64_t samples = 0;
  for (auto& s : summaries) {
    samples += s.samples;
    // fixed_experts layers do not count their calls: each step makes
    // k calls per layer forward and k backward.
    p.requests += mp ? s.steps * c.layers * c.k_best * 2 : s.requests;
    p.failed += s.failed_steps;
  }
  p.samples_per_s = static_cast<double>(samples) / p.window_s;
  return p;
}

} // namespace

point_result train_dmoe(caf::actor_system& sys, const expert_swarm& swarm,
                        const chain_config& c, double delay_ms, uint64_t seed) {
  return train(sys, swarm, c, false, delay_ms, seed);
}

point_result train_model_parallel(caf::actor_system& sys, const expert_swarm& swarm,
                                  const chain_config& c, double delay_ms, uint64_t seed) {
  return train(sys, swarm, c, true, delay_ms, seed);
}

} // namespace colony::throughput
