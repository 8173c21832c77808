// bench/expert_throughput, part 2 (included once by expert_throughput.cpp,
// after its helpers round_trips, median and p99):
//   - the guard's cost: the same identity expert published by CAF directly
//     and behind a basp_guard, batch-1 and 256 KiB round trips;
//   - abandoned work: on an expert that takes 20 ms per batch of 16 rows
//     (slow.0), live clients' throughput while straggler clients send
//     1024-row requests (64 batches) and give up after 100 ms, with the
//     requests' deadline (budget_ms) and without it (budget_ms 0, as
//     before), against the live clients alone.
#pragma once

#include <caf/all.hpp>

#include "actors/expert/expert_host.hpp"
#include "runtime/net_guard/publish.hpp"

namespace bench_extra {

using namespace colony;

/// round_trips() to nop.0 at `ep` from an actor system of its own (CAF
/// keeps one route per node: a second connection from the same system to
/// the same node would not be used).
inline std::vector<double> trips(const endpoint& ep, int64_t rows, int calls) {
  system_config cfg;
  caf::actor_system sys{cfg};
  node_connections conns{sys};
  return round_trips(conns, ep, "nop.0", calls, rows);
}

inline void guard_figures(int calls) {
  auto cfg = load_node_config(COLONY_BENCH_CONFIG);
  if (!cfg)
    return;
  cfg->experts.erase(cfg->experts.begin()); // no ffn: the calls go to nop.0
  system_config server_cfg;
  caf::actor_system server_sys{server_cfg};
  auto host = spawn_expert_host(server_sys, *cfg);
  if (!host) {
    std::cerr << describe(host.error()) << "\n";
    return;
  }
  auto direct = server_sys.middleman().publish(host->server, 0, "127.0.0.1", false);
  auto guarded = net_guard::publish_guarded(server_sys, host->server, "127.0.0.1", 0,
                                            cfg->guard, "bench");
  if (!direct || !guarded) {
    std::cerr << "publish failed\n";
    return;
  }
  std::printf("\nguard cost, identity expert, %d calls each (CAF direct vs behind the guard):\n",
              calls);
  for (int64_t rows : {int64_t{1}, int64_t{64}}) {
    auto d = trips(endpoint{"127.0.0.1", *direct}, rows, calls);
    auto g = trips(endpoint{"127.0.0.1", (*guarded)->port()}, rows, calls);
    std::printf("  %4ld x 1024 float32: direct median %.3f ms p99 %.3f | guarded median %.3f"
                " ms p99 %.3f | %+.3f ms per round trip\n",
                static_cast<long>(rows), median(d), p99(d), median(g), p99(g),
                median(g) - median(d));
  }
  net_guard::unpublish(server_sys, host->server, **guarded);
  server_sys.middleman().unpublish(host->server, *direct);
  stop_expert_host(*host);
}

/// Live samples/s over `budget` s on slow.0: `live` clients send 16-row
/// forwards (60 s timeout) while `stragglers` send 1024-row forwards and
/// give up after 100 ms, with budget_ms set (`deadlines`) or 0.
inline double live_rate(caf::actor_system& sys, node_connections& conns, const endpoint& ep,
                        int live, int stragglers, bool deadlines, double budget) {
  const char* uid = "slow.0";
  auto server = conns.get(ep);
  if (!server)
    return 0;
  auto small = wire::encode_tensor(torch::randn({16, 16}));
  auto big = wire::encode_tensor(torch::randn({1024, 16}));
  std::atomic<bool> stop{false};
  std::atomic<int64_t> rows{0};
  std::vector<std::thread> threads;
  for (int s = 0; s < stragglers; ++s)
    threads.emplace_back([&] {
      caf::scoped_actor self{sys};
      while (!stop) {
        forward_request req{uid, {tensor_blob{*big}}, deadlines ? 100u : 0u};
        self->request(*server, std::chrono::milliseconds{100}, std::move(req))
          .receive([](forward_reply&) {}, [](caf::error&) {});
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds{200}); // stragglers queue up first
  auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < live; ++c)
    threads.emplace_back([&] {
      caf::scoped_actor self{sys};
      while (!stop) {
        forward_request req{uid, {tensor_blob{*small}}, 60000};
        self->request(*server, std::chrono::seconds{60}, std::move(req))
          .receive([&](forward_reply&) { rows += 16; }, [](caf::error&) {});
      }
    });
  std::this_thread::sleep_for(std::chrono::duration<double>{budget});
  auto rate = rows.load() / std::chrono::duration<double>(std::chrono::steady_clock::now()
                                                          - start).count();
  stop = true;
  for (auto& t : threads)
    t.join();
  return rate;
}

inline void straggler_figures(caf::actor_system& sys, node_connections& conns,
                              const endpoint& ep, double budget) {
  // Without deadlines the stragglers leave a backlog that outlives the
  // run, so that case goes last.
  auto alone = live_rate(sys, conns, ep, 2, 0, true, budget);
  auto with = live_rate(sys, conns, ep, 2, 4, true, budget);
  auto without = live_rate(sys, conns, ep, 2, 4, false, budget);
  std::printf("\nabandoned work, expert of 20 ms per 16-row batch: 2 live clients (16 rows)"
              " with 4 stragglers (1024 rows, give up after 100 ms):\n");
  std::printf("  live alone %.0f samples/s | with stragglers, no deadlines %.0f (%.2f) |"
              " with deadlines %.0f (%.2f)\n",
              alone, without, without / alone, with, with / alone);
}

} // namespace bench_extra
