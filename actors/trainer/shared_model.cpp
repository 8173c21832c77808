#include "actors/trainer/shared_model.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "runtime/logging.hpp"
#include "runtime/lr_schedule.hpp"
#include "runtime/quantile.hpp"

namespace colony::trainer {

namespace {

constexpr size_t max_staleness_samples = 100000;

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& ps,
                                                        const model_options& o) {
  if (o.optimizer == "adam")
    return std::make_unique<torch::optim::Adam>(
      ps, torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));
  if (o.optimizer == "sgd")
    return std::make_unique<torch::optim::SGD>(
      ps, torch::optim::SGDOptions(o.lr).weight_decay(o.weight_decay));
  throw std::invalid_argument("model: unknown optimizer '" + o.optimizer + "' (adam, sgd)");
}

void merge_stats(model_stats& into, model_stats& from) {
  into.applied += from.applied;
  into.dropped += from.dropped;
  into.scaled += from.scaled;
  into.samples += from.samples;
  auto room = max_staleness_samples - std::min(max_staleness_samples, into.staleness.size());
  auto n = std::min(room, from.staleness.size());
  into.staleness.insert(into.staleness.end(), from.staleness.begin(),
                        from.staleness.begin() + static_cast<std::ptrdiff_t>(n));
}

} // namespace

shared_model::shared_model(std::shared_ptr<torch::nn::Module> master, model_options opts)
  : master_(std::move(master)), opts_(std::move(opts)),
    strand_(1, [] { torch::set_num_threads(1); }) {
  params_ = master_->parameters();
  opt_ = make_optimizer(params_, opts_);
  opts_.accumulate = std::max<uint32_t>(1, opts_.accumulate);
  window_start_ = std::chrono::steady_clock::now();
  publish();
}

shared_model::~shared_model() {
  strand_.stop();
}

std::shared_ptr<const shared_model::snapshot> shared_model::current() const {
  std::lock_guard<std::mutex> guard{mx_};
  return current_;
}

uint64_t shared_model::version() const {
  return current()->version;
}

uint64_t shared_model::bind(torch::nn::Module& replica) const {
  auto snap = current();
  auto ps = replica.parameters();
  if (ps.size() != snap->values.size())
    throw std::logic_error("model: a replica with " + std::to_string(ps.size())
                           + " parameters, the model has " + std::to_string(snap->values.size()));
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < ps.size(); ++i)
    ps[i].set_data(snap->values[i]);
  return snap->version;
}

model_gradient shared_model::take_gradients(torch::nn::Module& replica, uint64_t version,
                                            uint64_t samples) {
  model_gradient g;
  g.version = version;
  g.samples = samples;
  for (auto& p : replica.parameters()) {
    g.grads.push_back(p.grad());
    p.mutable_grad() = torch::Tensor();
  }
  return g;
}

std::shared_future<void> shared_model::submit(model_gradient g) {
  auto done = std::make_shared<std::promise<void>>();
  std::shared_future<void> result = done->get_future().share();
  auto holder = std::make_shared<model_gradient>(std::move(g));
  strand_.post([this, holder, done] {
    try {
      apply(*holder);
    } catch (const std::exception& e) {
      log::get("trainer")->error("event=apply_failed error=\"{}\"", e.what());
    }
    done->set_value();
  });
  return result;
}

void shared_model::apply(model_gradient& g) {
  if (g.grads.size() != params_.size())
    throw std::invalid_argument("a gradient of " + std::to_string(g.grads.size())
                                + " tensors for a model of " + std::to_string(params_.size()));
  for (size_t i = 0; i < params_.size(); ++i)
    if (g.grads[i].defined() && g.grads[i].sizes() != params_[i].sizes())
      throw std::invalid_argument("a gradient of shape " + c10::str(g.grads[i].sizes())
                                  + " for a parameter of shape " + c10::str(params_[i].sizes()));
  auto s = version_ >= g.version ? version_ - g.version : 0;
  if (window_.staleness.size() < max_staleness_samples)
    window_.staleness.push_back(static_cast<uint32_t>(std::min<uint64_t>(s, UINT32_MAX)));
  double w = opts_.staleness_scale ? 1.0 / (1.0 + static_cast<double>(s)) : 1.0;
  if (opts_.max_staleness > 0 && s > opts_.max_staleness) {
    if (opts_.drop_stale) {
      ++window_.dropped;
      return;
    }
    ++window_.scaled;
    w = 1.0 / (1.0 + static_cast<double>(s));
  }
  torch::NoGradGuard no_grad;
  if (acc_.empty())
    for (auto& p : params_)
      acc_.push_back(torch::zeros_like(p));
  for (size_t i = 0; i < params_.size(); ++i)
    if (g.grads[i].defined())
      acc_[i].add_(g.grads[i], w);
  ++window_.applied;
  window_.samples += g.samples;
  window_samples_ += g.samples;
  samples_total_ += g.samples;
  if (++pending_ >= opts_.accumulate)
    step();
}

void shared_model::step() {
  // The mean over the accumulated gradients: each one weighs 1 unless
  // scaled, so a scaled (stale) gradient moves the model less.
  for (size_t i = 0; i < params_.size(); ++i) {
    acc_[i].div_(static_cast<double>(pending_));
    params_[i].mutable_grad() = acc_[i];
  }
  if (opts_.clip_grad_norm > 0)
    torch::nn::utils::clip_grad_norm_(params_, opts_.clip_grad_norm);
  // The node's optimizer steps drive the schedule (not the version, which
  // averaging rounds also advance); checkpointed, so a restart resumes it.
  auto lr = scheduled_lr(opts_.lr, opts_.lr_warmup, opts_.lr_total, steps_);
  for (auto& group : opt_->param_groups())
    group.options().set_lr(lr);
  opt_->step();
  ++steps_;
  for (auto& p : params_)
    p.mutable_grad() = torch::Tensor();
  acc_.clear();
  pending_ = 0;
  ++version_;
  publish();
  if (opts_.log_every > 0 && version_ % opts_.log_every == 0)
    log_progress();
  if (opts_.checkpoint_every > 0 && version_ % opts_.checkpoint_every == 0)
    save_now();
}

void shared_model::publish() {
  auto snap = std::make_shared<snapshot>();
  snap->version = version_;
  torch::NoGradGuard no_grad;
  for (auto& p : params_)
    snap->values.push_back(p.detach().clone());
  std::lock_guard<std::mutex> guard{mx_};
  current_ = std::move(snap);
  merge_stats(stats_, window_);
  stats_.version = version_;
  window_.applied = window_.dropped = window_.scaled = window_.samples = 0;
  window_.staleness.clear();
}

void shared_model::log_progress() {
  auto now = std::chrono::steady_clock::now();
  auto secs = std::chrono::duration<double>(now - window_start_).count();
  model_stats s;
  {
    std::lock_guard<std::mutex> guard{mx_};
    s.staleness = stats_.staleness; // since the last take_stats()
    s.dropped = stats_.dropped;
    s.scaled = stats_.scaled;
  }
  log::get("trainer")->info("model version={} staleness_p50={} staleness_p95={} "
                            "stale_dropped={} stale_scaled={} samples_per_s={:.1f} lr={:.3g}",
                            version_, quantile(s.staleness, 0.5),
                            quantile(s.staleness, 0.95), s.dropped, s.scaled,
                            secs > 0 ? static_cast<double>(window_samples_) / secs : 0.0,
                            scheduled_lr(opts_.lr, opts_.lr_warmup, opts_.lr_total, steps_));
  window_start_ = now;
  window_samples_ = 0;
}

model_stats shared_model::take_stats() {
  std::lock_guard<std::mutex> guard{mx_};
  auto s = std::move(stats_);
  stats_ = model_stats{};
  stats_.version = s.version;
  return s;
}

void shared_model::on_strand(std::function<void()> job) {
  auto done = std::make_shared<std::promise<void>>();
  auto f = done->get_future();
  strand_.post([job = std::move(job), done] {
    try {
      job();
      done->set_value();
    } catch (...) {
      done->set_exception(std::current_exception());
    }
  });
  f.get();
}

void shared_model::save() {
  on_strand([this] {
    if (!opts_.checkpoint_path.empty())
      save_now();
  });
}

std::vector<std::string> shared_model::names() const {
  std::vector<std::string> out;
  for (auto& kv : master_->named_parameters())
    out.push_back(kv.key());
  return out;
}

namespace {

void check_fit(const std::vector<torch::Tensor>& xs, const std::vector<torch::Tensor>& params) {
  if (xs.size() != params.size())
    throw std::invalid_argument(std::to_string(xs.size()) + " tensors for a model of "
                                + std::to_string(params.size()));
  for (size_t i = 0; i < xs.size(); ++i)
    if (xs[i].sizes() != params[i].sizes())
      throw std::invalid_argument("a tensor of shape " + c10::str(xs[i].sizes())
                                  + " for a parameter of shape "
                                  + c10::str(params[i].sizes()));
}

} // namespace

void shared_model::add_delta(const std::vector<torch::Tensor>& delta) {
  check_fit(delta, params_);
  on_strand([this, &delta] {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params_.size(); ++i)
      params_[i].add_(delta[i]);
    ++version_;
    publish();
  });
}

void shared_model::replace(const std::vector<torch::Tensor>& values, uint64_t version) {
  check_fit(values, params_);
  on_strand([this, &values, version] {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params_.size(); ++i)
      params_[i].copy_(values[i]);
    version_ = version;
    publish();
  });
}

void shared_model::save_now() {
  auto path = opts_.checkpoint_path;
  auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty())
    std::filesystem::create_directories(dir);
  torch::serialize::OutputArchive ar;
  master_->save(ar);
  torch::serialize::OutputArchive opt_ar;
  opt_->save(opt_ar);
  ar.write("optimizer", opt_ar);
  ar.write("version", torch::tensor(static_cast<int64_t>(version_)));
  ar.write("steps", torch::tensor(static_cast<int64_t>(steps_)));
  auto tmp = path + ".tmp";
  ar.save_to(tmp);
  std::filesystem::rename(tmp, path); // atomic on one file system
}

bool shared_model::load() {
  auto path = opts_.checkpoint_path;
  if (path.empty() || !std::filesystem::exists(path))
    return false;
  // Before any trainer runs: nothing else touches the master yet.
  torch::serialize::InputArchive ar;
  ar.load_from(path);
  master_->load(ar);
  torch::serialize::InputArchive opt_ar;
  ar.read("optimizer", opt_ar);
  opt_->load(opt_ar);
  torch::Tensor v;
  ar.read("version", v);
  version_ = static_cast<uint64_t>(v.item<int64_t>());
  torch::Tensor steps;
  // A checkpoint written before steps were recorded: its version.
  steps_ = ar.try_read("steps", steps) ? static_cast<uint64_t>(steps.item<int64_t>()) : version_;
  publish();
  return true;
}

} // namespace colony::trainer
