// bench/dmoe: the DMoE layer training end to end, each figure a ratio
// against a baseline measured in the same run.
//  1. Overhead: the same model and routing with the experts in this process
//     (gate -> expert actors, no network) vs on 2 colony-node processes
//     over loopback; training samples/s, 0 latency.
//  2. Throughput vs latency: exponential delay with mean 0/10/100/200/1000
//     ms on every expert request; DMoE with many trainers vs the
//     model-parallel baseline (one stream, fixed experts called in sequence,
//     every call awaited).
//  3. Expert requests per training step: Colony's grouping (one request per
//     chosen expert) vs one request per (sample, expert) pair.
//  4. Peak resident memory of a trainer process with 64 and 256 trainers.
//  5. One model under latency: the node's one model trained on the same
//     number of samples at 0 ms and at 1000 ms mean delay + 10% of requests
//     lost, with the same chains (trainers x in_flight, enough to hide the
//     latency) in both, plus 0 ms with 8 chains as the throughput and
//     accuracy reference; samples/s and the model's test accuracy (whole
//     test set, evaluation gates without faults), as ratios / differences
//     of the same run. Each run starts from fresh experts.
//  6. Two trainer nodes averaging (trainers.averaging, every 2 s) vs one
//     node with the same total trainers, equal total samples, each on fresh
//     experts: the test accuracy of the averaged model vs the single
//     node's; bytes and seconds per averaging round.
// Usage: dmoe [--quick] [--trainers N]   (default 512 trainers; --quick: 64)
//        [--only PART]                    (one part alone, e.g. under a profiler;
//                                          parts 2-4 run together)
//        (dmoe --rss N EP1 EP2 is the child of part 4)
#include <fstream>
#include <iostream>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/dht/expert_directory.hpp"
#include "actors/dht/swarm.hpp"
#include "actors/expert/expert_host.hpp"
#include "actors/trainer/trainer_host.hpp"
#include "messages/errc.hpp"
#include "runtime/system_config.hpp"

using namespace colony;
using bench_clock = std::chrono::steady_clock;

namespace {

/// The owner of every declaration of this bench.
const identity::node_key& bench_key() {
  static const auto key = identity::node_key::generate();
  return key;
}

constexpr int dim = 512, hidden = 2048, rows = 2, cols = 4, k_best = 2, batch = 16;

[[noreturn]] void die(const std::string& what) {
  std::cerr << "dmoe: " << what << "\n";
  std::exit(1);
}

/// Experts `P.r.c` of the layer prefixes `prefixes` for grid rows `rs`.
std::string experts_yaml(const std::vector<std::string>& prefixes, const std::vector<int>& rs,
                         int slots, int accumulate_rows = 0) {
  std::string y = "node: {host: 127.0.0.1, port: 0, scheduler_threads: 1, torch_threads: 1, "
                  "compute_slots: " + std::to_string(slots) + "}\nlog: {level: warn}\nexperts:\n";
  for (auto& p : prefixes)
    for (auto r : rs)
      y += "  - {uid: " + p + "." + std::to_string(r) + ".*, count: " + std::to_string(cols)
           + ", max_batch_size: 4096, module: {type: ffn, input_dim: " + std::to_string(dim)
           + ", hidden_dim: " + std::to_string(hidden) + ", output_dim: " + std::to_string(dim)
           + ", seed: " + std::to_string(r + 1) + "}, optimizer: {type: adam, lr: 1.0e-4, "
           "accumulate_rows: " + std::to_string(accumulate_rows) + "}}\n";
  return y;
}

std::vector<std::string> uids_of(const std::string& p, const std::vector<int>& rs) {
  std::vector<std::string> out;
  for (auto r : rs)
    for (int c = 0; c < cols; ++c)
      out.push_back(p + "." + std::to_string(r) + "." + std::to_string(c));
  return out;
}

/// A trainers section: `n` trainers over the dmoe layers `a`, `b`, or the
/// model-parallel baseline (fixed experts) when `fixed` lists them.
trainer::trainer_config trainers(uint32_t n, const std::string& a, const std::string& b,
                                 const std::vector<std::string>& fixed_a = {},
                                 const std::vector<std::string>& fixed_b = {}) {
  auto layer = [&](const std::string& p, const std::vector<std::string>& fixed) {
    if (!fixed.empty()) {
      std::string list;
      for (auto& f : fixed)
        list += (list.empty() ? "" : ", ") + f;
      return "    - {type: fixed_experts, dim: " + std::to_string(dim) + ", experts: [" + list
             + "], timeout: 120}\n";
    }
    return "    - {type: dmoe, prefix: " + p + ", grid: [" + std::to_string(rows) + ", "
           + std::to_string(cols) + "], dim: " + std::to_string(dim) + ", k_best: "
           + std::to_string(k_best) + ", k_min: 1, timeout_after_k_min: 1, forward_timeout: 20, "
           "backward_timeout: 20, cache_expiry: 30}\n";
  };
  auto yaml = "count: " + std::to_string(n) + "\nbatch_size: " + std::to_string(batch)
              + "\nsteps: 1000000\nlog_every: 1000000\neval_samples: 16\neval_batch: 16\n"
                "data: {kind: synthetic, features: 64, classes: 8, train_size: 4096, "
                "test_size: 64}\nmodel:\n    - {type: linear, in: 64, out: "
              + std::to_string(dim) + "}\n    - {type: relu}\n" + layer(a, fixed_a)
              + layer(b, fixed_b) + "    - {type: layernorm, dim: " + std::to_string(dim)
              + "}\n    - {type: linear, in: " + std::to_string(dim) + ", out: 8}\n";
  auto cfg = trainer::parse_trainer_config(yaml);
  if (!cfg)
    die(describe(cfg.error()));
  return std::move(*cfg);
}

struct run_result {
  double samples_per_s = 0;
  double requests_per_step = 0;
  uint64_t steps = 0, failed = 0;
};

/// Trains for about `seconds` (then every trainer finishes its step).
run_result measure(caf::actor_system& sys, trainer::trainer_config cfg, dht::peer_actor peer,
                   double seconds, double delay_ms,
                   const std::function<void(trainer::trainer_host&)>& prepare = {}) {
  if (delay_ms > 0) {
    cfg.faults.delay = fault_config::delay_kind::exponential;
    cfg.faults.delay_ms = delay_ms;
    cfg.faults.seed = 42;
  }
  auto host = trainer::trainer_host::make(sys, cfg, peer);
  if (!host)
    die(describe(host.error()));
  if (prepare)
    prepare(**host);
  auto start = bench_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(bench_clock::now() - start).count(); };
  auto summaries = (*host)->run([&] { return elapsed() > seconds; });
  run_result r;
  uint64_t samples = 0, requests = 0;
  for (auto& s : summaries) {
    samples += s.samples;
    requests += s.requests;
    r.steps += s.steps;
    r.failed += s.failed_steps;
  }
  r.samples_per_s = samples / elapsed();
  r.requests_per_step = r.steps ? static_cast<double>(requests) / r.steps : 0;
  return r;
}

/// One model trained on `samples` rows (part 5).
struct model_run {
  double samples_per_s = 0, accuracy = -1, abandoned = 0;
  uint64_t samples = 0, failed = 0, lost_gradients = 0;
  trainer::model_summary model;
};

/// Fresh experts (parts 5 and 6) for one run: layers `a` and `b`.
struct layers {
  std::string a, b;
};

/// Parts 5 and 6: `count` trainers of one model over `l`, `samples` rows
/// in all, one optimizer step per `accumulate` micro-batches.
trainer::trainer_config one_model(const layers& l, uint32_t count, uint32_t in_flight,
                                  uint64_t samples, uint32_t accumulate) {
  auto cfg = trainers(count, l.a, l.b);
  cfg.in_flight = in_flight;
  cfg.steps = samples / (uint64_t{count} * batch);
  cfg.accumulate = accumulate;
  cfg.staleness_scale = true;
  cfg.data.test_size = 1024;
  cfg.eval_samples = 0;
  cfg.eval_batch = 256;
  cfg.log_every = 1000000;
  for (auto& l : cfg.model)
    if (l.type == "dmoe") {
      l.gate.grace_auto = true;
      l.gate.forward_timeout_s = l.gate.backward_timeout_s = 10;
    }
  return cfg;
}

model_run train_model(caf::actor_system& sys, dht::peer_actor peer, const layers& l,
                      uint32_t count, uint32_t in_flight, uint32_t accumulate, uint64_t samples,
                      double delay_ms, double drop) {
  auto cfg = one_model(l, count, in_flight, samples, accumulate);
  if (delay_ms > 0 || drop > 0) {
    cfg.faults.delay = fault_config::delay_kind::exponential;
    cfg.faults.delay_ms = delay_ms;
    cfg.faults.drop_probability = drop;
    cfg.faults.seed = 7;
  }
  auto host = trainer::trainer_host::make(sys, cfg, peer);
  if (!host)
    die(describe(host.error()));
  auto summaries = (*host)->run();
  model_run r;
  double secs = 0;
  uint64_t asked = 0, timeouts = 0;
  for (auto& s : summaries) {
    r.samples += s.samples;
    r.failed += s.failed_steps;
    r.lost_gradients += s.lost_gradients;
    secs = std::max(secs, s.seconds);
    asked += s.requests;
    timeouts += s.timeouts;
  }
  r.abandoned = asked ? static_cast<double>(timeouts) / static_cast<double>(asked) : 0;
  r.samples_per_s = secs > 0 ? static_cast<double>(r.samples) / secs : 0;
  r.model = (*host)->model_result();
  r.accuracy = r.model.test_accuracy;
  return r;
}

/// Part 6: two nodes of one run, `count` trainers each, averaging every
/// 2 s, then one last round; the accuracy of the averaged model.
struct pair_run {
  double accuracy = -1, samples_per_s = 0;
  trainer::averaging_stats avg;
};

pair_run train_pair(caf::actor_system& sys, const dht::swarm& swarm, const layers& l,
                    uint32_t count, uint64_t samples) {
  std::unique_ptr<trainer::trainer_host> hosts[2];
  for (int i = 0; i < 2; ++i) {
    auto cfg = one_model(l, count, 1, samples / 2, count);
    cfg.data_seed = 100 + i; // one init (seed), each node its own data order
    cfg.averaging = averaging::averaging_config{};
    cfg.averaging->run = "bench-pair";
    cfg.averaging->every_s = 2;
    cfg.averaging->join_window_s = 0.5;
    auto h = trainer::trainer_host::make(sys, cfg, swarm.peer(static_cast<size_t>(i)));
    if (!h)
      die(describe(h.error()));
    hosts[i] = std::move(*h);
  }
  pair_run r;
  uint64_t total = 0;
  double secs = 0;
  std::vector<trainer::trainer_summary> sums[2];
  std::thread other{[&] { sums[1] = hosts[1]->run(); }};
  sums[0] = hosts[0]->run();
  other.join();
  for (auto& xs : sums)
    for (auto& s : xs) {
      total += s.samples;
      secs = std::max(secs, s.seconds);
    }
  r.samples_per_s = secs > 0 ? static_cast<double>(total) / secs : 0;
  // One last round so that the evaluated model is the average; the nodes
  // finished at slightly different times, so a try may meet a periodic
  // round still running on the other node: up to 3 tries.
  for (int attempt = 1; attempt <= 3; ++attempt) {
    caf::error e1;
    std::thread last{[&] { e1 = hosts[1]->averaging()->average_now(); }};
    auto e0 = hosts[0]->averaging()->average_now();
    last.join();
    if (!e0 && !e1)
      break;
    std::printf("   last averaging round, try %d, failed: %s\n", attempt,
                describe(e0 ? e0 : e1).c_str());
  }
  auto acc = hosts[0]->evaluate();
  r.accuracy = acc ? *acc : -1;
  r.avg = hosts[0]->averaging()->stats();
  return r;
}

/// Peak RSS (VmHWM) of this process in MiB.
double peak_rss_mib() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stod(line.substr(6)) / 1024;
  return -1;
}

struct child {
  pid_t pid = -1;
  std::string ready;
};

child start_node(const std::string& yaml, const std::string& tag) {
  auto cfg_path = "/tmp/colony-dmoe-bench-" + tag + ".yaml";
  std::ofstream{cfg_path} << yaml;
  child c{-1, "/tmp/colony-dmoe-bench-" + tag + ".ready"};
  std::remove(c.ready.c_str());
  c.pid = fork();
  if (c.pid == 0) {
    setenv("OMP_NUM_THREADS", "1", 1);
    execl(COLONY_NODE_BIN, COLONY_NODE_BIN, "--config", cfg_path.c_str(), "--ready-file",
          c.ready.c_str(), nullptr);
    _exit(127);
  }
  for (int i = 0; i < 600; ++i) { // up to 60 s
    std::ifstream in{c.ready};
    std::string ep;
    if (in >> ep && !ep.empty())
      return c;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  die("expert node " + tag + " did not start");
}

std::string read_ready(const child& c) {
  std::ifstream in{c.ready};
  std::string ep;
  in >> ep;
  return ep;
}

void stop(child& c) {
  if (c.pid > 0) {
    kill(c.pid, SIGKILL);
    waitpid(c.pid, nullptr, 0);
  }
}

/// A swarm of 3 peers in `sys` with the loopback experts declared.
std::unique_ptr<dht::swarm> make_swarm(caf::actor_system& sys, const endpoint& e0,
                                       const endpoint& e1) {
  auto s = std::make_unique<dht::swarm>(sys, dht::swarm_options{});
  if (auto err = s->grow(3))
    die(describe(err));
  auto c = s->client_of(0);
  for (auto& p : {"la", "lb"}) {
    if (!dht::declare_experts(c, uids_of(p, {0}), e0, dht::unix_time() + 3600, bench_key()))
      die("declare failed");
    if (!dht::declare_experts(c, uids_of(p, {1}), e1, dht::unix_time() + 3600, bench_key()))
      die("declare failed");
  }
  return s;
}

/// Fresh experts for one run of parts 5 and 6: layers `<tag>a` and `<tag>b`
/// on two new colony-node processes, initialized from the same seeds every
/// time and declared in `swarm`, so that no run starts from experts that an
/// earlier run trained. Their experts step once per 64 backward rows: one
/// step per request would make them step far more often per sample under
/// latency (requests arrive unbatched) than at 0 ms.
class fresh_experts {
public:
  fresh_experts(dht::swarm& swarm, const std::string& tag, int slots = 1,
                int accumulate_rows = 64)
    : l_{tag + "a", tag + "b"} {
    n0_ = start_node(experts_yaml({l_.a, l_.b}, {0}, slots, accumulate_rows), tag + "0");
    n1_ = start_node(experts_yaml({l_.a, l_.b}, {1}, slots, accumulate_rows), tag + "1");
    auto e0 = *parse_endpoint(read_ready(n0_)), e1 = *parse_endpoint(read_ready(n1_));
    auto c = swarm.client_of(0);
    for (auto& p : {l_.a, l_.b})
      if (!dht::declare_experts(c, uids_of(p, {0}), e0, dht::unix_time() + 3600, bench_key())
          || !dht::declare_experts(c, uids_of(p, {1}), e1, dht::unix_time() + 3600, bench_key()))
        die("declare failed");
  }
  ~fresh_experts() {
    stop(n0_);
    stop(n1_);
  }
  fresh_experts(const fresh_experts&) = delete;
  fresh_experts& operator=(const fresh_experts&) = delete;
  const layers& names() const { return l_; }

private:
  layers l_;
  child n0_, n1_;
};

int rss_child(int n, const std::string& a, const std::string& b) {
  system_options opts;
  opts.scheduler_threads = 2;
  system_config cfg{opts};
  caf::actor_system sys{cfg};
  auto swarm = make_swarm(sys, *parse_endpoint(a), *parse_endpoint(b));
  auto tc = trainers(static_cast<uint32_t>(n), "la", "lb");
  tc.steps = 2;
  auto r = measure(sys, tc, swarm->peer(1), 1e9, 0);
  std::cout << peak_rss_mib() << " " << r.steps << " " << r.failed << std::endl;
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string{argv[1]} == "--rss")
    return rss_child(std::stoi(argv[2]), argv[3], argv[4]);
  bool quick = false;
  int only = 0; // 0 = every part
  uint32_t many = 512;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick")
      quick = true;
    else if (a == "--trainers" && i + 1 < argc && std::atoi(argv[i + 1]) > 0)
      many = static_cast<uint32_t>(std::atoi(argv[++i]));
    else if (a == "--only" && i + 1 < argc && std::atoi(argv[i + 1]) >= 1
             && std::atoi(argv[i + 1]) <= 6)
      only = std::atoi(argv[++i]);
    else
      die("usage: dmoe [--quick] [--trainers N] [--only PART]");
  }
  double base_s = quick ? 4 : 10;
  system_options opts;
  opts.scheduler_threads = 2;
  system_config sys_cfg{opts};
  caf::actor_system sys{sys_cfg};
  // Loopback: rows 0 and 1 of both layers on two colony-node processes.
  auto n0 = start_node(experts_yaml({"la", "lb"}, {0}, 1), "0");
  auto n1 = start_node(experts_yaml({"la", "lb"}, {1}, 1), "1");
  auto e0 = *parse_endpoint(read_ready(n0)), e1 = *parse_endpoint(read_ready(n1));
  auto swarm = make_swarm(sys, e0, e1);
  // In-process: the same experts in this actor system, reached by handle.
  auto local_cfg = parse_node_config(experts_yaml({"ia", "ib"}, {0, 1}, 2));
  auto local = spawn_expert_host(sys, *local_cfg);
  if (!local)
    die(describe(local.error()));
  const endpoint inproc{"127.0.0.2", 1};
  {
    auto c = swarm->client_of(0);
    for (auto& p : {"ia", "ib"})
      dht::declare_experts(c, uids_of(p, {0, 1}), inproc, dht::unix_time() + 3600, bench_key());
  }
  auto peer = swarm->peer(1);
  const uint32_t overhead_trainers = 16, dmoe_trainers = quick ? 64 : many;

  std::cout << "DMoE training, model 64 -> " << dim << " -> 2 DMoE layers (grid [" << rows << ", "
            << cols << "], experts ffn " << dim << "-" << hidden << "-" << dim << ", top-"
            << k_best << ") -> " << dim << " -> 8, batch " << batch << " per trainer\n\n";
  // Parts 2-4 run together (3 reads 2's 0 ms run).
  auto want = [&](int part) {
    return only == 0 || only == part || (only >= 2 && only <= 4 && part >= 2 && part <= 4);
  };
  if (want(1)) {
    auto in = measure(sys, trainers(overhead_trainers, "ia", "ib"), peer, base_s, 0,
                      [&](trainer::trainer_host& h) {
                        h.connections()->adopt(inproc, local->server);
                      });
    // The loopback nodes get 2 compute slots each, as the in-process host
    // has 2 for all its experts: with 1 slot per node, half of the experts
    // are pinned to each core and one core idles whenever the batches
    // favour the other node's experts (a quarter to a third of the window,
    // measured with perf), which is load balance, not transport overhead.
    fresh_experts wire{*swarm, "ov", 2, 0};
    auto lo = measure(sys, trainers(overhead_trainers, wire.names().a, wire.names().b), peer,
                      base_s, 0);
    std::printf("1. overhead, %u trainers, 0 ms: in-process %.0f samples/s, loopback %.0f "
                "samples/s, ratio %.2f (target >= 0.8)\n\n",
                overhead_trainers, in.samples_per_s, lo.samples_per_s,
                lo.samples_per_s / in.samples_per_s);
  }

  if (want(2)) {
    std::vector<std::string> fa = {"la.0.0@" + e0.to_string(), "la.1.0@" + e1.to_string()};
    std::vector<std::string> fb = {"lb.0.0@" + e0.to_string(), "lb.1.0@" + e1.to_string()};
    std::printf("2. throughput vs mean latency (exponential, every expert request), samples/s\n");
    std::printf("%8s %14s %10s %16s %12s %10s\n", "mean ms", "DMoE", "vs 0 ms", "model-parallel",
                "DMoE / m-p", "failed");
    double dmoe0 = 0;
    run_result grouped;
    for (double d : {0.0, 10.0, 100.0, 200.0, 1000.0}) {
      double secs = base_s * (d >= 1000 ? 2.5 : 1);
      auto dm = measure(sys, trainers(dmoe_trainers, "la", "lb"), peer, secs, d);
      auto mp = measure(sys, trainers(1, "la", "lb", fa, fb), peer, secs, d);
      if (d == 0) {
        dmoe0 = dm.samples_per_s;
        grouped = dm;
      }
      std::printf("%8.0f %14.1f %10.2f %16.1f %12.1f %6llu/%llu\n", d, dm.samples_per_s,
                  dm.samples_per_s / dmoe0, mp.samples_per_s, dm.samples_per_s / mp.samples_per_s,
                  static_cast<unsigned long long>(dm.failed),
                  static_cast<unsigned long long>(dm.steps));
    }
    std::printf("DMoE: %u trainers; model-parallel: 1 stream, 2 fixed experts per layer called "
                "in sequence. Targets: DMoE at 1000 ms >= 0.5 x DMoE at 0 ms, >= 10 x m-p.\n\n",
                dmoe_trainers);

    double pairs = 2.0 * batch * k_best * 2; // (fwd + bwd) x layers x samples x k
    std::printf("3. expert requests per training step: Colony %.1f, one per (sample, expert) pair "
                "%.0f, ratio %.3f\n\n",
                grouped.requests_per_step, pairs, grouped.requests_per_step / pairs);

    std::printf("4. peak resident memory of a trainer process (2 steps each):\n");
    for (int n : {64, 256}) {
      auto cmd = std::string{argv[0]} + " --rss " + std::to_string(n) + " " + e0.to_string() + " "
                 + e1.to_string();
      auto* p = popen(cmd.c_str(), "r");
      double mib = -1;
      unsigned long long steps = 0, failed = 0;
      if (p && std::fscanf(p, "%lf %llu %llu", &mib, &steps, &failed) == 3)
        std::printf("   %3d trainers: %.0f MiB (steps %llu, failed %llu)%s\n", n, mib, steps,
                    failed, n == 256 ? " (target: fits in 2048 MiB)" : "");
      if (p)
        pclose(p);
    }
  }

  uint64_t samples = quick ? 3 * 4096 : 10 * 4096;
  if (want(5)) {
    // 5. One model under latency: the same samples and the same chains at 0 ms
    // and 1000 ms + 10% lost; each run on fresh experts.
    uint32_t hide_trainers = 16, hide_in_flight = quick ? 16 : 24;
    uint32_t hide = hide_trainers * hide_in_flight, hide_acc = hide / 8;
    std::printf("\n5. one model under latency: %llu samples (%llu epochs of the synthetic task), "
                "staleness-scaled, adaptive grace, fresh experts per run\n",
                static_cast<unsigned long long>(samples),
                static_cast<unsigned long long>(samples / 4096));
    auto run5 = [&](const std::string& tag, uint32_t count, uint32_t in_flight, uint32_t acc,
                    double delay, double drop) {
      fresh_experts fresh{*swarm, tag};
      return train_model(sys, peer, fresh.names(), count, in_flight, acc, samples, delay, drop);
    };
    auto z8 = run5("zq", 8, 1, 8, 0, 0);
    auto z = run5("zh", hide_trainers, hide_in_flight, hide_acc, 0, 0);
    auto m = run5("mh", 16, 4, 8, 100, 0.1);
    auto h = run5("hh", hide_trainers, hide_in_flight, hide_acc, 1000, 0.1);
    auto row = [](const char* what, uint32_t chains, uint32_t acc, const model_run& r) {
      std::printf("   %-20s chains %4u, accumulate %3u: %7.1f samples/s, test accuracy %.4f, "
                  "version %llu, staleness p50/p95 %u/%u, abandoned requests %.1f%%, lost "
                  "gradients %llu, failed steps %llu\n",
                  what, chains, acc, r.samples_per_s, r.accuracy,
                  static_cast<unsigned long long>(r.model.version), r.model.staleness_p50,
                  r.model.staleness_p95, 100 * r.abandoned,
                  static_cast<unsigned long long>(r.lost_gradients),
                  static_cast<unsigned long long>(r.failed));
    };
    row("0 ms", 8, 8, z8);
    row("0 ms", hide, hide_acc, z);
    row("100 ms + 10% lost", 64, 8, m);
    row("1000 ms + 10% lost", hide, hide_acc, h);
    std::printf("   (abandoned: requests unanswered when their fan-out ended; the 10%% lost by "
                "injection are among them)\n");
    auto best0 = std::max(z8.samples_per_s, z.samples_per_s);
    std::printf("   samples/s ratio %.2f against the faster 0 ms run (target >= 0.8); accuracy "
                "difference %+.2f points against 0 ms with the same chains (target within 1), "
                "%+.2f against 0 ms with 8 chains\n",
                best0 > 0 ? h.samples_per_s / best0 : 0.0, 100 * (h.accuracy - z.accuracy),
                100 * (h.accuracy - z8.accuracy));

  }

  if (want(6)) {
    // 6. Two nodes averaging vs one node, same total trainers and samples.
    std::printf("\n6. two trainer nodes averaging (every 2 s) vs one node, 8 trainers in all, "
                "%llu samples, 0 ms, fresh experts per run\n",
                static_cast<unsigned long long>(samples));
    model_run one;
    {
      fresh_experts fresh{*swarm, "oq"};
      one = train_model(sys, peer, fresh.names(), 8, 1, 8, samples, 0, 0);
    }
    pair_run two;
    {
      fresh_experts fresh{*swarm, "tq"};
      two = train_pair(sys, *swarm, fresh.names(), 4, samples);
    }
    std::printf("   one node:  %7.1f samples/s, test accuracy %.4f\n", one.samples_per_s,
                one.accuracy);
    std::printf("   two nodes: %7.1f samples/s, test accuracy %.4f (the averaged model), %llu "
                "rounds, %.0f bytes sent and %.3f s per round\n",
                two.samples_per_s, two.accuracy, static_cast<unsigned long long>(two.avg.rounds),
                two.avg.rounds ? static_cast<double>(two.avg.bytes_sent) / two.avg.rounds : 0.0,
                two.avg.rounds ? two.avg.seconds / two.avg.rounds : 0.0);
    std::printf("   accuracy difference %+.2f points (target within 1)\n",
                100 * (two.accuracy - one.accuracy));
  }

  stop(n0);
  stop(n1);
  stop_expert_host(*local);
  return 0;
}
