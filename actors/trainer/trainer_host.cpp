#include "actors/trainer/trainer_host.hpp"

#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include <caf/all.hpp>
#include <torch/torch.h>

#include "actors/trainer/mnist_json.hpp"
#include "messages/errc.hpp"
#include "runtime/logging.hpp"
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

/// Builds trainer `i`'s model and spawns it.
caf::expected<trainer_actor> build_trainer(caf::actor_system& sys, const trainer_config& c,
                                           const std::pair<labeled_data, labeled_data>& data,
                                           const model_deps& deps,
                                           const std::shared_ptr<worker_pool>& pool, uint32_t i) {
  trainer_setup s;
  s.index = i;
  s.cfg = c;
  s.train = c.data.shard ? shard(data.first, i, c.count) : data.first;
  s.test = data.second;
  s.pool = pool;
  try {
    s.net = model(c.model, deps, c.seed + i);
    return spawn_trainer(sys, std::move(s));
  } catch (const std::exception& e) {
    return make_error(errc::bad_config, "trainer " + std::to_string(i) + ": " + e.what());
  }
}

} // namespace

struct trainer_host::shared {
  trainer_config cfg;
  std::pair<labeled_data, labeled_data> data;
  model_deps deps;
  std::shared_ptr<worker_pool> pool;
  std::mutex mx;
  std::vector<trainer_actor> trainers;  ///< current actors
  caf::actor runner;                    ///< run()'s actor while it waits
};

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
  auto sh = std::make_shared<trainer_host::shared>();
  std::vector<supervision::child_spec> children;
  for (auto& l : c.model) {
    if (l.type != "dmoe")
      continue;
    if (!dht)
      return make_error(errc::bad_config, "trainers.model: dmoe layers need a dht: section "
                                          "(the gate finds experts through the DHT)");
    auto slot = std::make_shared<gate::gate_slot>(gate::spawn_gate(sys, l.gate, *dht, host->conns_));
    host->gates_.push_back(slot);
    supervision::child_spec spec;
    spec.id = "gate." + std::to_string(host->gates_.size() - 1);
    auto conns = host->conns_;
    spec.start = [slot, gcfg = l.gate, peer = *dht, conns](
                   caf::actor_system& sys, const supervision::start_context& sc)
      -> caf::expected<supervision::started> {
      if (sc.restarts > 0)
        slot->set(gate::spawn_gate(sys, gcfg, peer, conns));
      return supervision::started{caf::actor_cast<caf::actor>(slot->get()), {}};
    };
    children.push_back(std::move(spec));
  }
  // One thread per trainer: a step that waits for experts blocks only it.
  host->pool_ = std::make_shared<worker_pool>(c.pool_threads(), [] { torch::set_num_threads(1); });
  sh->cfg = c;
  sh->data = std::move(*data);
  sh->deps = model_deps{&sys, host->gates_, host->conns_};
  sh->pool = host->pool_;
  for (uint32_t i = 0; i < c.count; ++i) {
    auto t = build_trainer(sys, c, sh->data, sh->deps, sh->pool, i);
    if (!t) {
      for (auto& g : host->gates_)
        caf::anon_send_exit(g->get(), caf::exit_reason::user_shutdown);
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
      auto t = build_trainer(sys, sh->cfg, sh->data, sh->deps, sh->pool, i);
      if (!t)
        return t.error();
      std::lock_guard<std::mutex> guard{sh->mx};
      sh->trainers[i] = *t;
      if (sh->runner) // run() waits: the new trainer answers it
        caf::send_as(sh->runner, *t, run_atom::value);
      return supervision::started{caf::actor_cast<caf::actor>(*t),
                                  {{"checkpoint", sh->cfg.checkpoint_dir.empty() ? "none"
                                                                                 : sh->cfg.checkpoint_dir}}};
    };
    children.push_back(std::move(spec));
  }
  host->shared_ = sh;
  supervision::supervisor_config sc;
  sc.id = "trainers";
  host->sup_ = supervision::spawn_supervisor(sys, sc, std::move(children));
  log::get("trainer")->info("event=started trainers={} dmoe_layers={} threads={}", c.count,
                            host->gates_.size(), host->pool_->size());
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
}

trainer_actor trainer_host::trainer(size_t i) const {
  std::lock_guard<std::mutex> guard{shared_->mx};
  return shared_->trainers.at(i);
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
    if (!stop_sent && stop_requested && stop_requested()) {
      stop_sent = true;
      std::lock_guard<std::mutex> guard{shared_->mx};
      for (auto& t : shared_->trainers)
        self->send(t, stop_atom::value);
    }
  }
  std::lock_guard<std::mutex> guard{shared_->mx};
  shared_->runner = nullptr;
  return result;
}

std::string summarize(const std::vector<trainer_summary>& xs) {
  double sum = 0, lo = 1, hi = 0;
  uint64_t failed = 0, steps = 0, n = 0;
  for (auto& s : xs) {
    failed += s.failed_steps;
    steps += s.steps;
    if (s.accuracy < 0)
      continue;
    sum += s.accuracy;
    lo = std::min(lo, s.accuracy);
    hi = std::max(hi, s.accuracy);
    ++n;
  }
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "trainers=%zu steps=%llu failed_steps=%llu test_accuracy_mean=%.4f "
                "test_accuracy_min=%.4f test_accuracy_max=%.4f",
                xs.size(), static_cast<unsigned long long>(steps),
                static_cast<unsigned long long>(failed), n ? sum / n : -1.0, n ? lo : -1.0,
                n ? hi : -1.0);
  return buf;
}

} // namespace colony::trainer
