// The DMoE language model's run in experiment 3 (see lm_dmoe.hpp).
//
// Trainer-side parameters (embeddings, gating networks, final LayerNorm,
// head) live in one master copy with one Adam: each trainer thread runs
// its step on its own replica, then, under a lock, hands its gradients to
// the master and takes the current values back; the master steps on the
// mean of every `accumulate` trainer steps' gradients (the baselines'
// batch), which keeps 100+ concurrent batch-4 steps from thrashing Adam. The experts'
// parameters live only on the expert nodes and are updated there by their
// own Adam on every backward request (asynchronously, as in the paper).
#include "bench/experiments/lm/lm_dmoe.hpp"

#include <atomic>
#include <thread>

#include <caf/all.hpp>
#include <torch/torch.h>

#include "actors/gate/dmoe_layer.hpp"
#include "bench/experiments/lm/lm_model.hpp"
#include "bench/experiments/lm/lm_swarm.hpp"
#include "runtime/system_config.hpp"

namespace colony::lm {

namespace {

using clock_type = std::chrono::steady_clock;

double since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

gate::gate_config train_gate(const run_options& o, const lm_shape& s, int l) {
  gate::gate_config g;
  g.grid.prefix = lm_swarm::prefix(l);
  g.grid.dims = {o.rows, o.cols};
  g.input_dim = static_cast<uint32_t>(s.d_model);
  g.k_best = o.k_best;
  g.k_min = std::min(o.k_min, o.k_best);
  g.timeout_after_k_min_s = o.after_k_min_s;
  g.forward_timeout_s = 6;
  g.backward_k_min = 1;
  g.backward_timeout_s = 6;
  g.cache.expiry_s = 30;
  return g;
}

/// Validation: wait for every chosen expert (no faults on these calls).
gate::gate_config eval_gate(const run_options& o, const lm_shape& s, int l) {
  auto g = train_gate(o, s, l);
  g.k_min = g.k_best;
  g.timeout_after_k_min_s = 0.05;
  g.forward_timeout_s = 30;
  return g;
}

/// A model over `gates`; its dmoe layers are appended to `layers`.
lm_net make_net(caf::actor_system& sys, const run_options& o, const lm_shape& s,
                const std::vector<gate::gate_actor>& gates, bool eval,
                std::vector<gate::dmoe_layer>& layers) {
  std::vector<lm_block> blocks;
  for (int l = 0; l < static_cast<int>(s.layers); ++l) {
    auto cfg = eval ? eval_gate(o, s, l) : train_gate(o, s, l);
    gate::dmoe_layer layer{sys, cfg, gates[static_cast<size_t>(l)], o.seed * 100 + l};
    layers.push_back(layer);
    // A sample that no expert answered gets zeros from the layer: it keeps
    // its input instead (the experts are residual blocks).
    blocks.push_back({layer.ptr(), [layer](const torch::Tensor& x) mutable {
                        auto y = layer->forward(x);
                        auto none = (y.abs().sum({1, 2}) == 0).view({-1, 1, 1});
                        return torch::where(none, x, y);
                      }});
  }
  return lm_net(s, std::move(blocks), o.seed);
}

struct shared_state {
  std::mutex mx;
  lm_net master{nullptr};
  std::unique_ptr<torch::optim::Adam> opt;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> steps{0}, windows{0}, failed{0};
  std::string first_error;
  int accumulate = 1; ///< trainer steps per master step (their mean gradient)
  int pending = 0;    ///< trainer steps summed into the master's gradients
};

void trainer_loop(shared_state& sh, lm_net replica, const run_options& o, const corpus& c,
                  int index) {
  std::mt19937_64 rng{o.seed * 7919 + static_cast<uint64_t>(index)};
  while (!sh.stop.load()) {
    auto b = sample_batch(c.train, o.context, o.batch, rng);
    try {
      auto loss = torch::nn::functional::cross_entropy(replica->forward(b.inputs), b.targets);
      loss.backward();
    } catch (const std::exception& e) {
      ++sh.failed;
      replica->zero_grad();
      std::lock_guard<std::mutex> guard{sh.mx};
      if (sh.first_error.empty())
        sh.first_error = e.what();
      continue;
    }
    {
      std::lock_guard<std::mutex> guard{sh.mx};
      add_gradients(*replica, *sh.master);
      if (++sh.pending >= sh.accumulate) {
        auto params = sh.master->parameters();
        for (auto& p : params)
          p.mutable_grad().div_(static_cast<double>(sh.pending));
        torch::nn::utils::clip_grad_norm_(params, 1.0);
        sh.opt->step();
        sh.opt->zero_grad();
        sh.pending = 0;
      }
      copy_parameters(*sh.master, *replica);
    }
    replica->zero_grad();
    ++sh.steps;
    sh.windows += static_cast<uint64_t>(o.batch);
  }
}

} // namespace

run_summary run_dmoe(const run_options& o, const corpus& c, recorder& rec) {
  torch::set_num_threads(1);
  auto s = shape_for("dmoe", static_cast<int64_t>(c.vocab.size()), o.context, o.layers);
  system_options so;
  so.scheduler_threads = 2;
  system_config sys_cfg{so};
  caf::actor_system sys{sys_cfg};
  swarm_options sw;
  sw.work_dir = o.work_dir;
  sw.expert = s;
  sw.layers = static_cast<int>(o.layers);
  sw.rows = o.rows;
  sw.cols = o.cols;
  sw.expert_lr = o.expert_lr;
  sw.accumulate_rows = o.expert_accumulate;
  auto t_start = clock_type::now();
  lm_swarm swarm{sys, sw};
  std::printf("lm: model=dmoe swarm up: %zu experts on 2 colony-node processes in %.1f s\n",
              swarm.expert_count(), since(t_start));
  std::fflush(stdout);
  auto train_conns = std::make_shared<node_connections>(sys);
  auto eval_conns = std::make_shared<node_connections>(sys);
  fault_config faults;
  faults.delay = o.delay_ms > 0 ? fault_config::delay_kind::exponential
                                : fault_config::delay_kind::none;
  faults.delay_ms = o.delay_ms;
  faults.drop_probability = o.fail;
  faults.seed = o.seed;
  if (!faults.is_noop())
    train_conns->set_faults(std::make_shared<fault_injection>(faults));
  std::vector<gate::gate_actor> train_gates, eval_gates;
  for (int l = 0; l < static_cast<int>(o.layers); ++l) {
    train_gates.push_back(gate::spawn_gate(sys, train_gate(o, s, l), swarm.peer(), train_conns));
    eval_gates.push_back(gate::spawn_gate(sys, eval_gate(o, s, l), swarm.peer(), eval_conns));
  }
  shared_state sh;
  sh.accumulate = o.accumulate;
  std::vector<gate::dmoe_layer> master_layers, eval_layers, train_layers;
  sh.master = make_net(sys, o, s, eval_gates, true, master_layers);
  sh.opt = std::make_unique<torch::optim::Adam>(sh.master->parameters(),
                                                torch::optim::AdamOptions(o.lr));
  auto eval_net = make_net(sys, o, s, eval_gates, true, eval_layers);
  std::vector<lm_net> replicas;
  for (int i = 0; i < o.trainers; ++i) {
    replicas.push_back(make_net(sys, o, s, train_gates, false, train_layers));
    copy_parameters(*sh.master, *replicas.back());
  }
  auto val = fixed_windows(c.valid, o.context, o.eval_windows);
  // The experts are declared by their nodes after start: wait (bounded)
  // until a validation pass gets its answers.
  double ce0 = 0;
  for (int tries = 0;; ++tries) {
    try {
      copy_parameters(*sh.master, *eval_net);
      ce0 = mean_cross_entropy(eval_net, val, 256);
      break;
    } catch (const std::exception& e) {
      if (tries >= 60)
        bench::die(std::string{"the experts never answered: "} + e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds{500});
    }
  }
  auto t0 = clock_type::now();
  rec.point(0, 0, 0, ce0);
  std::vector<std::thread> threads;
  for (int i = 0; i < o.trainers; ++i)
    threads.emplace_back(trainer_loop, std::ref(sh), replicas[static_cast<size_t>(i)],
                         std::cref(o), std::cref(c), i);
  auto evaluate = [&] {
    uint64_t steps = 0, windows = 0;
    double at = 0;
    {
      std::lock_guard<std::mutex> guard{sh.mx};
      copy_parameters(*sh.master, *eval_net);
      steps = sh.steps.load();
      windows = sh.windows.load();
      at = since(t0);
    }
    try {
      rec.point(steps, windows, at, mean_cross_entropy(eval_net, val, 256));
    } catch (const std::exception& e) {
      std::printf("lm: model=dmoe validation failed: %s\n", e.what());
    }
  };
  double next_eval = o.eval_every_s;
  while (since(t0) < o.seconds) {
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    if (since(t0) >= next_eval && since(t0) < o.seconds) {
      evaluate();
      std::printf("lm: model=dmoe trainers=%d steps=%llu failed_steps=%llu\n", o.trainers,
                  static_cast<unsigned long long>(sh.steps.load()),
                  static_cast<unsigned long long>(sh.failed.load()));
      std::fflush(stdout);
      next_eval += o.eval_every_s;
    }
  }
  sh.stop = true;
  for (auto& t : threads)
    t.join();
  double train_s = since(t0);
  evaluate();
  gate::dmoe_stats st;
  for (auto& l : train_layers)
    st.merge(l->take_stats());
  run_summary r;
  auto local = count_parameters(*sh.master);
  auto experts = static_cast<int64_t>(swarm.expert_count()) * block_params(s);
  r["params_local"] = std::to_string(local);
  r["params_experts"] = std::to_string(experts);
  r["params_total"] = std::to_string(local + experts);
  r["params_active"] = std::to_string(local + s.layers * o.k_best * block_params(s));
  r["flops_per_window"] = fmt(s.layers * o.k_best * block_flops(s) + head_flops(s), 0);
  r["steps"] = std::to_string(sh.steps.load());
  r["windows"] = std::to_string(sh.windows.load());
  r["failed_steps"] = std::to_string(sh.failed.load());
  r["train_s"] = fmt(train_s, 1);
  r["s_per_step"] = fmt(sh.steps ? train_s * o.trainers / sh.steps.load() : 0, 3);
  r["expert_requests"] = std::to_string(st.asked + st.backward_asked);
  r["expert_answers"] = std::to_string(st.answered + st.backward_answered);
  r["expert_timeouts"] = std::to_string(st.timeouts);
  r["short_samples"] = std::to_string(st.short_samples);
  r["accumulate"] = std::to_string(o.accumulate);
  r["expert_accumulate"] = std::to_string(o.expert_accumulate);
  r["first_error"] = sh.first_error.empty() ? "none" : sh.first_error.substr(0, 200);
  std::printf("lm: model=dmoe done steps=%s failed_steps=%s requests=%s answers=%s\n",
              r["steps"].c_str(), r["failed_steps"].c_str(), r["expert_requests"].c_str(),
              r["expert_answers"].c_str());
  for (auto& g : train_gates)
    caf::anon_send_exit(g, caf::exit_reason::user_shutdown);
  for (auto& g : eval_gates)
    caf::anon_send_exit(g, caf::exit_reason::user_shutdown);
  return r;
}

} // namespace colony::lm
