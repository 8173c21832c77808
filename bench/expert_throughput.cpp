// bench/expert_throughput: the same feed-forward expert (1024 -> 4096 -> 1024,
// float32) called (a) locally in-process and (b) through a colony-node over
// loopback, for batch sizes 1/16/64/256 and 1/4/16 concurrent clients.
// Prints samples/s for forward and forward+backward with the ratio
// remote/local, the tensor codec's encode+decode GB/s against memcpy of the
// same bytes, the batch-1 forward round trip (median, p99), the guard's
// cost per round trip, and live clients' throughput while stragglers give up
// (bench/guard_and_deadlines.hpp).
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include <caf/all.hpp>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include "actors/client/remote_expert.hpp"
#include "actors/expert/expert_state.hpp"
#include "messages/errc.hpp"
#include "messages/wire/torch_tensor.hpp"
#include "runtime/node_config.hpp"
#include "runtime/system_config.hpp"

using namespace colony;
using bench_clock = std::chrono::steady_clock;

namespace {

constexpr int64_t dim = 1024;
constexpr const char* uid = "bench.0.0";

double seconds_since(bench_clock::time_point t) {
  return std::chrono::duration<double>(bench_clock::now() - t).count();
}

/// Runs `step` repeatedly for about `budget` seconds (at least `min_iters`
/// times) and returns iterations per second.
template <class F>
double rate(F&& step, double budget, int min_iters = 3) {
  step(); // warm-up
  auto start = bench_clock::now();
  int n = 0;
  while (n < min_iters || seconds_since(start) < budget) {
    step();
    ++n;
  }
  return n / seconds_since(start);
}

expert_group_config bench_group() {
  auto cfg = load_node_config(COLONY_BENCH_CONFIG);
  if (!cfg) {
    std::cerr << "bench config: " << describe(cfg.error()) << "\n";
    std::exit(1);
  }
  return cfg->experts.at(0);
}

// -- the node process ---------------------------------------------------------

struct node_process {
  pid_t pid = -1;
  endpoint ep;

  bool start(const std::string& ready_file) {
    std::remove(ready_file.c_str());
    pid = fork();
    if (pid == 0) {
      execl(COLONY_NODE_BIN, COLONY_NODE_BIN, "--config", COLONY_BENCH_CONFIG, "--ready-file",
            ready_file.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 600; ++i) { // at most 60 s
      std::ifstream in{ready_file};
      std::string line;
      if (in && std::getline(in, line) && !line.empty()) {
        auto parsed = parse_endpoint(line);
        if (parsed) {
          ep = *parsed;
          return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
    return false;
  }

  ~node_process() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

// -- measurements -------------------------------------------------------------

struct row {
  int64_t batch;
  int clients;
  double local_fwd, remote_fwd, local_fb, remote_fb;
};

double local_rate(expert::expert_state& st, int64_t batch, bool backward, double budget) {
  auto x = torch::randn({batch, dim});
  auto g = torch::randn({batch, dim}) * 1e-3;
  return batch * rate([&] {
    auto y = st.forward({x});
    if (backward)
      st.backward({x}, {g});
  }, budget);
}

double remote_rate(node_connections& conns, const endpoint& ep, int64_t batch, int clients,
                   bool backward, double budget) {
  auto x = wire::encode_tensor(torch::randn({batch, dim}));
  auto g = wire::encode_tensor(torch::randn({batch, dim}) * 1e-3);
  std::atomic<int64_t> calls{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  auto start = bench_clock::now();
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      remote_expert e{conns, ep, uid, std::chrono::seconds{60}};
      while (seconds_since(start) < budget && !failed) {
        auto y = e.forward({tensor_blob{*x}});
        if (y && backward)
          y = e.backward({tensor_blob{*x}}, {tensor_blob{*g}});
        if (!y) {
          std::cerr << "remote call failed: " << describe(y.error()) << "\n";
          failed = true;
        }
        ++calls;
      }
    });
  for (auto& t : threads)
    t.join();
  return failed ? 0.0 : batch * calls.load() / seconds_since(start);
}

void codec_figures() {
  auto t = torch::randn({1024, 1024}); // 4 MiB
  auto nbytes = static_cast<double>(t.nbytes());
  std::vector<char> dst(t.nbytes());
  auto memcpy_rate = rate([&] { std::memcpy(dst.data(), t.data_ptr(), t.nbytes()); }, 0.5, 20);
  auto codec_rate = rate([&] {
    auto bytes = wire::encode_tensor(t);
    auto back = wire::decode_tensor(std::move(*bytes));
    if (!back || back->numel() != t.numel())
      std::abort();
  }, 0.5, 20);
  std::printf("\ncodec (4 MiB float32): encode+decode %.2f GB/s, memcpy %.2f GB/s, ratio %.2f"
              " (target >= 0.5)\n",
              codec_rate * nbytes / 1e9, memcpy_rate * nbytes / 1e9, codec_rate / memcpy_rate);
}

/// Round trips (ms, sorted) of `calls` forwards of `rows` x 1024 to `name`
/// after 10 warm-up calls; {0.0} when one fails.
std::vector<double> round_trips(node_connections& conns, const endpoint& ep, const char* name,
                                int calls, int64_t rows = 1) {
  remote_expert e{conns, ep, name, std::chrono::seconds{10}};
  auto x = wire::encode_tensor(torch::randn({rows, dim}));
  std::vector<double> ms;
  for (int i = 0; i < calls + 10; ++i) {
    auto start = bench_clock::now();
    auto y = e.forward({tensor_blob{*x}});
    if (!y) {
      std::cerr << "round trip failed: " << describe(y.error()) << "\n";
      return {0.0};
    }
    if (i >= 10)
      ms.push_back(seconds_since(start) * 1e3);
  }
  std::sort(ms.begin(), ms.end());
  return ms;
}

/// Median and 99th percentile of a sorted sample.
double median(const std::vector<double>& v) { return v[v.size() / 2]; }
double p99(const std::vector<double>& v) { return v[v.size() * 99 / 100]; }

void round_trip_figures(node_connections& conns, const endpoint& ep, expert::expert_state& st,
                        int calls) {
  auto x = torch::randn({1, dim});
  std::vector<double> local;
  for (int i = 0; i < calls; ++i) {
    auto start = bench_clock::now();
    st.forward({x});
    local.push_back(seconds_since(start) * 1e3);
  }
  std::sort(local.begin(), local.end());
  auto ffn = round_trips(conns, ep, uid, calls);
  auto nop = round_trips(conns, ep, "nop.0", calls);
  std::printf("\nbatch-1 forward, %d calls each (target: round trip median <= 1 ms):\n", calls);
  std::printf("  ffn expert over loopback: median %.3f ms, p99 %.3f ms\n", median(ffn), p99(ffn));
  std::printf("  same ffn called locally:  median %.3f ms, p99 %.3f ms"
              " (memory-bound: 32 MiB of weights per call)\n", median(local), p99(local));
  std::printf("  identity expert (transport only): median %.3f ms, p99 %.3f ms\n", median(nop),
              p99(nop));
  std::printf("  transport overhead of the ffn call: %.3f ms (%.2fx the local call)\n",
              median(ffn) - median(local), median(ffn) / median(local));
}

} // namespace

#include "bench/guard_and_deadlines.hpp"

int main(int argc, char** argv) {
  double budget = 1.0;
  bool quick = argc > 1 && std::string{argv[1]} == "--quick";
  if (quick)
    budget = 0.2;
  auto group = bench_group();
  // The same intra-op thread count as the node's experts (all cores).
  torch::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  auto st = expert::expert_state::make(uid, group);
  if (!st) {
    std::cerr << describe(st.error()) << "\n";
    return 1;
  }
  node_process node;
  if (!node.start("/tmp/colony-bench-node." + std::to_string(getpid()))) {
    std::cerr << "colony-node did not start\n";
    return 1;
  }
  system_config cfg;
  caf::actor_system sys{cfg};
  node_connections conns{sys};
  std::printf("expert: ffn 1024->4096->1024 float32; torch threads %d; node %s\n",
              torch::get_num_threads(), node.ep.to_string().c_str());
  std::printf("%6s %8s | %12s %12s %6s | %12s %12s %6s\n", "batch", "clients", "local fwd/s",
              "remote fwd/s", "ratio", "local f+b/s", "remote f+b/s", "ratio");
  std::vector<int64_t> batches = quick ? std::vector<int64_t>{1, 64} : std::vector<int64_t>{1, 16, 64, 256};
  std::vector<int> client_counts = quick ? std::vector<int>{4} : std::vector<int>{1, 4, 16};
  for (auto b : batches) {
    auto lf = local_rate(**st, b, false, budget);
    auto lb = local_rate(**st, b, true, budget);
    for (auto c : client_counts) {
      auto rf = remote_rate(conns, node.ep, b, c, false, budget);
      auto rb = remote_rate(conns, node.ep, b, c, true, budget);
      std::printf("%6ld %8d | %12.0f %12.0f %6.2f | %12.0f %12.0f %6.2f\n", static_cast<long>(b), c,
                  lf, rf, rf / lf, lb, rb, rb / lb);
    }
  }
  std::printf("(samples/s; target remote/local >= 0.9 at batch 64 with 4 clients)\n");
  codec_figures();
  round_trip_figures(conns, node.ep, **st, quick ? 200 : 1000);
  bench_extra::guard_figures(quick ? 200 : 1000);
  bench_extra::straggler_figures(sys, conns, node.ep, quick ? 1.0 : 4.0);
  return 0;
}
