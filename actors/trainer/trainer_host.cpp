#include "actors/trainer/trainer_host.hpp"

#include <algorithm>
#include <cstdio>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include <caf/all.hpp>
#include <torch/torch.h>

#include "actors/trainer/mnist_json.hpp"
#include "messages/errc.hpp"
#include "runtime/logging.hpp"
#include "runtime/quantile.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace colony::trainer {

namespace {

caf::expected<std::pair<labeled_data, labeled_data>> load_data(const data_config& d) {
  if (d.kind == "synthetic") {
    auto train = make_synthetic(d.train_size, d.features, d.classes, d.seed, d.seed + 1);
    auto test = make_synthetic(d.test_size, d.features, d.classes, d.seed, d.seed + 2);
    return std::make_pair(std::move(train), std::move(test));
  }
  if (d.kind == "mnist") {
    auto sets = load_mnist_json(d.dir);
    if (!sets)
      return sets.error();
    return std::make_pair(std::move(sets->train), std::move(sets->test));
  }
  auto train = load_fashion_mnist(d.dir, true);
  if (!train)
    return train.error();
  auto test = load_fashion_mnist(d.dir, false);
  if (!test)
    return test.error();
  return std::make_pair(std::move(*train), std::move(*test));
}

/// The gate of a dmoe layer for evaluation: waits for every chosen expert.
gate::gate_config eval_gate_config(gate::gate_config g, double timeout_s) {
  g.k_min = g.k_best;
  g.timeout_after_k_min_s = std::min(g.timeout_after_k_min_s, 0.05);
  g.forward_timeout_s = std::max(g.forward_timeout_s, timeout_s);
  return g;
}

/// A supervised gate: the slot the layers hold and its child spec.
supervision::child_spec gate_child(caf::actor_system& sys, std::string id,
                                   const gate::gate_config& cfg, const dht::peer_actor& peer,
                                   const std::shared_ptr<node_connections>& conns,
                                   gate::gate_ref& slot_out) {
  auto slot = std::make_shared<gate::gate_slot>(gate::spawn_gate(sys, cfg, peer, conns));
  slot_out = slot;
  supervision::child_spec spec;
  spec.id = std::move(id);
  spec.start = [slot, cfg, peer, conns](caf::actor_system& sys,
                                        const supervision::start_context& sc)
    -> caf::expected<supervision::started> {
    if (sc.restarts > 0)
      slot->set(gate::spawn_gate(sys, cfg, peer, conns));
    return supervision::started{caf::actor_cast<caf::actor>(slot->get()), {}};
  };
  return spec;
}

double test_accuracy(model& net, shared_model& owner, const labeled_data& test,
                     const trainer_config& cfg, uint64_t& version, uint64_t& seen) {
  torch::NoGradGuard no_grad;
  version = owner.bind(*net);
  net->eval();
  auto n = test.size();
  if (cfg.eval_samples > 0)
    n = std::min<int64_t>(n, static_cast<int64_t>(cfg.eval_samples));
  int64_t correct = 0;
  seen = 0;
  for (int64_t i = 0; i < n; i += cfg.eval_batch) {
    auto len = std::min<int64_t>(cfg.eval_batch, n - i);
    auto logits = net->forward(test.x.narrow(0, i, len));
    correct += logits.argmax(1).eq(test.y.narrow(0, i, len)).sum().item<int64_t>();
    seen += static_cast<uint64_t>(len);
  }
  net->take_stats();
  return seen ? static_cast<double>(correct) / static_cast<double>(seen) : -1;
}

} // namespace

struct trainer_host::shared {
  trainer_config cfg;
  std::pair<labeled_data, labeled_data> data;
  model_deps deps;
  std::shared_ptr<worker_pool> pool;
  std::shared_ptr<shared_model> owner;
  std::vector<std::shared_ptr<std::atomic<uint64_t>>> steps_done;
  std::mutex mx;
  std::vector<trainer_actor> trainers;  ///< current actors
  caf::actor runner;                    ///< run()'s actor while it waits
  // The evaluator: its own thread and replica, off the training path.
  worker_pool evaluator{1, [] { torch::set_num_threads(1); }};
  model eval_net{nullptr};
  std::atomic<bool> eval_busy{false};
  std::atomic<uint64_t> next_eval{0};
  std::unique_ptr<model_averaging> averaging;
};

namespace {

/// Builds trainer `i`'s chains and spawns it.
caf::expected<trainer_actor> build_trainer(caf::actor_system& sys,
                                           const std::shared_ptr<trainer_host::shared>& sh,
                                           uint32_t i) {
  auto& c = sh->cfg;
  trainer_setup s;
  s.index = i;
  s.cfg = c;
  s.train = c.data.shard ? shard(sh->data.first, i, c.count) : sh->data.first;
  s.owner = sh->owner;
  s.make_replica = [sh] { return model(sh->cfg.model, sh->deps, sh->cfg.seed); };
  s.pool = sh->pool;
  s.steps_done = sh->steps_done[i];
  try {
    return spawn_trainer(sys, std::move(s));
  } catch (const std::exception& e) {
    return make_error(errc::bad_config, "trainer " + std::to_string(i) + ": " + e.what());
  }
}

model_options owner_options(const trainer_config& c) {
  model_options o;
  o.optimizer = c.optimizer;
  o.lr = c.lr;
  o.lr_warmup = c.lr_warmup;
  o.lr_total = c.lr_total_versions();
  o.weight_decay = c.weight_decay;
  o.clip_grad_norm = c.clip_grad_norm;
  o.accumulate = c.accumulate;
  o.max_staleness = c.max_staleness;
  o.drop_stale = c.on_stale == "drop";
  o.staleness_scale = c.staleness_scale;
  o.log_every = c.log_every;
  if (!c.checkpoint_dir.empty())
    o.checkpoint_path = c.checkpoint_dir + "/model.pt";
  o.checkpoint_every = c.checkpoint_every;
  return o;
}

} // namespace


caf::expected<std::unique_ptr<trainer_host>>
trainer_host::make(caf::actor_system& sys, trainer_config cfg,
                   std::optional<dht::peer_actor> dht, const liveness_config& liveness,
                   const fault_config& node_faults) {
  if (!node_faults.is_noop() && !cfg.faults.is_noop())
    return make_error(errc::bad_config, "faults and trainers.faults: both set delays or "
                                        "failures of expert calls; keep only one");
  if (!node_faults.is_noop())
    cfg.faults = node_faults;
  auto data = load_data(cfg.data);
  if (!data)
    return data.error();
  std::unique_ptr<trainer_host> host{new trainer_host(sys, std::move(cfg))};
  auto& c = host->cfg_;
  host->conns_ = std::make_shared<node_connections>(sys);
  host->conns_->enable_liveness(liveness);
  if (!c.faults.is_noop())
    host->conns_->set_faults(std::make_shared<fault_injection>(c.faults));
  // Evaluation's calls never see the training path's injected faults.
  auto eval_conns = std::make_shared<node_connections>(sys);
  eval_conns->enable_liveness(liveness);
  auto sh = std::make_shared<trainer_host::shared>();
  std::vector<supervision::child_spec> children;
  for (auto& l : c.model) {
    if (l.type != "dmoe")
      continue;
    if (!dht)
      return make_error(errc::bad_config, "trainers.model: dmoe layers need a dht: section "
                                          "(the gate finds experts through the DHT)");
    auto i = std::to_string(host->gates_.size());
    children.push_back(gate_child(sys, "gate." + i, l.gate, *dht, host->conns_,
                                  host->gates_.emplace_back()));
    children.push_back(gate_child(sys, "eval_gate." + i, eval_gate_config(l.gate, c.eval_timeout),
                                  *dht, eval_conns, host->eval_gates_.emplace_back()));
  }
  auto stop_gates = [&] {
    for (auto& g : host->gates_)
      caf::anon_send_exit(g->get(), caf::exit_reason::user_shutdown);
    for (auto& g : host->eval_gates_)
      caf::anon_send_exit(g->get(), caf::exit_reason::user_shutdown);
  };
  // One thread per chain: a chain that waits for experts blocks only it.
  host->pool_ = std::make_shared<worker_pool>(c.pool_threads(), [] { torch::set_num_threads(1); });
  sh->cfg = c;
  sh->data = std::move(*data);
  sh->deps = model_deps{&sys, host->gates_, host->conns_};
  sh->pool = host->pool_;
  try {
    sh->owner = std::make_shared<shared_model>(model(c.model, sh->deps, c.seed).ptr(),
                                               owner_options(c));
    if (sh->owner->load())
      log::get("trainer")->info("event=model_restored version={} path={}",
                                sh->owner->version(), sh->owner->options().checkpoint_path);
    sh->eval_net = model(c.model, model_deps{&sys, host->eval_gates_, eval_conns}, c.seed);
  } catch (const std::exception& e) {
    stop_gates();
    return make_error(errc::bad_config, std::string{"trainers.model: "} + e.what());
  }
  if (c.averaging) {
    if (!dht) {
      stop_gates();
      return make_error(errc::bad_config, "trainers.averaging: needs a dht: section (peers of "
                                          "the run find each other through the DHT)");
    }
    auto avg = model_averaging::start(sys, *c.averaging, *dht, sh->owner, c.averaging_host);
    if (!avg) {
      stop_gates();
      return avg.error();
    }
    sh->averaging = std::move(*avg);
    // A node without a checkpoint of its own starts from the run's state.
    if (sh->owner->version() == 0) {
      auto joined = sh->averaging->join();
      if (!joined)
        log::get("trainer")->warn("event=model_download_failed error=\"{}\"",
                                  describe(joined.error()));
    }
  }
  sh->next_eval = c.eval_every ? sh->owner->version() + c.eval_every : UINT64_MAX;
  for (uint32_t i = 0; i < c.count; ++i)
    sh->steps_done.push_back(std::make_shared<std::atomic<uint64_t>>(0));
  for (uint32_t i = 0; i < c.count; ++i) {
    auto t = build_trainer(sys, sh, i);
    if (!t) {
      stop_gates();
      for (auto& x : sh->trainers)
        caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
      return t.error();
    }
    sh->trainers.push_back(*t);
    supervision::child_spec spec;
    spec.id = "trainer." + std::to_string(i);
    spec.restart = supervision::restart_policy::transient;
    spec.start = [sh, i](caf::actor_system& sys, const supervision::start_context& sc)
      -> caf::expected<supervision::started> {
      if (sc.restarts == 0) {
        std::lock_guard<std::mutex> guard{sh->mx};
        return supervision::started{caf::actor_cast<caf::actor>(sh->trainers[i]), {}};
      }
      auto t = build_trainer(sys, sh, i);
      if (!t)
        return t.error();
      std::lock_guard<std::mutex> guard{sh->mx};
      sh->trainers[i] = *t;
      if (sh->runner) // run() waits: the new trainer answers it
        caf::send_as(sh->runner, *t, run_atom::value);
      return supervision::started{caf::actor_cast<caf::actor>(*t),
                                  {{"model_version", std::to_string(sh->owner->version())}}};
    };
    children.push_back(std::move(spec));
  }
  host->shared_ = sh;
  supervision::supervisor_config sc;
  sc.id = "trainers";
  host->sup_ = supervision::spawn_supervisor(sys, sc, std::move(children));
  log::get("trainer")->info("event=started trainers={} in_flight={} chains={} dmoe_layers={} "
                            "threads={} model_version={}",
                            c.count, c.in_flight, c.count * c.in_flight, host->gates_.size(),
                            host->pool_->size(), sh->owner->version());
  return host;
}

trainer_host::~trainer_host() {
  if (sup_) {
    // Stop the tree (trainers, then gates) and wait, bounded.
    caf::scoped_actor self{sys_};
    self->monitor(sup_);
    self->send_exit(sup_, caf::exit_reason::user_shutdown);
    self->receive([](caf::down_msg&) {}, caf::after(std::chrono::seconds{30}) >> [] {});
  }
  if (pool_)
    pool_->stop();
  if (shared_) {
    shared_->evaluator.stop();
    shared_->averaging.reset();
  }
}

trainer_actor trainer_host::trainer(size_t i) const {
  std::lock_guard<std::mutex> guard{shared_->mx};
  return shared_->trainers.at(i);
}

shared_model& trainer_host::owner() const {
  return *shared_->owner;
}

model_averaging* trainer_host::averaging() const {
  return shared_->averaging.get();
}

namespace {

/// Evaluates on the evaluator thread; the result when it is done.
std::future<std::pair<caf::expected<double>, uint64_t>>
post_evaluation(const std::shared_ptr<trainer_host::shared>& sh) {
  auto done = std::make_shared<std::promise<std::pair<caf::expected<double>, uint64_t>>>();
  auto result = done->get_future();
  sh->evaluator.post([sh, done] {
    uint64_t version = 0, seen = 0, trained = sh->owner->samples();
    caf::expected<double> acc{0.0};
    try {
      acc = test_accuracy(sh->eval_net, *sh->owner, sh->data.second, sh->cfg, version, seen);
      log::get("trainer")->info("model version={} samples={} test_accuracy={:.4f} "
                                "test_samples={}",
                                version, trained, *acc, seen);
    } catch (const std::exception& e) {
      acc = make_error(errc::compute_failed, std::string{"evaluation: "} + e.what());
      log::get("trainer")->warn("model version={} event=evaluation_failed error=\"{}\"",
                                version, e.what());
    }
    sh->eval_busy = false;
    done->set_value({std::move(acc), version});
  });
  return result;
}

/// Starts a periodic evaluation when the model reached the next one (and
/// none runs): it never holds up training.
void maybe_evaluate(const std::shared_ptr<trainer_host::shared>& sh) {
  auto v = sh->owner->version();
  if (v < sh->next_eval || sh->eval_busy.exchange(true))
    return;
  sh->next_eval = v + sh->cfg.eval_every;
  post_evaluation(sh);
}

} // namespace

caf::expected<double> trainer_host::evaluate() {
  while (shared_->eval_busy.exchange(true)) // bounded: an evaluation ends by its timeouts
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  auto f = post_evaluation(shared_);
  return f.get().first;
}

std::vector<trainer_summary> trainer_host::run(const std::function<bool()>& stop_requested) {
  caf::scoped_actor self{sys_};
  auto n = cfg_.count;
  std::vector<trainer_summary> result(n);
  std::vector<bool> got(n, false);
  self->monitor(sup_);
  {
    std::lock_guard<std::mutex> guard{shared_->mx};
    shared_->runner = caf::actor_cast<caf::actor>(self.ptr());
    // A plain send: the trainer's reply comes back as an ordinary message.
    for (auto& t : shared_->trainers)
      self->send(t, run_atom::value);
  }
  size_t done = 0;
  bool stop_sent = false;
  bool tree_gone = false;
  // Each pass waits at most 100 ms; trainers end by their step count.
  while (done < n && !tree_gone) {
    self->receive(
      [&](trainer_summary& s) {
        if (s.index < n && !got[s.index]) {
          got[s.index] = true;
          result[s.index] = s;
          ++done;
        }
      },
      [&](caf::down_msg& dm) {
        log::get("trainer")->error("event=trainers_gave_up reason=\"{}\" finished={} of {}",
                                   describe(dm.reason), done, n);
        tree_gone = true;
      },
      caf::after(std::chrono::milliseconds{100}) >> [] {});
    maybe_evaluate(shared_);
    if (shared_->averaging)
      shared_->averaging->maybe_average();
    if (!stop_sent && stop_requested && stop_requested()) {
      stop_sent = true;
      std::lock_guard<std::mutex> guard{shared_->mx};
      for (auto& t : shared_->trainers)
        self->send(t, stop_atom::value);
    }
  }
  {
    std::lock_guard<std::mutex> guard{shared_->mx};
    shared_->runner = nullptr;
  }
  finish_model();
  return result;
}

void trainer_host::finish_model() {
  auto& m = model_result_;
  // save() runs after the gradients still queued at the owner: the stats
  // taken next cover every gradient.
  try {
    shared_->owner->save();
  } catch (const std::exception& e) {
    log::get("trainer")->error("event=checkpoint_failed error=\"{}\"", e.what());
  }
  auto st = shared_->owner->take_stats();
  m.applied = st.applied;
  m.dropped = st.dropped;
  m.scaled = st.scaled;
  m.staleness_p50 = quantile(st.staleness, 0.5);
  m.staleness_p95 = quantile(st.staleness, 0.95);
  m.staleness_max = quantile(st.staleness, 1.0);
  m.chains = cfg_.count * cfg_.in_flight;
  if (shared_->averaging)
    m.averaging = shared_->averaging->stats();
  auto acc = evaluate();
  m.version = shared_->owner->version();
  m.test_samples = static_cast<uint64_t>(shared_->data.second.size());
  if (cfg_.eval_samples > 0)
    m.test_samples = std::min<uint64_t>(m.test_samples, cfg_.eval_samples);
  if (acc)
    m.test_accuracy = *acc;
  else
    m.error = describe(acc.error());
}

std::string summarize(const std::vector<trainer_summary>& xs, const model_summary& m) {
  uint64_t failed = 0, steps = 0, samples = 0;
  for (auto& s : xs) {
    failed += s.failed_steps;
    steps += s.steps;
    samples += s.samples;
  }
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "trainers=%zu chains=%u steps=%llu failed_steps=%llu samples=%llu "
                "model_version=%llu staleness_p50=%u staleness_p95=%u stale_dropped=%llu "
                "test_samples=%llu model_test_accuracy=%.4f",
                xs.size(), m.chains, static_cast<unsigned long long>(steps),
                static_cast<unsigned long long>(failed),
                static_cast<unsigned long long>(samples),
                static_cast<unsigned long long>(m.version), m.staleness_p50, m.staleness_p95,
                static_cast<unsigned long long>(m.dropped),
                static_cast<unsigned long long>(m.test_samples), m.test_accuracy);
  std::string out = buf;
  if (m.averaging.rounds > 0 || m.averaging.failed > 0)
    out += " averaging_rounds=" + std::to_string(m.averaging.rounds)
           + " averaging_failed=" + std::to_string(m.averaging.failed);
  return out;
}

} // namespace colony::trainer
