// bench/recovery: how long Colony takes to recover from failures, median
// and p95 over repeats.
//  1. Expert crash -> serving again: a node in this process (its own actor
//     system, published on 127.0.0.1, ffn experts checkpointed after every
//     update), a client in a second actor system over loopback TCP. One
//     expert gets an exit message with an abnormal reason; the client polls
//     forwards every 1 ms until one succeeds on the restarted actor.
//     (a) the experts' supervision as configured (expert_supervision: 100
//         ms backoff doubling, 3 restarts in 10 s per group): each repeat
//         crashes a fresh expert in its own group, so each is a first
//         restart; (b) no backoff, max_restarts 1000: one expert crashed
//         back to back.
//  2. Node kill -> trainers route around it: a `colony dht serve`
//     bootstrap, two colony-node expert nodes (one grid row each) and a
//     colony-node trainer (log_every 1), all processes on loopback. Node A
//     is SIGKILLed while the trainer trains; from the trainer's log: the
//     kill until node_down, and until the first step that asked only the
//     live node's experts and got every answer. Then A is restarted on the
//     same port: until its ready file, and until its experts' counters
//     show requests served again.
// Usage: recovery [--quick] [--repeats N]   (default 10 repeats; --quick 3)
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <random>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/sinks/base_sink.h>
#include <torch/torch.h>

#include "actors/client/remote_expert.hpp"
#include "actors/expert/expert_host.hpp"
#include "bench/recovery_support.hpp"
#include "messages/errc.hpp"
#include "messages/wire/torch_tensor.hpp"
#include "runtime/liveness_config.hpp"
#include "runtime/logging.hpp"
#include "runtime/node_config.hpp"
#include "runtime/system_config.hpp"

using namespace colony;
using namespace colony::bench;
using namespace std::chrono_literals;

namespace {

struct row {
  std::string measure;
  std::vector<double> ms;
};

// -- 1. expert crash ----------------------------------------------------------

constexpr int crash_dim = 512, crash_hidden = 2048;

/// Keeps the backoff_ms of every child_restarted line, by child id.
class backoff_sink : public spdlog::sinks::base_sink<std::mutex> {
public:
  std::vector<double> of(const std::string& child) {
    std::lock_guard<std::mutex> guard{mutex_};
    return backoffs_[child];
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string line{msg.payload.data(), msg.payload.size()};
    auto child = line.find(" child=");
    auto backoff = line.find(" backoff_ms=");
    if (line.find("event=child_restarted") == std::string::npos || child == std::string::npos
        || backoff == std::string::npos)
      return;
    auto end = line.find(' ', child + 7);
    backoffs_[line.substr(child + 7, end - child - 7)].push_back(
      std::atof(line.c_str() + backoff + 12));
  }
  void flush_() override {}

private:
  std::map<std::string, std::vector<double>> backoffs_;
};

std::string crash_node_yaml(int groups, const std::string& dir) {
  std::string y = "node: {host: 127.0.0.1, port: 0, scheduler_threads: 2, torch_threads: 1, "
                  "compute_slots: 1}\nlog: {level: warn}\nexperts:\n";
  for (int g = 0; g < groups; ++g)
    y += "  - {uid: crash." + std::to_string(g) + ".*, count: 1, module: {type: ffn, "
         "input_dim: " + std::to_string(crash_dim) + ", hidden_dim: "
         + std::to_string(crash_hidden) + ", output_dim: " + std::to_string(crash_dim)
         + ", seed: " + std::to_string(g + 1) + "}, optimizer: {type: adam, lr: 1.0e-4}, "
         "checkpoint: {dir: " + dir + ", every_updates: 1}}\n";
  return y;
}

/// One update of `e` (so that a checkpoint is written), awaited.
void update_once(remote_expert& e, const tensor_blob& x, const tensor_blob& g) {
  auto before = e.info();
  if (!before || !e.backward({x}, {g}))
    die("backward before the crash failed");
  for (int i = 0; i < 2000; ++i) { // at most ~10 s
    auto now = e.info();
    if (now && now->updates > before->updates)
      return;
    std::this_thread::sleep_for(5ms);
  }
  die("the update before the crash never landed");
}

struct crash_result {
  std::vector<double> serving_ms, backoff_ms;
};

/// Crashes `repeats` experts (crash.r.0 when `distinct`, else crash.0.0
/// each time) of a node built with `sup`.
crash_result crash_figures(expert_supervision sup, int repeats, bool distinct,
                           const std::string& dir, backoff_sink& sink) {
  auto cfg = parse_node_config(crash_node_yaml(distinct ? repeats : 1, dir));
  if (!cfg)
    die(describe(cfg.error()));
  system_options opts;
  opts.scheduler_threads = 2;
  system_config node_cfg{opts}, client_cfg{opts};
  caf::actor_system node_sys{node_cfg};
  auto host = spawn_expert_host(node_sys, *cfg, {}, sup);
  if (!host)
    die(describe(host.error()));
  auto port = caf::io::publish(host->server, 0, "127.0.0.1", true);
  if (!port)
    die("publish: " + node_sys.render(port.error()));
  crash_result out;
  {
    caf::scoped_actor crasher{node_sys};
    caf::actor_system client_sys{client_cfg};
    node_connections conns{client_sys};
    auto x = tensor_blob{*wire::encode_tensor(torch::randn({4, crash_dim}))};
    auto g = tensor_blob{*wire::encode_tensor(torch::randn({4, crash_dim}) * 1e-3)};
    for (int r = 0; r < repeats; ++r) {
      auto uid = "crash." + std::to_string(distinct ? r : 0) + ".0";
      remote_expert e{conns, endpoint{"127.0.0.1", *port}, uid, 5s};
      update_once(e, x, g);
      auto old = host->registry->find(uid);
      if (!old)
        die("expert " + uid + " not running before the crash");
      auto t0 = steady::now();
      crasher->send_exit(*old, make_error(errc::compute_failed, "bench crash"));
      bool served = false;
      while (!served && steady::now() - t0 < 30s) {
        auto now = host->registry->find(uid);
        if (now && *now == *old) { // the exit is not processed yet
          std::this_thread::sleep_for(100us);
          continue;
        }
        served = static_cast<bool>(e.forward({x}));
        if (!served)
          std::this_thread::sleep_for(1ms);
      }
      if (!served)
        die("expert " + uid + " did not serve again within 30 s");
      out.serving_ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - t0)
                                 .count());
      auto b = sink.of(uid);
      out.backoff_ms.push_back(b.empty() ? 0 : b.back());
    }
  }
  node_sys.middleman().unpublish(host->server, *port);
  stop_expert_host(*host);
  return out;
}

std::vector<row> expert_crash_rows(int repeats) {
  auto sink = std::make_shared<backoff_sink>();
  log::get("supervisor")->sinks().push_back(sink);
  auto dir = "/tmp/colony-recovery-bench-ckpt." + std::to_string(getpid());
  std::vector<row> rows;
  auto configured = crash_figures(expert_supervision{}, repeats, true, dir, *sink);
  rows.push_back({"expert crash -> serving again (backoff as configured)",
                  configured.serving_ms});
  rows.push_back({"  of which the supervisor's backoff", configured.backoff_ms});
  expert_supervision none;
  none.group.backoff.initial_ms = 0;
  none.group.max_restarts = 1000;
  auto fast = crash_figures(none, repeats, false, dir + "-nb", *sink);
  rows.push_back({"expert crash -> serving again (no backoff)", fast.serving_ms});
  auto& sinks = log::get("supervisor")->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(dir + "-nb");
  return rows;
}


// -- 2. node kill and restart -------------------------------------------------

/// The DHT and gate settings of part 2 (printed with the table).
constexpr double dht_expiration_s = 30, dht_update_period_s = 5;
constexpr double gate_cache_expiry_s = 5, after_k_min_s = 0.2;

std::string expert_node_yaml(int row, uint16_t port, const std::string& bootstrap) {
  auto r = std::to_string(row);
  return "node: {host: 127.0.0.1, port: " + std::to_string(port)
         + ", scheduler_threads: 1, torch_threads: 1}\nlog: {level: info}\n"
           "dht: {port: 0, initial_peers: [" + bootstrap + "], expiration_s: "
         + std::to_string(dht_expiration_s) + ", update_period_s: "
         + std::to_string(dht_update_period_s) + "}\nexperts:\n  - {uid: rec." + r
         + ".*, count: 2, module: {type: ffn, input_dim: 16, hidden_dim: 32, output_dim: 16, "
           "seed: " + std::to_string(row + 1) + "}, optimizer: {type: adam, lr: 3.0e-3}}\n";
}

/// One trainer asking all 4 experts of a [2, 2] grid (k_best 4) every step.
std::string trainer_yaml(const std::string& bootstrap) {
  return "node: {host: 127.0.0.1, port: 0, scheduler_threads: 2}\nlog: {level: info}\n"
         "dht: {port: 0, initial_peers: [" + bootstrap + "], client_mode: true}\n"
         "trainers:\n  count: 1\n  batch_size: 16\n  steps: 100000000\n  seed: 3\n"
         "  lr: 3.0e-3\n  log_every: 1\n  data: {kind: synthetic, features: 16, classes: 4, "
         "train_size: 1024, test_size: 128, seed: 9}\n  model:\n"
         "    - {type: linear, in: 16, out: 16}\n"
         "    - {type: dmoe, prefix: rec, grid: [2, 2], dim: 16, k_best: 4, k_min: 1, "
         "timeout_after_k_min: " + std::to_string(after_k_min_s) + ", forward_timeout: 5, "
         "backward_timeout: 5, cache_expiry: " + std::to_string(gate_cache_expiry_s) + "}\n"
         "    - {type: linear, in: 16, out: 4}\n";
}

bool names_endpoint(const std::string& line, const std::string& ep) {
  auto at = line.find("endpoint=" + ep);
  if (at == std::string::npos)
    return false;
  auto end = at + 9 + ep.size();
  return end == line.size() || line[end] == ' ';
}

bool is_step(const log_line& l) {
  return l.text.find(" trainer=0 step=") != std::string::npos
         && field_of(l.text, "experts_asked") > 0;
}

/// A step whose every expert request was answered.
bool complete(const log_line& l) {
  return is_step(l) && field_of(l.text, "experts_answered") == field_of(l.text, "experts_asked");
}

/// The experts of `row` on `ep` served any forward (asked over our own
/// connection, polled every 20 ms up to `limit`); when, or nullopt.
std::optional<steady::time_point> wait_served(node_connections& conns, const endpoint& ep,
                                              int row, std::chrono::milliseconds limit) {
  auto deadline = steady::now() + limit;
  while (steady::now() < deadline) {
    for (int c = 0; c < 2; ++c) {
      auto uid = "rec." + std::to_string(row) + "." + std::to_string(c);
      auto info = remote_expert{conns, ep, uid, 1s}.info();
      if (info && info->forward_samples > 0)
        return steady::now();
    }
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

std::vector<row> node_kill_rows(int repeats) {
  auto dir = "/tmp/colony-recovery-bench." + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  child dht, a, b, trainer;
  dht.start({COLONY_CLI_BIN, "dht", "serve", "--port", "0", "--ready-file", dir + "/dht.ready",
             "--log-level", "warn"},
            dir + "/dht.log");
  auto bootstrap = dht.wait_ready(dir + "/dht.ready", 30s);
  auto port_a = free_port(), port_b = free_port();
  while (port_b == port_a)
    port_b = free_port();
  auto start_node = [&](child& c, const std::string& tag, const std::string& yaml) {
    std::ofstream{dir + "/" + tag + ".yaml"} << yaml;
    std::filesystem::remove(dir + "/" + tag + ".ready");
    c.start({COLONY_NODE_BIN, "--config", dir + "/" + tag + ".yaml", "--ready-file",
             dir + "/" + tag + ".ready"},
            dir + "/" + tag + ".log");
    return c.wait_ready(dir + "/" + tag + ".ready", 60s);
  };
  auto ep_a = start_node(a, "a", expert_node_yaml(0, port_a, bootstrap));
  start_node(b, "b", expert_node_yaml(1, port_b, bootstrap));
  start_node(trainer, "t", trainer_yaml(bootstrap));
  log_follower tlog{dir + "/t.log"};
  // A step that reached both nodes asks each of the 4 experts twice
  // (forward and backward); one that avoided node A asks 4 at most.
  constexpr long full = 8;
  auto uses_both = [](const log_line& l) {
    return complete(l) && field_of(l.text, "experts_asked") == full;
  };
  system_config cfg;
  caf::actor_system sys{cfg};
  node_connections conns{sys};
  std::vector<row> rows{{"node kill -> trainer logs node_down", {}},
                        {"node kill -> first complete step without the node", {}},
                        {"node restart -> node ready (ready file)", {}},
                        {"node restart -> its experts serve again", {}},
                        {"node restart -> trainer's first step using it", {}}};
  std::mt19937 rng{1};
  std::uniform_real_distribution<double> phase{0, gate_cache_expiry_s};
  for (int r = 0; r < repeats; ++r) {
    if (!tlog.wait_for(uses_both, 60s))
      die("the trainer never used both nodes: " + read_all(dir + "/t.log").substr(0, 3000));
    // The trainer just re-read the DHT (its prefix cache expired): kill at a
    // random phase of that cycle, not right after a refresh.
    std::this_thread::sleep_for(std::chrono::duration<double>(phase(rng)));
    tlog.wait_for([](const log_line&) { return false; }, 0ms); // skip the lines of the wait
    auto killed = wall::now();
    a.stop();
    std::optional<wall::time_point> down, around;
    auto seen = tlog.wait_for([&](const log_line& l) {
      if (!down && l.text.find("event=node_down") != std::string::npos
          && names_endpoint(l.text, ep_a))
        down = l.at;
      if (!around && complete(l) && field_of(l.text, "experts_asked") < full)
        around = l.at;
      return down && around;
    }, 30s);
    if (!seen)
      die("after the kill: node_down " + std::string{down ? "seen" : "missing"}
          + ", a complete step without the node " + (around ? "seen" : "missing"));
    rows[0].ms.push_back(ms_between(killed, *down));
    rows[1].ms.push_back(ms_between(killed, *around));
    auto restarted = wall::now();
    auto t0 = steady::now();
    start_node(a, "a", expert_node_yaml(0, port_a, bootstrap));
    rows[2].ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - t0).count());
    auto served = wait_served(conns, *parse_endpoint(ep_a), 0, 60s);
    if (!served)
      die("the restarted node's experts served nothing within 60 s");
    rows[3].ms.push_back(std::chrono::duration<double, std::milli>(*served - t0).count());
    auto used = tlog.wait_for(uses_both, 60s);
    if (!used)
      die("the trainer never used the restarted node");
    rows[4].ms.push_back(ms_between(restarted, used->at));
    std::printf("  repeat %d: down %.0f ms, around %.0f ms, ready %.0f ms, served %.0f ms, "
                "used %.0f ms\n",
                r + 1, rows[0].ms.back(), rows[1].ms.back(), rows[2].ms.back(),
                rows[3].ms.back(), rows[4].ms.back());
    std::fflush(stdout);
  }
  trainer.stop();
  a.stop();
  b.stop();
  dht.stop();
  std::filesystem::remove_all(dir);
  return rows;
}

void print_node_settings() {
  liveness_config live;
  std::printf("node kill: 2 expert nodes x 2 experts (ffn 16-32-16), 1 trainer, k_best 4 of a "
              "[2, 2] grid, k_min 1, timeout_after_k_min %.1f s; liveness pings every %u ms, "
              "hung after %u ms; DHT expiration %.0f s, update period %.0f s; gate cache "
              "expiry %.0f s, unreachable_skip 10 s; restart on the same port; kill at a uniform random 0-%.0f s after the trainer used both nodes.\n",
              after_k_min_s, live.interval_ms, live.timeout_ms, dht_expiration_s,
              dht_update_period_s, gate_cache_expiry_s, gate_cache_expiry_s);
}

} // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int repeats = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick")
      quick = true;
    else if (a == "--repeats" && i + 1 < argc && std::atoi(argv[i + 1]) > 0)
      repeats = std::atoi(argv[++i]);
    else
      die("usage: recovery [--quick] [--repeats N]");
  }
  if (repeats == 0)
    repeats = quick ? 3 : 10;
  torch::set_num_threads(1);
  std::printf("recovery, %d repeats (expert ffn %d-%d-%d, adam, checkpoint every update)\n",
              repeats, crash_dim, crash_hidden, crash_dim);
  auto rows = expert_crash_rows(repeats);
  auto node_rows = node_kill_rows(repeats);
  rows.insert(rows.end(), node_rows.begin(), node_rows.end());
  std::printf("\n| measure | median ms | p95 ms | repeats |\n|---|---:|---:|---:|\n");
  for (auto& r : rows)
    std::printf("| %s | %.1f | %.1f | %zu |\n", r.measure.c_str(), percentile(r.ms, 0.5),
                percentile(r.ms, 0.95), r.ms.size());
  expert_supervision sup;
  std::printf("\nsettings: expert groups restart %u times in %.0f s, backoff %.0f ms x%.0f up "
              "to %.0f ms (jitter %.0f%%); 'no backoff' = backoff 0, max_restarts 1000; "
              "crash poll every 1 ms.\n",
              sup.group.max_restarts, sup.group.window_s, sup.group.backoff.initial_ms,
              sup.group.backoff.multiplier, sup.group.backoff.max_ms,
              sup.group.backoff.jitter * 100);
  print_node_settings();
  return 0;
}
