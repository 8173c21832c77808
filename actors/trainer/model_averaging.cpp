#include "actors/trainer/model_averaging.hpp"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "actors/averaging/tensors.hpp"
#include "messages/errc.hpp"
#include "runtime/logging.hpp"

namespace colony::trainer {

namespace {

std::vector<averaging::named_tensor> to_named(const std::vector<std::string>& names,
                                              const std::vector<torch::Tensor>& xs) {
  std::vector<averaging::named_tensor> out;
  for (size_t i = 0; i < xs.size(); ++i) {
    auto t = xs[i].to(torch::kFloat32).contiguous();
    averaging::named_tensor n;
    n.name = names[i];
    n.shape = t.sizes().vec();
    n.values.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    out.push_back(std::move(n));
  }
  return out;
}

/// The tensors of `xs` in the model's order; bad_shape when they differ.
caf::expected<std::vector<torch::Tensor>> from_named(const std::vector<std::string>& names,
                                                     std::vector<averaging::named_tensor>& xs) {
  if (xs.size() != names.size())
    return make_error(errc::bad_shape, std::to_string(xs.size()) + " tensors for a model of "
                                         + std::to_string(names.size()));
  for (size_t i = 0; i < xs.size(); ++i)
    if (xs[i].name != names[i])
      return make_error(errc::bad_shape, "tensor '" + xs[i].name + "' where the model has '"
                                           + names[i] + "'");
  // Values against shapes, with the averager's own overflow-checked rule.
  if (auto l = averaging::layout_of(xs); !l)
    return l.error();
  std::vector<torch::Tensor> out;
  for (auto& x : xs)
    out.push_back(torch::from_blob(x.values.data(), x.shape, torch::kFloat32).clone());
  return out;
}

} // namespace

caf::expected<std::unique_ptr<model_averaging>>
model_averaging::start(caf::actor_system& sys, const averaging::averaging_config& cfg,
                       dht::peer_actor dht, std::shared_ptr<shared_model> model,
                       const std::string& host) {
  averaging::averager_options opts;
  opts.host = host;
  auto a = averaging::averager::start(sys, cfg, std::move(dht), opts);
  if (!a)
    return a.error();
  std::unique_ptr<model_averaging> m{new model_averaging};
  m->cfg_ = cfg;
  m->model_ = std::move(model);
  m->averager_ = std::move(*a);
  m->names_ = m->model_->names();
  m->last_version_ = m->model_->version();
  m->last_time_ = std::chrono::steady_clock::now();
  m->thread_ = std::make_unique<worker_pool>(1, [] { torch::set_num_threads(1); });
  log::get("trainer")->info("event=averaging_started run={} endpoint={} every_steps={} "
                            "every_s={}",
                            cfg.run, m->averager_->ep(), cfg.every_steps, cfg.every_s);
  return m;
}

model_averaging::~model_averaging() {
  if (thread_)
    thread_->stop(); // a running round ends by its own bounds
}

caf::expected<bool> model_averaging::join() {
  auto st = averager_->fetch_state();
  if (!st) {
    if (code_of(st.error()) == errc::not_found)
      return false;
    return st.error();
  }
  auto xs = from_named(names_, st->tensors);
  if (!xs)
    return xs.error();
  try {
    model_->replace(*xs, st->version);
  } catch (const std::exception& e) {
    return make_error(errc::bad_shape, e.what());
  }
  last_version_ = st->version;
  log::get("trainer")->info("event=model_downloaded run={} from={} version={}", cfg_.run,
                            st->from, st->version);
  return true;
}

void model_averaging::maybe_average() {
  auto v = model_->version();
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_time_).count();
  if (!averaging::due(cfg_, v - std::min(v, last_version_), secs) || busy_.exchange(true))
    return;
  last_version_ = v;
  last_time_ = std::chrono::steady_clock::now();
  thread_->post([this] {
    round();
    busy_ = false;
  });
}

caf::error model_averaging::average_now() {
  while (busy_.exchange(true)) // bounded: a round ends by its own bounds
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  auto err = round();
  busy_ = false;
  return err;
}

caf::error model_averaging::round() {
  auto snap = model_->current();
  auto sent = to_named(names_, snap->values);
  auto result = averager_->average(sent, 1.0);
  auto log = log::get("trainer");
  if (!result) {
    std::lock_guard<std::mutex> guard{mx_};
    ++stats_.failed;
    stats_.last_error = describe(result.error());
    log->warn("event=averaging_failed run={} version={} error=\"{}\"", cfg_.run, snap->version,
              stats_.last_error);
    return result.error();
  }
  auto avg = from_named(names_, result->tensors);
  if (!avg)
    return avg.error();
  std::vector<torch::Tensor> delta;
  for (size_t i = 0; i < avg->size(); ++i)
    delta.push_back((*avg)[i] - snap->values[i]);
  model_->add_delta(delta);
  averager_->set_state(to_named(names_, model_->current()->values), model_->version());
  {
    std::lock_guard<std::mutex> guard{mx_};
    ++stats_.rounds;
    stats_.bytes_sent += result->bytes_sent;
    stats_.bytes_received += result->bytes_received;
    stats_.seconds += result->seconds;
    stats_.last_group = result->group_size;
  }
  log->info("model event=averaged run={} round={} group={} delivered={} version={} "
            "bytes_sent={} bytes_received={} seconds={:.3f}",
            cfg_.run, result->round, result->group_size, result->delivered.size(),
            model_->version(), result->bytes_sent, result->bytes_received, result->seconds);
  return {};
}

averaging_stats model_averaging::stats() const {
  std::lock_guard<std::mutex> guard{mx_};
  return stats_;
}

} // namespace colony::trainer
