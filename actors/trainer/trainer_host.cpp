#include "actors/trainer/trainer_host.hpp"

#include <cstdio>
#include <thread>

#include <caf/all.hpp>
#include <torch/torch.h>

#include "messages/errc.hpp"
#include "runtime/logging.hpp"

namespace colony::trainer {

namespace {

caf::expected<std::pair<labeled_data, labeled_data>> load_data(const data_config& d) {
  if (d.kind == "synthetic") {
    auto train = make_synthetic(d.train_size, d.features, d.classes, d.seed, d.seed + 1);
    auto test = make_synthetic(d.test_size, d.features, d.classes, d.seed, d.seed + 2);
    return std::make_pair(std::move(train), std::move(test));
  }
  auto train = load_fashion_mnist(d.dir, true);
  if (!train)
    return train.error();
  auto test = load_fashion_mnist(d.dir, false);
  if (!test)
    return test.error();
  return std::make_pair(std::move(*train), std::move(*test));
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
  for (auto& l : c.model) {
    if (l.type != "dmoe")
      continue;
    if (!dht)
      return make_error(errc::bad_config, "trainers.model: dmoe layers need a dht: section "
                                          "(the gate finds experts through the DHT)");
    host->gates_.push_back(gate::spawn_gate(sys, l.gate, *dht, host->conns_));
  }
  // One thread per trainer: a step that waits for experts blocks only it.
  host->pool_ = std::make_shared<worker_pool>(c.pool_threads(), [] { torch::set_num_threads(1); });
  model_deps deps{&sys, host->gates_, host->conns_};
  for (uint32_t i = 0; i < c.count; ++i) {
    trainer_setup s;
    s.index = i;
    s.cfg = c;
    s.train = c.data.shard ? shard(data->first, i, c.count) : data->first;
    s.test = data->second;
    s.pool = host->pool_;
    try {
      s.net = model(c.model, deps, c.seed + i);
      host->trainers_.push_back(spawn_trainer(sys, std::move(s)));
    } catch (const std::exception& e) {
      return make_error(errc::bad_config, "trainer " + std::to_string(i) + ": " + e.what());
    }
  }
  log::get("trainer")->info("event=started trainers={} dmoe_layers={} threads={}", c.count,
                            host->gates_.size(), host->pool_->size());
  return host;
}

trainer_host::~trainer_host() {
  for (auto& t : trainers_)
    caf::anon_send_exit(t, caf::exit_reason::user_shutdown);
  for (auto& g : gates_)
    caf::anon_send_exit(g, caf::exit_reason::user_shutdown);
  if (pool_)
    pool_->stop();
}

std::vector<trainer_summary> trainer_host::run(const std::function<bool()>& stop_requested) {
  caf::scoped_actor self{sys_};
  std::vector<trainer_summary> result(trainers_.size());
  // A plain send: the trainer's reply comes back as an ordinary message.
  for (auto& t : trainers_)
    self->send(t, run_atom::value);
  size_t done = 0;
  bool stop_sent = false;
  // Each pass waits at most 100 ms; trainers end by their step count.
  while (done < trainers_.size()) {
    self->receive([&](trainer_summary& s) { result[s.index] = s; ++done; },
                  caf::after(std::chrono::milliseconds{100}) >> [] {});
    if (!stop_sent && stop_requested && stop_requested()) {
      stop_sent = true;
      for (auto& t : trainers_)
        self->send(t, stop_atom::value);
    }
  }
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
