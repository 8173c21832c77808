#include "actors/expert/expert_state.hpp"

#include <cstdio>
#include <filesystem>

#include <torch/torch.h>

#include "messages/errc.hpp"
#include "messages/wire/torch_tensor.hpp"
#include "runtime/logging.hpp"

namespace colony::expert {

namespace {

std::string dims_string(const torch::Tensor& t) {
  std::string out = "[";
  for (int64_t i = 0; i < t.dim(); ++i)
    out += (i ? ", " : "") + std::to_string(t.size(i));
  return out + "]";
}

template <class F>
auto guarded(const std::string& uid, const char* what, F&& f)
  -> caf::expected<std::vector<torch::Tensor>> {
  try {
    return f();
  } catch (const std::exception& e) {
    std::string msg = e.what();
    msg = msg.substr(0, msg.find('\n'));
    return make_error(errc::compute_failed, "expert " + uid + " " + what + ": " + msg);
  }
}

} // namespace

caf::expected<std::unique_ptr<expert_state>>
expert_state::make(std::string uid, const expert_group_config& group) {
  auto built = make_module(group.module);
  if (!built)
    return built.error();
  auto opt = expert_optimizer::make(group.optimizer, built->module->parameters());
  if (!opt)
    return opt.error();
  std::unique_ptr<expert_state> st{
    new expert_state(std::move(uid), group, std::move(*built), std::move(*opt))};
  if (!group.checkpoint.dir.empty() && group.checkpoint.load) {
    auto err = st->load_checkpoint();
    if (err && code_of(err) != errc::not_found)
      return err;
  }
  return st;
}

expert_state::expert_state(std::string uid, expert_group_config group,
                           built_module built, std::unique_ptr<expert_optimizer> opt)
  : uid_(std::move(uid)), group_(std::move(group)), built_(std::move(built)),
    opt_(std::move(opt)) {
  info_.uid = uid_;
  info_.module_type = group_.module.type;
  info_.inputs = built_.inputs;
  info_.outputs = built_.outputs;
  info_.max_batch_size = group_.max_batch_size;
  for (auto& p : built_.module->parameters())
    info_.num_parameters += static_cast<uint64_t>(p.numel());
}

expert_info expert_state::info() const {
  return info_;
}

caf::error expert_state::validate(const std::vector<torch::Tensor>& xs,
                                  const std::vector<tensor_schema>& schema,
                                  const std::string& what) const {
  if (xs.size() != schema.size())
    return make_error(errc::bad_request, what + ": want " + std::to_string(schema.size())
                                           + " tensors, got " + std::to_string(xs.size()));
  for (size_t i = 0; i < xs.size(); ++i) {
    auto name = what + "[" + std::to_string(i) + "]";
    wire::dtype want_type = wire::dtype::float32;
    wire::from_string(schema[i].dtype, want_type);
    if (xs[i].scalar_type() != wire::to_torch_dtype(want_type))
      return make_error(errc::bad_dtype, name + ": want " + schema[i].dtype + ", got "
                                           + std::string{c10::toString(xs[i].scalar_type())});
    const auto& want = schema[i].shape;
    bool ok = xs[i].dim() == static_cast<int64_t>(want.size()) + 1;
    for (size_t d = 0; ok && d < want.size(); ++d)
      ok = want[d] < 0 || xs[i].size(static_cast<int64_t>(d) + 1) == want[d];
    if (!ok)
      return make_error(errc::bad_shape, name + ": want " + shape_string(schema[i])
                                           + ", got " + dims_string(xs[i]));
    if (xs[i].size(0) != xs[0].size(0))
      return make_error(errc::bad_shape, name + ": batch size " + std::to_string(xs[i].size(0))
                                           + " differs from " + std::to_string(xs[0].size(0)));
  }
  return caf::none;
}

caf::expected<std::vector<torch::Tensor>>
expert_state::forward(const std::vector<torch::Tensor>& xs) {
  return guarded(uid_, "forward", [&] {
    torch::NoGradGuard no_grad;
    auto out = built_.module->forward(xs);
    info_.forward_samples += static_cast<uint64_t>(xs[0].size(0));
    info_.forward_batches += 1;
    return out;
  });
}

caf::expected<std::vector<torch::Tensor>>
expert_state::backward(const std::vector<torch::Tensor>& xs,
                       const std::vector<torch::Tensor>& grads) {
  return guarded(uid_, "backward", [&] {
    stepped_ = false;
    std::vector<torch::Tensor> leaves;
    for (auto& x : xs)
      leaves.push_back(x.detach().requires_grad_(true));
    // An empty batch carries no gradient: no optimizer step (Adam's moments
    // would still move the parameters), no update counted, and the pending
    // gradients of earlier batches stay as they are.
    auto rows = static_cast<uint64_t>(xs[0].size(0));
    if (rows == 0)
      return empty_backward(leaves, grads);
    auto out = built_.module->forward(leaves);
    torch::autograd::backward(out, grads);
    std::vector<torch::Tensor> grad_in;
    for (auto& leaf : leaves)
      grad_in.push_back(leaf.grad().defined() ? leaf.grad() : torch::zeros_like(leaf));
    accumulate(rows);
    return grad_in;
  });
}

std::vector<torch::Tensor>
expert_state::empty_backward(const std::vector<torch::Tensor>& leaves,
                             const std::vector<torch::Tensor>& grads) {
  auto out = built_.module->forward(leaves);
  auto got = torch::autograd::grad(out, leaves, grads, /*retain_graph=*/false,
                                   /*create_graph=*/false, /*allow_unused=*/true);
  std::vector<torch::Tensor> grad_in;
  for (size_t i = 0; i < leaves.size(); ++i)
    grad_in.push_back(got[i].defined() ? got[i] : torch::zeros_like(leaves[i]));
  return grad_in;
}

void expert_state::accumulate(uint64_t rows) {
  pending_rows_ += rows;
  pending_batches_ += 1;
  if (pending_rows_ >= group_.optimizer.accumulate_rows) {
    // Torch sums the batches' gradients; their mean keeps the step size
    // independent of how many batches one step accumulates.
    opt_->step(info_.updates, 1.0 / static_cast<double>(pending_batches_));
    info_.updates += 1;
    pending_rows_ = 0;
    pending_batches_ = 0;
    stepped_ = true;
  }
  info_.backward_samples += rows;
  info_.backward_batches += 1;
}

std::string expert_state::checkpoint_path() const {
  if (group_.checkpoint.dir.empty())
    return {};
  return (std::filesystem::path{group_.checkpoint.dir} / (uid_ + ".pt")).string();
}

bool expert_state::checkpoint_due() const {
  auto every = group_.checkpoint.every_updates;
  return stepped_ && !group_.checkpoint.dir.empty() && every > 0
         && info_.updates % every == 0;
}

caf::error expert_state::save_checkpoint() {
  auto path = checkpoint_path();
  if (path.empty())
    return caf::none;
  try {
    std::filesystem::create_directories(group_.checkpoint.dir);
    torch::serialize::OutputArchive root, mod, opt;
    built_.module->save(mod);
    opt_->save(opt);
    root.write("module", mod);
    root.write("optimizer", opt);
    auto counters = torch::tensor(
      {static_cast<int64_t>(info_.updates), static_cast<int64_t>(info_.forward_samples),
       static_cast<int64_t>(info_.backward_samples), static_cast<int64_t>(info_.forward_batches),
       static_cast<int64_t>(info_.backward_batches)},
      torch::kInt64);
    root.write("counters", counters);
    auto tmp = path + ".tmp";
    root.save_to(tmp);
    std::filesystem::rename(tmp, path);
  } catch (const std::exception& e) {
    return make_error(errc::io_failed, "checkpoint " + path + ": " + e.what());
  }
  return caf::none;
}

caf::error expert_state::load_checkpoint() {
  auto path = checkpoint_path();
  if (path.empty() || !std::filesystem::exists(path))
    return make_error(errc::not_found, "no checkpoint at '" + path + "'");
  try {
    torch::serialize::InputArchive root, mod, opt;
    root.load_from(path);
    root.read("module", mod);
    root.read("optimizer", opt);
    built_.module->load(mod);
    opt_->load(opt);
    torch::Tensor counters;
    root.read("counters", counters);
    auto c = counters.accessor<int64_t, 1>();
    info_.updates = static_cast<uint64_t>(c[0]);
    info_.forward_samples = static_cast<uint64_t>(c[1]);
    info_.backward_samples = static_cast<uint64_t>(c[2]);
    info_.forward_batches = static_cast<uint64_t>(c[3]);
    info_.backward_batches = static_cast<uint64_t>(c[4]);
    opt_->zero_grad();
    pending_rows_ = 0;
    pending_batches_ = 0;
    stepped_ = false;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    return make_error(errc::io_failed,
                      "checkpoint " + path + ": " + msg.substr(0, msg.find('\n')));
  }
  return caf::none;
}

} // namespace colony::expert
