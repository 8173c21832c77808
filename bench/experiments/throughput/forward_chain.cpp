// Forward-only streams through expert chains (see forward_chain.hpp).
#include "bench/experiments/throughput/forward_chain.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>

#include <caf/all.hpp>
#include <torch/torch.h>

#include "actors/client/remote_expert.hpp"
#include "actors/gate/dmoe_layer.hpp"
#include "actors/gate/gate_actor.hpp"
#include "messages/errc.hpp"
#include "messages/wire/torch_tensor.hpp"

namespace colony::throughput {
namespace {

using steady = std::chrono::steady_clock;

struct counters {
  std::atomic<uint64_t> rows{0}, requests{0}, failed{0};
};

/// One layer call of one stream (blocking), adding to the counters.
using step_fn = std::function<void(counters&)>;

std::shared_ptr<node_connections> faulty_connections(caf::actor_system& sys, double delay_ms,
                                                     uint64_t seed) {
  auto conns = std::make_shared<node_connections>(sys);
  fault_config f;
  if (delay_ms > 0) {
    f.delay = fault_config::delay_kind::exponential;
    f.delay_ms = delay_ms;
  }
  f.seed = seed;
  conns->set_faults(std::make_shared<fault_injection>(f));
  return conns;
}

double window_of(const chain_config& c, double delay_ms) {
  return delay_ms >= 1000 ? c.long_window_s : c.window_s;
}

/// Runs every stream on its own thread; counts the window after warm-up;
/// then stops them (each ends its call in flight, bounded by its timeout).
point_result measure(std::vector<step_fn> streams, uint32_t layers, double warmup_s,
                     double window_s) {
  counters cnt;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (auto& s : streams)
    threads.emplace_back([&cnt, &stop, fn = std::move(s)] {
      while (!stop.load())
        fn(cnt);
    });
  auto secs = [](double s) { return std::chrono::duration<double>(s); };
  std::this_thread::sleep_for(secs(warmup_s));
  auto t0 = steady::now();
  uint64_t r0 = cnt.rows, q0 = cnt.requests, f0 = cnt.failed;
  std::this_thread::sleep_for(secs(window_s));
  auto t1 = steady::now();
  uint64_t r1 = cnt.rows, q1 = cnt.requests, f1 = cnt.failed;
  stop = true;
  for (auto& t : threads)
    t.join();
  point_result p;
  p.window_s = std::chrono::duration<double>(t1 - t0).count();
  p.samples_per_s = static_cast<double>(r1 - r0) / layers / p.window_s;
  p.requests = q1 - q0;
  p.failed = f1 - f0;
  return p;
}

torch::Tensor input_of(const chain_config& c, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  std::vector<int64_t> shape{c.batch};
  if (c.seq)
    shape.push_back(c.seq);
  shape.push_back(c.dim);
  return torch::randn(shape, gen);
}

/// One DMoE trainer: its own gating networks over the shared gates.
step_fn dmoe_stream(caf::actor_system& sys, const chain_config& c,
                    const std::vector<gate::gate_actor>& gates,
                    const std::vector<gate::gate_config>& cfgs, uint64_t seed) {
  struct state {
    std::vector<gate::dmoe_layer> layers;
    torch::Tensor x0, x;
    size_t at = 0;
  };
  auto st = std::make_shared<state>();
  for (size_t l = 0; l < gates.size(); ++l)
    st->layers.emplace_back(sys, cfgs[l], gates[l], seed * 1000 + l);
  st->x0 = st->x = input_of(c, seed);
  auto rows = static_cast<uint64_t>(c.batch);
  return [st, rows](counters& cnt) {
    torch::NoGradGuard no_grad;
    auto& layer = st->layers[st->at];
    try {
      st->x = layer->forward(st->x);
      cnt.rows += rows;
    } catch (const std::exception&) {
      // The gate's error (e.g. every expert of a sample timed out): the
      // layer is retried with the same input.
    }
    auto s = layer->take_stats();
    cnt.requests += s.asked;
    cnt.failed += s.asked - s.answered;
    if (++st->at == st->layers.size()) {
      st->at = 0;
      st->x = st->x0;
    }
  };
}

} // namespace

point_result forward_dmoe(caf::actor_system& sys, const expert_swarm& swarm,
                          const chain_config& c, double delay_ms, uint64_t seed) {
  auto conns = faulty_connections(sys, delay_ms, seed);
  std::vector<gate::gate_actor> gates;
  std::vector<gate::gate_config> cfgs;
  for (uint32_t l = 0; l < c.layers; ++l) {
    gate::gate_config g;
    g.grid = {c.prefix + std::to_string(l), {c.rows, c.cols}};
    g.input_dim = c.dim;
    g.k_best = c.k_best;
    g.k_min = 1;
    g.timeout_after_k_min_s = 1;
    g.forward_timeout_s = std::max(30.0, 30 * delay_ms / 1000);
    g.backward_timeout_s = g.forward_timeout_s;
    g.cache.expiry_s = 600;
    if (auto err = gate::validate(g))
      bench::die("gate config: " + describe(err));
    gates.push_back(gate::spawn_gate(sys, g, swarm.peer(), conns));
    cfgs.push_back(g);
  }
  std::vector<step_fn> streams;
  for (uint32_t t = 0; t < c.trainers; ++t)
    streams.push_back(dmoe_stream(sys, c, gates, cfgs, seed + 1 + t));
  auto warmup = std::max(c.warmup_s, 2 * delay_ms / 1000);
  auto p = measure(std::move(streams), c.layers, warmup, window_of(c, delay_ms));
  for (auto& g : gates)
    caf::anon_send_exit(g, caf::exit_reason::user_shutdown);
  return p;
}

point_result forward_model_parallel(caf::actor_system& sys, const expert_swarm& swarm,
                                    const chain_config& c, double delay_ms, uint64_t seed) {
  auto conns = faulty_connections(sys, delay_ms, seed);
  struct state {
    std::vector<std::vector<remote_expert>> layers; ///< k fixed experts per layer
    torch::Tensor x0, x;
    size_t at = 0;
  };
  auto st = std::make_shared<state>();
  for (uint32_t l = 0; l < c.layers; ++l) {
    std::vector<remote_expert> fixed;
    for (uint32_t r = 0; r < c.k_best; ++r)
      fixed.emplace_back(*conns, swarm.node_of(r), c.uid(l, r, 0), std::chrono::seconds{120});
    st->layers.push_back(std::move(fixed));
  }
  st->x0 = st->x = input_of(c, seed);
  auto rows = static_cast<uint64_t>(c.batch);
  step_fn stream = [st, rows](counters& cnt) {
    auto blob = wire::encode_tensor(st->x);
    if (!blob)
      bench::die("encode: " + describe(blob.error()));
    torch::Tensor sum;
    bool ok = true;
    for (auto& e : st->layers[st->at]) { // in sequence, each call awaited
      cnt.requests += 1;
      auto out = e.forward({tensor_blob{*blob}});
      auto y = out ? wire::decode_tensor(std::move((*out)[0].bytes))
                   : caf::expected<torch::Tensor>{out.error()};
      if (!y) {
        cnt.failed += 1;
        ok = false;
        continue;
      }
      sum = sum.defined() ? sum + *y : *y;
    }
    if (ok) {
      st->x = sum / static_cast<double>(st->layers[st->at].size());
      cnt.rows += rows;
      if (++st->at == st->layers.size()) {
        st->at = 0;
        st->x = st->x0;
      }
    }
  };
  auto warmup = std::max(c.warmup_s, 2 * delay_ms / 1000);
  return measure({stream}, c.layers, warmup, window_of(c, delay_ms));
}

} // namespace colony::throughput
