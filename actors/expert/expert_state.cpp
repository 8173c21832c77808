#include "actors/expert/expert_state.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <sstream>
#include <unistd.h>

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

/// The wire spelling of a torch dtype ("float64"); torch's name in lowercase
/// for one the wire cannot carry.
std::string dtype_name(c10::ScalarType t) {
  if (auto w = wire::to_wire_dtype(t))
    return wire::to_string(*w);
  std::string name = c10::toString(t);
  for (auto& c : name)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name + " (not a wire dtype)";
}

/// Creates `dir` if needed and checks that a file can be made in it.
caf::error check_writable(const std::string& dir, const std::string& uid) {
  auto fail = [&](const std::string& what, const std::string& why) {
    return make_error(errc::io_failed, "checkpoint.dir '" + dir + "': " + what + ": " + why);
  };
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return fail("cannot create", ec.message());
  if (!std::filesystem::is_directory(dir, ec))
    return fail("cannot create", "not a directory");
  auto probe = (std::filesystem::path{dir}
                / (".write-probe-" + std::to_string(::getpid()) + "-" + uid)).string();
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return fail("cannot write", std::strerror(errno));
  ::close(fd);
  if (::unlink(probe.c_str()) != 0)
    return fail("cannot remove a file", std::strerror(errno));
  return caf::none;
}

// -- spec record ----------------------------------------------------------------

/// Version of the checkpoint layout; "format" in the spec record.
constexpr int checkpoint_format = 1;

using spec_record = std::map<std::string, std::string>;

/// Shortest text that reads back as the same double ("0.1", "32").
std::string number(double x) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  return std::string{buf, res.ptr};
}

spec_record parse_record(const std::string& text) {
  spec_record out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    if (auto eq = line.find('='); eq != std::string::npos)
      out[line.substr(0, eq)] = line.substr(eq + 1);
  return out;
}

/// Keys whose change makes a checkpoint unusable; the others (optimizer
/// hyper-parameters, module.seed) may change between runs.
bool structural(const std::string& key) {
  return key == "format" || key == "optimizer.type"
         || (key.rfind("module.", 0) == 0 && key != "module.seed");
}

/// "key old -> new" for each differing key (structural ones or the others),
/// joined by "; ".
std::string differences(const spec_record& saved, const spec_record& now, bool structural_keys) {
  auto keys = saved;
  keys.insert(now.begin(), now.end());
  std::string out;
  for (auto& kv : keys) {
    auto was = saved.count(kv.first) ? saved.at(kv.first) : "(none)";
    auto is = now.count(kv.first) ? now.at(kv.first) : "(none)";
    if (was != is && structural(kv.first) == structural_keys)
      out += (out.empty() ? "" : "; ") + kv.first + " " + was + " -> " + is;
  }
  return out;
}

/// The first line of a torch exception, without asking the user to report
/// a torch bug: an internal assert here means the archive does not fit.
std::string torch_reason(const std::exception& e) {
  std::string msg = e.what();
  msg = msg.substr(0, msg.find('\n'));
  if (msg.find("INTERNAL ASSERT") != std::string::npos
      || msg.find("report a bug to PyTorch") != std::string::npos)
    return "its content does not fit this module or optimizer";
  return msg;
}

/// Moves a mismatching checkpoint to `<path>.mismatch-<unix time>[-n]`.
caf::expected<std::string> set_aside(const std::string& path) {
  auto base = path + ".mismatch-" + std::to_string(std::time(nullptr));
  auto target = base;
  std::error_code ec;
  for (int n = 2; std::filesystem::exists(target, ec); ++n)
    target = base + "-" + std::to_string(n);
  std::filesystem::rename(path, target, ec);
  if (ec)
    return make_error(errc::io_failed, "checkpoint " + path + ": cannot move it aside to "
                                         + target + ": " + ec.message());
  return target;
}

} // namespace

caf::expected<std::unique_ptr<expert_state>>
expert_state::make(std::string uid, const expert_group_config& group) {
  std::map<std::string, double> module_params;
  auto built = make_module(group.module, module_params);
  if (!built)
    return built.error();
  auto opt = expert_optimizer::make(group.optimizer, built->module->parameters());
  if (!opt)
    return opt.error();
  if (!group.checkpoint.dir.empty())
    if (auto err = check_writable(group.checkpoint.dir, uid))
      return err;
  std::unique_ptr<expert_state> st{
    new expert_state(std::move(uid), group, std::move(*built), std::move(*opt))};
  st->module_params_ = std::move(module_params);
  if (!group.checkpoint.dir.empty() && group.checkpoint.load) {
    auto err = st->load_checkpoint(group.checkpoint.on_mismatch == "fresh");
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
                                           + dtype_name(xs[i].scalar_type()));
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

std::string expert_state::spec_text() const {
  const auto& o = group_.optimizer;
  std::string out = "format=" + std::to_string(checkpoint_format) + "\n";
  out += "module.type=" + group_.module.type + "\n";
  out += "module.seed=" + std::to_string(group_.module.seed) + "\n";
  for (auto& kv : module_params_)
    out += "module." + kv.first + "=" + number(kv.second) + "\n";
  out += "optimizer.type=" + o.type + "\n";
  std::pair<const char*, double> hyper[] = {
    {"lr", o.lr}, {"momentum", o.momentum}, {"beta1", o.beta1}, {"beta2", o.beta2},
    {"eps", o.eps}, {"weight_decay", o.weight_decay}, {"clip_grad_norm", o.clip_grad_norm},
    {"warmup_steps", static_cast<double>(o.warmup_steps)},
    {"total_steps", static_cast<double>(o.total_steps)},
    {"accumulate_rows", static_cast<double>(o.accumulate_rows)}};
  for (auto& [key, value] : hyper)
    out += std::string{"optimizer."} + key + "=" + number(value) + "\n";
  return out;
}

bool expert_state::parameters_finite() const {
  for (auto& p : built_.module->parameters())
    if (!torch::isfinite(p).all().item<bool>())
      return false;
  return true;
}

caf::error expert_state::save_checkpoint() {
  auto path = checkpoint_path();
  if (path.empty())
    return caf::none;
  if (!parameters_finite()) // never overwrite the last good checkpoint
    return make_error(errc::diverged, "checkpoint " + path + " not written: NaN/Inf parameters");
  try {
    std::filesystem::create_directories(group_.checkpoint.dir);
    torch::serialize::OutputArchive root, mod, opt;
    built_.module->save(mod);
    opt_->save(opt);
    root.write("spec", c10::IValue{spec_text()});
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
    return make_error(errc::io_failed, "checkpoint " + path + ": " + torch_reason(e));
  }
  return caf::none;
}

caf::error expert_state::load_checkpoint() {
  return load_checkpoint(false);
}

caf::error expert_state::load_checkpoint(bool fresh) {
  auto path = checkpoint_path();
  if (path.empty() || !std::filesystem::exists(path))
    return make_error(errc::not_found, "no checkpoint at '" + path + "'");
  auto log = log::get("expert");
  try {
    torch::serialize::InputArchive root;
    root.load_from(path);
    c10::IValue saved;
    bool recorded = root.try_read("spec", saved) && saved.isString();
    auto was = recorded ? parse_record(saved.toStringRef()) : spec_record{};
    auto now = parse_record(spec_text());
    auto diff = recorded ? differences(was, now, true) : "no recorded spec";
    if (!diff.empty() && !fresh)
      return make_error(errc::bad_config,
                        "checkpoint " + path
                          + (recorded ? " was made with a different spec: " + diff
                                      : " has no recorded spec (an older Colony wrote it), so it"
                                        " cannot be checked against the current one")
                          + " (set checkpoint.on_mismatch: fresh to start over)");
    if (!diff.empty()) {
      auto moved = set_aside(path);
      if (!moved)
        return moved.error();
      log->warn("expert={} event=checkpoint_mismatch path={} moved_to={} keys=\"{}\"", uid_,
                path, *moved, diff);
      return caf::none;
    }
    if (auto changed = differences(was, now, false); !changed.empty())
      log->info("expert={} event=checkpoint_spec_changed path={} keys=\"{}\"", uid_, path,
                changed);
    restore(root);
  } catch (const std::exception& e) {
    return make_error(errc::io_failed, "checkpoint " + path + ": " + torch_reason(e));
  }
  return caf::none;
}

void expert_state::restore(torch::serialize::InputArchive& root) {
  torch::serialize::InputArchive mod, opt;
  root.read("module", mod);
  root.read("optimizer", opt);
  std::vector<std::vector<int64_t>> shapes;
  for (auto& p : built_.module->parameters())
    shapes.push_back(p.sizes().vec());
  built_.module->load(mod);
  size_t i = 0;
  for (auto& p : built_.module->parameters())
    if (i >= shapes.size() || p.sizes().vec() != shapes[i++])
      throw std::runtime_error("its parameter shapes differ from the module's");
  opt_->load(opt);
  torch::Tensor counters;
  root.read("counters", counters);
  if (counters.dim() != 1 || counters.numel() < 5 || counters.scalar_type() != torch::kInt64)
    throw std::runtime_error("bad counters entry");
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
}

} // namespace colony::expert
