// bench/dht: the DHT at scale (torch-free).
//   1. For N = 100, 1,000, 10,000 peers in one process (each N in a fresh
//      child process, so RSS is its own): bootstrap time, resident memory,
//      lookup hops, lookup time with 0 and 100 ms simulated one-way latency,
//      and lookup success with 10% and 30% of the peers dead.
//   2. 20 `colony dht serve` processes on loopback: 200 keys stored from one
//      peer and read from another right after start-up.
// Usage: dht [--quick] [--seed S]    (--quick: N = 100 and 1,000 only)
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/dht/client.hpp"
#include "actors/dht/swarm.hpp"
#include "bench/proc_status.hpp"
#include "messages/errc.hpp"
#include "runtime/system_config.hpp"

extern char** environ;

using namespace colony;
using namespace colony::dht;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// -- measurements -------------------------------------------------------------

/// One timed lookup.
struct probe_result {
  double ms = 0;
  bool found = false;
  uint32_t hops = 0;
};

double ms_since(steady::time_point t) {
  return std::chrono::duration<double, std::milli>(steady::now() - t).count();
}

/// Looks `keys[i]` up through `peers[i]`, at most `window` at a time, each
/// timed from its request to its reply.
std::vector<probe_result> run_probes(caf::actor_system& sys, std::vector<peer_actor> peers,
                                     std::vector<std::string> keys, size_t window) {
  auto n = peers.size();
  auto results = std::make_shared<std::vector<probe_result>>(n);
  if (n == 0)
    return {};
  std::promise<void> done;
  auto finished = done.get_future();
  sys.spawn([&, results, n, window](caf::event_based_actor* self) {
    auto next = std::make_shared<size_t>(0);
    auto left = std::make_shared<size_t>(n);
    auto launch = std::make_shared<std::function<void()>>();
    *launch = [=, &done, &peers, &keys] {
      auto i = (*next)++;
      auto start = steady::now();
      auto complete = [=, &done](probe_result r) {
        (*results)[i] = r;
        if (--*left == 0) {
          done.set_value();
          self->quit();
        } else if (*next < n) {
          (*launch)();
        }
      };
      self->request(peers[i], 120s, dht_get_request{{keys[i]}})
        .then(
          [=](dht_get_reply& reply) {
            const auto& r = reply.results.at(0);
            complete({ms_since(start), r.found, r.hops});
          },
          [=](caf::error&) { complete({ms_since(start), false, 0}); });
    };
    for (size_t i = 0; i < std::min(window, n); ++i)
      (*launch)();
  });
  finished.wait();
  return *results;
}

double percentile(std::vector<double> xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto index = static_cast<size_t>(p * static_cast<double>(xs.size() - 1) + 0.5);
  return xs[std::min(index, xs.size() - 1)];
}

using bench::status_kib;

// -- one swarm size (run in a child process) ---------------------------------

/// Everything measured for one N.
struct size_result {
  std::map<std::string, double> x;
};

/// `lookups` random (reader, key) pairs among the live peers.
void pick_probes(swarm& s, const std::vector<std::string>& keys, size_t lookups,
                 std::mt19937_64& rng, std::vector<peer_actor>& peers,
                 std::vector<std::string>& picked) {
  auto live = s.alive_indices();
  peers.clear();
  picked.clear();
  for (size_t i = 0; i < lookups; ++i) {
    peers.push_back(s.peer(live[rng() % live.size()]));
    picked.push_back(keys[rng() % keys.size()]);
  }
}

/// Key i stored by its owner (if alive) with a one-hour expiration; the
/// keys stored.
std::vector<std::string> store_keys(swarm& s, const std::vector<std::string>& keys,
                                    const std::vector<size_t>& owners) {
  std::vector<std::string> stored;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!s.alive(owners[i]))
      continue;
    s.client_of(owners[i]).store(keys[i], "value-" + std::to_string(i), unix_time() + 3600);
    stored.push_back(keys[i]);
  }
  return stored;
}

double success(const std::vector<probe_result>& rs) {
  auto ok = std::count_if(rs.begin(), rs.end(), [](const auto& r) { return r.found; });
  return rs.empty() ? 0 : static_cast<double>(ok) / static_cast<double>(rs.size());
}

void kill_until(swarm& s, double fraction, std::mt19937_64& rng) {
  auto target = static_cast<size_t>(fraction * static_cast<double>(s.size()));
  auto live = s.alive_indices();
  std::shuffle(live.begin(), live.end(), rng);
  for (size_t i = 0; s.size() - s.alive_indices().size() < target; ++i)
    s.kill(live[i]);
}

size_result measure_size(size_t n, uint64_t seed) {
  size_result out;
  system_config cfg;
  caf::actor_system sys{cfg};
  std::mt19937_64 rng{seed};
  swarm_options opts;
  opts.seed = seed;
  opts.wave = 500;
  swarm s{sys, opts};
  auto rss0 = status_kib("VmRSS");
  auto start = steady::now();
  if (auto err = s.grow(n)) {
    std::cerr << "bootstrap failed: " << describe(err) << "\n";
    std::exit(1);
  }
  out.x["bootstrap_s"] = ms_since(start) / 1000;
  out.x["rss_mib"] = static_cast<double>(status_kib("VmRSS")) / 1024;
  out.x["kib_per_peer"] = static_cast<double>(status_kib("VmRSS") - rss0) / n;
  std::vector<std::string> keys;
  std::vector<size_t> owners;
  for (size_t i = 0; i < 100; ++i) {
    keys.push_back("bench-key-" + std::to_string(i));
    owners.push_back(rng() % n);
  }
  store_keys(s, keys, owners);
  std::vector<peer_actor> peers;
  std::vector<std::string> picked;
  pick_probes(s, keys, 500, rng, peers, picked);
  auto rs = run_probes(sys, peers, picked, 1);
  std::vector<double> hops, ms;
  for (const auto& r : rs) {
    hops.push_back(r.hops);
    ms.push_back(r.ms);
  }
  out.x["hops_med"] = percentile(hops, 0.5);
  out.x["hops_p99"] = percentile(hops, 0.99);
  out.x["ms0_med"] = percentile(ms, 0.5);
  out.x["ms0_p99"] = percentile(ms, 0.99);
  out.x["ok0"] = success(rs);
  s.directory().faults().set(fault_config{fault_config::delay_kind::fixed, 100, 0, seed});
  pick_probes(s, keys, 200, rng, peers, picked);
  rs = run_probes(sys, peers, picked, 50);
  ms.clear();
  for (const auto& r : rs)
    ms.push_back(r.ms);
  out.x["ms100_med"] = percentile(ms, 0.5);
  out.x["ms100_p99"] = percentile(ms, 0.99);
  out.x["ok100"] = success(rs);
  s.directory().faults().set(fault_config{});
  for (auto [fraction, name] : {std::pair{0.1, "dead10"}, std::pair{0.3, "dead30"}}) {
    kill_until(s, fraction, rng);
    pick_probes(s, keys, 500, rng, peers, picked);
    out.x[std::string{"raw_"} + name] = success(run_probes(sys, peers, picked, 20));
    auto owned = store_keys(s, keys, owners); // the owners' next declaration round
    pick_probes(s, owned, 500, rng, peers, picked);
    out.x[std::string{"ok_"} + name] = success(run_probes(sys, peers, picked, 20));
  }
  out.x["hwm_mib"] = static_cast<double>(status_kib("VmHWM")) / 1024;
  return out;
}

// -- child processes ----------------------------------------------------------

pid_t spawn(std::vector<std::string> argv, const std::string& out_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0)
    pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  return std::string{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

/// Runs `--n N` in a fresh process of this binary and parses its result.
size_result measure_size_isolated(size_t n, uint64_t seed, const std::string& dir) {
  auto out_file = dir + "/n" + std::to_string(n) + ".out";
  auto pid = spawn({"/proc/self/exe", "--n", std::to_string(n), "--seed", std::to_string(seed)},
                   out_file);
  int status = 0;
  waitpid(pid, &status, 0);
  size_result result;
  std::istringstream in{read_file(out_file)};
  std::string key;
  double value = 0;
  while (in >> key >> value)
    result.x[key] = value;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || result.x.empty())
    std::cerr << "N=" << n << " failed (status " << status << ")\n";
  return result;
}

/// Waits (at most 20 s) for the first line of `path`.
std::string wait_line(const std::string& path) {
  auto deadline = steady::now() + 20s;
  while (steady::now() < deadline) {
    std::ifstream in{path};
    std::string line;
    if (in && std::getline(in, line) && !line.empty())
      return line;
    std::this_thread::sleep_for(5ms);
  }
  return {};
}

/// 20 `colony dht serve` processes; 200 keys stored via peer 1, read via
/// peer 2 right after start-up.
std::map<std::string, double> measure_processes(const std::string& dir) {
  std::map<std::string, double> out;
  const size_t num_procs = 20;
  std::vector<pid_t> pids;
  std::vector<std::string> eps;
  for (size_t i = 0; i < num_procs; ++i) {
    auto ready = dir + "/p" + std::to_string(i) + ".ready";
    std::vector<std::string> argv{COLONY_CLI_BIN, "dht", "serve", "--ready-file", ready,
                                  "--log-level", "warn"};
    if (i > 0) {
      argv.push_back("--peer");
      argv.push_back(eps[(i - 1) / 2]); // a binary tree of bootstrap peers
    }
    pids.push_back(spawn(argv, dir + "/p" + std::to_string(i) + ".out"));
    eps.push_back(wait_line(ready));
  }
  system_config cfg;
  caf::actor_system sys{cfg};
  auto connect = [&](const std::string& text) {
    auto ep = parse_endpoint(text);
    return client{sys, *caf::io::remote_actor<peer_front_actor>(sys, ep->host, ep->port), 10s};
  };
  auto writer = connect(eps[1]);
  auto reader = connect(eps[2]);
  std::vector<double> put_ms, get_ms;
  size_t found = 0;
  for (size_t i = 0; i < 200; ++i) {
    auto start = steady::now();
    writer.store("proc-key-" + std::to_string(i), "v" + std::to_string(i), unix_time() + 600);
    put_ms.push_back(ms_since(start));
  }
  for (size_t i = 0; i < 200; ++i) {
    auto start = steady::now();
    auto r = reader.get_one("proc-key-" + std::to_string(i));
    get_ms.push_back(ms_since(start));
    found += r && r->found && r->value.values.at(0).value == "v" + std::to_string(i) ? 1 : 0;
  }
  for (auto pid : pids)
    kill(pid, SIGKILL);
  for (auto pid : pids)
    waitpid(pid, nullptr, 0);
  out["put_med"] = percentile(put_ms, 0.5);
  out["get_med"] = percentile(get_ms, 0.5);
  out["get_p95"] = percentile(get_ms, 0.95);
  out["found"] = static_cast<double>(found);
  return out;
}

// -- report -------------------------------------------------------------------

void print_table(const std::vector<std::pair<size_t, size_result>>& sizes,
                 const std::map<std::string, double>& procs) {
  std::printf("\nDHT in one process (2 scheduler threads; k=20, alpha=3, 5 replicas)\n");
  std::printf("%7s %10s %7s %9s %8s %12s %13s %17s %17s\n", "N", "bootstrap", "RSS",
              "RSS/peer", "hops", "lookup 0ms", "lookup 100ms", "ok 10% dead", "ok 30% dead");
  std::printf("%7s %10s %7s %9s %8s %12s %13s %17s %17s\n", "", "s", "MiB", "KiB",
              "med/p99", "med/p99 ms", "med/p99 ms", "re-stored (raw)", "re-stored (raw)");
  for (const auto& [n, r] : sizes) {
    auto x = r.x;
    std::printf("%7zu %10.2f %7.0f %9.1f %4.0f/%-3.0f %5.2f/%-6.2f %5.0f/%-7.0f %7.2f%% (%5.1f%%) "
                "%7.2f%% (%5.1f%%)\n",
                n, x["bootstrap_s"], x["rss_mib"], x["kib_per_peer"], x["hops_med"],
                x["hops_p99"], x["ms0_med"], x["ms0_p99"], x["ms100_med"], x["ms100_p99"],
                100 * x["ok_dead10"], 100 * x["raw_dead10"], 100 * x["ok_dead30"],
                100 * x["raw_dead30"]);
  }
  std::printf("ok = lookups of 100 keys from random live peers after the owners still alive "
              "re-stored them; raw = before re-storing (a key is lost when all 5 replicas "
              "died)\n");
  std::printf("targets at N=10,000: RSS <= 2048 MiB, bootstrap < 60 s, median hops <= 4, "
              ">= 99%% success with 10%% dead\n");
  for (const auto& [n, r] : sizes) {
    auto x = r.x;
    if (n != 10000)
      continue;
    std::printf("N=10,000 vs targets: RSS %.0f/2048 MiB (%.0f%%), bootstrap %.1f/60 s, hops "
                "%.0f/4, success %.2f%%/99%%\n",
                x["rss_mib"], 100 * x["rss_mib"] / 2048, x["bootstrap_s"], x["hops_med"],
                100 * x["ok_dead10"]);
  }
  std::printf("\n20 colony dht serve processes on loopback, 200 keys stored via peer 1 and "
              "read via peer 2 right after start-up\n");
  std::printf("get latency median %.3f ms (target <= 1.5), p95 %.3f ms; found %.0f/200 "
              "(target 200/200); put median %.3f ms\n",
              procs.at("get_med"), procs.at("get_p95"), procs.at("found"), procs.at("put_med"));
}

} // namespace

int main(int argc, char** argv) {
  bool quick = false;
  size_t only_n = 0;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--quick")
      quick = true;
    else if (arg == "--n" && i + 1 < argc)
      only_n = std::stoull(argv[++i]);
    else if (arg == "--seed" && i + 1 < argc)
      seed = std::stoull(argv[++i]);
    else {
      std::cerr << "usage: dht [--quick] [--seed S]\n";
      return 1;
    }
  }
  if (only_n > 0) {
    for (const auto& [k, v] : measure_size(only_n, seed).x)
      std::cout << k << " " << v << "\n";
    return 0;
  }
  char tmpl[] = "/tmp/colony-dht-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::vector<std::pair<size_t, size_result>> sizes;
  std::vector<size_t> ns{100, 1000};
  if (!quick)
    ns.push_back(10000);
  for (auto n : ns) {
    std::cerr << "measuring N=" << n << " ...\n";
    sizes.emplace_back(n, measure_size_isolated(n, seed, dir));
  }
  std::cerr << "measuring 20 processes ...\n";
  auto procs = measure_processes(dir);
  print_table(sizes, procs);
  std::filesystem::remove_all(dir);
  return 0;
}
