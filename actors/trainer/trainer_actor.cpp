#include "actors/trainer/trainer_actor.hpp"

#include <algorithm>
#include <filesystem>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "runtime/logging.hpp"

namespace colony::trainer {

namespace {

using clock = std::chrono::steady_clock;

constexpr size_t max_window_latencies = 100000;

double percentile(std::vector<float> xs, double q) {
  if (xs.empty())
    return 0;
  auto i = static_cast<size_t>(q * static_cast<double>(xs.size() - 1));
  std::nth_element(xs.begin(), xs.begin() + i, xs.end());
  return xs[i];
}

/// The torch side of a trainer; touched only by its pool jobs, one at a time.
struct trainer_core {
  trainer_setup setup;
  std::unique_ptr<torch::optim::Adam> opt;
  std::unique_ptr<batch_sampler> sampler;
  uint64_t step = 0;

  std::string checkpoint_path() const {
    if (setup.cfg.checkpoint_dir.empty())
      return {};
    return setup.cfg.checkpoint_dir + "/trainer-" + std::to_string(setup.index) + ".pt";
  }

  void save() {
    auto path = checkpoint_path();
    if (path.empty())
      return;
    std::filesystem::create_directories(setup.cfg.checkpoint_dir);
    torch::serialize::OutputArchive ar;
    setup.net->save(ar);
    torch::serialize::OutputArchive opt_ar;
    opt->save(opt_ar);
    ar.write("optimizer", opt_ar);
    ar.write("step", torch::tensor(static_cast<int64_t>(step)));
    auto tmp = path + ".tmp";
    ar.save_to(tmp);
    std::filesystem::rename(tmp, path); // atomic on one file system
  }

  void load() {
    auto path = checkpoint_path();
    if (path.empty() || !std::filesystem::exists(path))
      return;
    torch::serialize::InputArchive ar;
    ar.load_from(path);
    setup.net->load(ar);
    torch::serialize::InputArchive opt_ar;
    ar.read("optimizer", opt_ar);
    opt->load(opt_ar);
    torch::Tensor s;
    ar.read("step", s);
    step = static_cast<uint64_t>(s.item<int64_t>());
  }

  double evaluate() {
    torch::NoGradGuard no_grad;
    setup.net->eval();
    auto n = setup.test.size();
    if (setup.cfg.eval_samples > 0)
      n = std::min<int64_t>(n, static_cast<int64_t>(setup.cfg.eval_samples));
    int64_t correct = 0, seen = 0;
    for (int64_t i = 0; i < n; i += setup.cfg.eval_batch) {
      auto len = std::min<int64_t>(setup.cfg.eval_batch, n - i);
      auto x = setup.test.x.narrow(0, i, len);
      auto y = setup.test.y.narrow(0, i, len);
      auto logits = setup.net->forward(x);
      correct += logits.argmax(1).eq(y).sum().item<int64_t>();
      seen += len;
    }
    setup.net->train();
    setup.net->take_stats(); // evaluation traffic is not training traffic
    return seen ? static_cast<double>(correct) / static_cast<double>(seen) : -1;
  }

  step_report train_step() {
    step_report r;
    r.step = ++step;
    try {
      auto [x, y] = sampler->next();
      auto loss = torch::nn::functional::cross_entropy(setup.net->forward(x), y);
      opt->zero_grad();
      loss.backward();
      opt->step();
      r.loss = loss.item<double>();
      r.samples = static_cast<uint64_t>(x.size(0));
    } catch (const std::exception& e) {
      opt->zero_grad();
      r.failed = true;
      r.error = e.what();
    }
    auto s = setup.net->take_stats();
    r.asked = s.asked + s.backward_asked;
    r.answered = s.answered + s.backward_answered;
    r.timeouts = s.timeouts;
    r.anomalies = s.anomalies;
    r.short_samples = s.short_samples;
    r.latency_ms = std::move(s.latency_ms);
    return r;
  }

  /// One job: a step, then an evaluation / checkpoint when due.
  step_report run(bool final) {
    auto& cfg = setup.cfg;
    step_report r;
    if (!final)
      r = train_step();
    r.step = step;
    r.final = final;
    bool eval_due = final || (cfg.eval_every > 0 && step % cfg.eval_every == 0);
    try {
      if (eval_due)
        r.accuracy = evaluate();
      if (final || (cfg.checkpoint_every > 0 && step % cfg.checkpoint_every == 0))
        save();
    } catch (const std::exception& e) {
      r.error = r.error.empty() ? e.what() : r.error;
      if (final)
        r.failed = true;
    }
    return r;
  }
};

struct trainer_state {
  std::shared_ptr<trainer_core> core;
  trainer_summary summary;
  std::vector<caf::typed_response_promise<trainer_summary>> waiters;
  bool running = false;
  bool stopping = false;
  bool finished = false;
  clock::time_point started, window_start;
  uint64_t window_samples = 0, window_failed = 0;
  double window_loss = 0;
  uint64_t window_steps = 0;
  step_report window;
  std::shared_ptr<spdlog::logger> log = log::get("trainer");
  static inline const char* name = "colony.trainer";
};

using trainer_pointer = trainer_actor::stateful_pointer<trainer_state>;

void post(trainer_pointer self, bool final) {
  auto core = self->state.core;
  auto me = caf::actor_cast<trainer_actor>(self);
  core->setup.pool->post([core, me, final] { caf::anon_send(me, core->run(final)); });
}

/// One progress line over the steps since the last one.
void log_progress(trainer_pointer self, const step_report& r) {
  auto& st = self->state;
  auto secs = std::chrono::duration<double>(clock::now() - st.window_start).count();
  st.log->info("trainer={} step={} loss={:.4f} samples_per_s={:.1f} experts_asked={} "
               "experts_answered={} p50_ms={:.2f} p95_ms={:.2f} timeouts={} anomalies={} "
               "short_samples={} failed_steps={}",
               st.summary.index, r.step,
               st.window_steps ? st.window_loss / static_cast<double>(st.window_steps) : 0.0,
               secs > 0 ? static_cast<double>(st.window_samples) / secs : 0.0, st.window.asked,
               st.window.answered, percentile(st.window.latency_ms, 0.5),
               percentile(st.window.latency_ms, 0.95), st.window.timeouts, st.window.anomalies,
               st.window.short_samples, st.summary.failed_steps);
  st.window_start = clock::now();
  st.window_samples = st.window_steps = 0;
  st.window_loss = 0;
  st.window = step_report{};
}

void finish(trainer_pointer self, const step_report& r) {
  auto& st = self->state;
  st.finished = true;
  st.summary.accuracy = r.accuracy;
  st.summary.seconds = std::chrono::duration<double>(clock::now() - st.started).count();
  st.log->info("trainer={} event=finished steps={} failed_steps={} test_accuracy={:.4f} "
               "seconds={:.1f}",
               st.summary.index, st.summary.steps, st.summary.failed_steps, r.accuracy,
               st.summary.seconds);
  for (auto& w : st.waiters)
    w.deliver(st.summary);
  st.waiters.clear();
}

void on_report(trainer_pointer self, const step_report& r) {
  auto& st = self->state;
  if (r.final)
    return finish(self, r);
  auto& cfg = st.core->setup.cfg;
  st.summary.steps = r.step;
  if (r.failed) {
    ++st.summary.failed_steps;
    st.log->warn("trainer={} step={} event=step_failed error=\"{}\"", st.summary.index, r.step,
                 r.error);
  } else {
    st.summary.samples += r.samples;
    st.summary.last_loss = r.loss;
    st.window_loss += r.loss;
    ++st.window_steps;
    st.window_samples += r.samples;
  }
  st.summary.requests += r.asked;
  st.window.asked += r.asked;
  st.window.answered += r.answered;
  st.window.timeouts += r.timeouts;
  st.window.anomalies += r.anomalies;
  st.window.short_samples += r.short_samples;
  // Bounded: the percentiles of a long window come from its first 100k.
  auto room = std::min(r.latency_ms.size(), max_window_latencies - std::min(
                                              max_window_latencies, st.window.latency_ms.size()));
  st.window.latency_ms.insert(st.window.latency_ms.end(), r.latency_ms.begin(),
                              r.latency_ms.begin() + static_cast<std::ptrdiff_t>(room));
  if (r.accuracy >= 0)
    st.log->info("trainer={} step={} test_accuracy={:.4f}", st.summary.index, r.step,
                 r.accuracy);
  if (r.step % cfg.log_every == 0)
    log_progress(self, r);
  post(self, st.stopping || r.step >= cfg.steps);
}

} // namespace

trainer_actor spawn_trainer(caf::actor_system& sys, trainer_setup setup) {
  auto core = std::make_shared<trainer_core>();
  auto& cfg = setup.cfg;
  core->opt = std::make_unique<torch::optim::Adam>(
    setup.net->parameters(), torch::optim::AdamOptions(cfg.lr).weight_decay(cfg.weight_decay));
  core->sampler = std::make_unique<batch_sampler>(setup.train, cfg.batch_size,
                                                  cfg.seed + setup.index);
  core->setup = std::move(setup);
  core->load();
  return sys.spawn([core](trainer_pointer self) -> trainer_actor::behavior_type {
    self->state.core = core;
    self->state.summary.index = core->setup.index;
    return {
      [=](run_atom) -> caf::result<trainer_summary> {
        auto& st = self->state;
        if (st.finished)
          return st.summary;
        st.waiters.push_back(self->make_response_promise<trainer_summary>());
        if (!st.running) {
          st.running = true;
          st.started = st.window_start = clock::now();
          post(self, core->step >= core->setup.cfg.steps);
        }
        return st.waiters.back();
      },
      [=](stop_atom) { self->state.stopping = true; },
      [=](step_report& r) { on_report(self, r); },
    };
  });
}

} // namespace colony::trainer
