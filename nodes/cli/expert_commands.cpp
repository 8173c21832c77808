#include <algorithm>
#include <iostream>
#include <random>

#include "actors/client/remote_expert.hpp"
#include "messages/errc.hpp"
#include "messages/wire/tensor_codec.hpp"
#include "nodes/cli/commands.hpp"
#include "nodes/cli/deadline.hpp"
#include "nodes/cli/fail.hpp"
#include "nodes/cli/tensor_files.hpp"

namespace colony::cli {

namespace {

std::string schema_string(const tensor_schema& s) {
  return shape_string(s) + " " + s.dtype;
}

std::chrono::milliseconds timeout_of(const options& opts) {
  return std::chrono::milliseconds{opts.timeout_ms};
}

/// A tensor read from a file, with the file named in errors.
struct file_tensor {
  std::string file;
  tensor_blob blob;
};

/// A random float32 batch for each input of `info`.
caf::expected<std::vector<file_tensor>> random_inputs(const expert_info& info,
                                                      const options& opts) {
  std::mt19937 gen{42};
  std::normal_distribution<float> dist;
  std::vector<file_tensor> out;
  for (auto& s : info.inputs) {
    std::vector<int64_t> shape{opts.batch};
    for (auto d : s.shape)
      shape.push_back(d < 0 ? opts.seq_len : d);
    int64_t n = 1;
    for (auto d : shape)
      n *= d;
    std::vector<float> data(static_cast<size_t>(n));
    std::generate(data.begin(), data.end(), [&] { return dist(gen); });
    auto bytes = wire::encode({wire::dtype::float32, shape, data.data(), data.size() * 4});
    if (!bytes)
      return bytes.error();
    out.push_back({"random", tensor_blob{std::move(*bytes)}});
  }
  return out;
}

/// The tensors of `files` (each a tensor or a list of tensors), in order.
caf::expected<std::vector<file_tensor>> read_files(const std::vector<std::string>& files) {
  std::vector<file_tensor> out;
  for (auto& f : files) {
    auto ts = read_tensor_file(f);
    if (!ts)
      return ts.error();
    for (auto& bytes : *ts)
      out.push_back({f, tensor_blob{std::move(bytes)}});
  }
  return out;
}

std::string describe_tensor(const wire::host_tensor& t) {
  return wire::shape_string(t.shape) + " " + wire::to_string(t.type);
}

/// Empty when `t` fits `s`; `batch` is the batch size seen so far (-1: none).
std::string mismatch(const wire::host_tensor& t, const tensor_schema& s, int64_t& batch) {
  bool fits = t.shape.size() == s.shape.size() + 1 && wire::to_string(t.type) == s.dtype;
  for (size_t i = 0; fits && i < s.shape.size(); ++i)
    fits = s.shape[i] < 0 || s.shape[i] == t.shape[i + 1];
  if (!fits)
    return "is " + describe_tensor(t) + ", the expert wants " + schema_string(s);
  if (batch >= 0 && t.shape[0] != batch)
    return "has batch size " + std::to_string(t.shape[0]) + ", the first tensor "
           + std::to_string(batch);
  batch = t.shape[0];
  return {};
}

/// Checks that `given` (from option `flag`) match the `role` schemas.
caf::error check_schema(const std::vector<file_tensor>& given,
                        const std::vector<tensor_schema>& want, const std::string& flag,
                        const std::string& role) {
  if (given.size() != want.size())
    return make_error(errc::bad_request, flag + ": " + std::to_string(given.size())
                                           + " tensor(s) given, the expert takes "
                                           + std::to_string(want.size()) + " " + role
                                           + "(s)");
  int64_t batch = -1;
  for (size_t i = 0; i < given.size(); ++i) {
    auto t = wire::decode(given[i].blob.bytes);
    if (!t)
      return make_error(code_of(t.error()), flag + " '" + given[i].file + "': "
                                              + context_of(t.error()));
    auto why = mismatch(*t, want[i], batch);
    if (!why.empty())
      return make_error(errc::bad_shape, flag + " '" + given[i].file + "': " + role + "["
                                           + std::to_string(i) + "] " + why);
  }
  return {};
}

std::vector<tensor_blob> blobs_of(const std::vector<file_tensor>& ts) {
  std::vector<tensor_blob> out;
  for (auto& t : ts)
    out.push_back(t.blob);
  return out;
}

/// Prints "<role>[i]: SHAPE DTYPE" per tensor and writes them to --output.
int report(std::vector<tensor_blob>& tensors, const std::string& role, const options& opts) {
  std::vector<std::string> bytes;
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto t = wire::decode(tensors[i].bytes);
    if (!t)
      return fail(role + "[" + std::to_string(i) + "]: " + describe(t.error()));
    std::cout << role << "[" << i << "]: " << describe_tensor(*t) << "\n";
    bytes.push_back(std::move(tensors[i].bytes));
  }
  if (!opts.output.empty()) {
    if (auto err = write_tensor_file(opts.output, bytes))
      return fail("--output: " + describe(err));
    std::cout << "wrote " << bytes.size() << " tensor(s) to " << opts.output << "\n";
  }
  return 0;
}

/// Connects to expert `opts.uid` on `opts.node`, fetches its info and runs
/// `body(expert, info)`; a bad endpoint or a failed info call is the error.
/// Connecting, the info call and the body's first call share `deadline`.
template <class F>
int with_expert(caf::actor_system& sys, const options& opts, command_deadline& deadline,
                F body) {
  auto ep = parse_endpoint(opts.node);
  if (!ep)
    return fail(describe(ep.error()));
  node_connections conns{sys};
  remote_expert expert{conns, *ep, opts.uid, deadline.left()};
  auto info = expert.info();
  if (!info)
    return fail(describe(info.error()));
  return body(expert, *info);
}

int print_info(const expert_info& info) {
  std::cout << "uid: " << info.uid << "\nmodule: " << info.module_type
            << "\nparameters: " << info.num_parameters;
  for (size_t i = 0; i < info.inputs.size(); ++i)
    std::cout << "\ninput[" << i << "]: " << schema_string(info.inputs[i]);
  for (size_t i = 0; i < info.outputs.size(); ++i)
    std::cout << "\noutput[" << i << "]: " << schema_string(info.outputs[i]);
  std::cout << "\nmax_batch_size: " << info.max_batch_size << "\nupdates: " << info.updates
            << "\nforward_samples: " << info.forward_samples
            << "\nbackward_samples: " << info.backward_samples
            << "\nforward_batches: " << info.forward_batches
            << "\nbackward_batches: " << info.backward_batches
            << "\nexpired_requests: " << info.expired_requests
            << "\nexpired_rows: " << info.expired_rows << std::endl;
  return 0;
}

/// Forward of --input files (or a random batch), timed over --repeat calls:
/// the first ends by the command's deadline, each further one gets its own
/// --timeout-ms.
int timed_forward(remote_expert& expert, const expert_info& info, const options& opts,
                  command_deadline& deadline) {
  auto inputs = opts.inputs.empty() ? random_inputs(info, opts) : read_files(opts.inputs);
  if (!inputs)
    return fail(describe(inputs.error()));
  if (!opts.inputs.empty())
    if (auto err = check_schema(*inputs, info.inputs, "--input", "input"))
      return fail(describe(err));
  auto blobs = blobs_of(*inputs);
  auto batch = opts.batch;
  if (!opts.inputs.empty())
    batch = wire::decode(blobs.front().bytes)->shape.front(); // checked by check_schema
  std::vector<double> rtts;
  std::vector<tensor_blob> outputs;
  for (int64_t i = 0; i < opts.repeat; ++i) {
    if (i > 0)
      deadline.restart(timeout_of(opts));
    expert.set_timeout(deadline.left());
    auto start = std::chrono::steady_clock::now();
    auto out = expert.forward(blobs);
    rtts.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    if (!out)
      return fail(describe(out.error()));
    outputs = std::move(*out);
  }
  deadline.disarm();
  if (auto rc = report(outputs, "output", opts); rc != 0)
    return rc;
  std::sort(rtts.begin(), rtts.end());
  std::cout << "round_trip_ms: median " << rtts[rtts.size() / 2] << " min " << rtts.front()
            << " max " << rtts.back() << " (" << rtts.size() << " calls, batch " << batch
            << ")" << std::endl;
  return 0;
}

int file_backward(remote_expert& expert, const expert_info& info, const options& opts,
                  command_deadline& deadline) {
  auto inputs = read_files(opts.inputs);
  if (!inputs)
    return fail(describe(inputs.error()));
  if (auto err = check_schema(*inputs, info.inputs, "--input", "input"))
    return fail(describe(err));
  auto grads = read_files(opts.grads);
  if (!grads)
    return fail(describe(grads.error()));
  if (auto err = check_schema(*grads, info.outputs, "--grad", "output"))
    return fail(describe(err));
  expert.set_timeout(deadline.left());
  auto out = expert.backward(blobs_of(*inputs), blobs_of(*grads));
  if (!out)
    return fail(describe(out.error()));
  deadline.disarm();
  auto rc = report(*out, "grad_input", opts);
  std::cout << std::flush;
  return rc;
}

/// --node and --timeout-ms.
void add_common(CLI::App* cmd, options& opts) {
  cmd->add_option("--node", opts.node, "HOST:PORT or [IPV6]:PORT of a colony-node")->required();
  cmd->add_option("--timeout-ms", opts.timeout_ms,
                  "deadline of the command: connecting, the info call and the call share "
                  "it; each further call of --repeat gets its own. The command ends by it "
                  "(+1 s at most) whatever the node does")
    ->check(CLI::Range(1, 3600000));
}

/// A repeatable file option, one file per occurrence.
CLI::Option* add_files(CLI::App* cmd, const std::string& name, std::vector<std::string>& to,
                       const std::string& what) {
  return cmd->add_option(name, to, what)
    ->expected(1)
    ->allow_extra_args(false)
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

constexpr const char* file_help =
  "torch.save file of a tensor or a list of tensors (repeatable; in input order)";

} // namespace

expert_subcommands add_expert_commands(CLI::App& app, options& opts) {
  expert_subcommands cmds;
  auto expert = app.add_subcommand("expert", "talk to experts on a node");
  expert->require_subcommand(1);
  cmds.info = expert->add_subcommand("info", "print an expert's schema and counters");
  add_common(cmds.info, opts);
  cmds.info->add_option("--uid", opts.uid, "expert uid")->required();
  cmds.forward = expert->add_subcommand(
    "forward", "run a forward pass on --input files (default: a random batch); print shapes "
               "and time");
  add_common(cmds.forward, opts);
  cmds.forward->add_option("--uid", opts.uid, "expert uid")->required();
  auto input = add_files(cmds.forward, "--input", opts.inputs, file_help);
  cmds.forward->add_option("--output", opts.output, "write the outputs here (torch.save)");
  cmds.forward->add_option("--batch", opts.batch, "batch size of the random batch")
    ->check(CLI::Range(1, 1 << 20))
    ->excludes(input);
  cmds.forward->add_option("--seq-len", opts.seq_len, "length of '*' dims (random batch)")
    ->check(CLI::Range(1, 1 << 16))
    ->excludes(input);
  cmds.forward->add_option("--repeat", opts.repeat, "calls to time")->check(CLI::Range(1, 100000));
  cmds.backward = expert->add_subcommand(
    "backward", "run a backward pass (the expert also takes its optimizer step); print the "
                "input gradients' shapes");
  add_common(cmds.backward, opts);
  cmds.backward->add_option("--uid", opts.uid, "expert uid")->required();
  add_files(cmds.backward, "--input", opts.inputs, file_help)->required();
  add_files(cmds.backward, "--grad", opts.grads,
            "torch.save file of the outputs' gradients (repeatable; in output order)")
    ->required();
  cmds.backward->add_option("--output", opts.output,
                            "write the input gradients here (torch.save)");
  cmds.list = expert->add_subcommand("list", "list the uids a node serves");
  add_common(cmds.list, opts);
  add_tensor_commands(app, opts, cmds);
  return cmds;
}

int run_expert_command(caf::actor_system& sys, const expert_subcommands& cmds,
                       const options& opts) {
  if (cmds.info->parsed())
    return cmd_expert_info(sys, opts);
  if (cmds.forward->parsed())
    return cmd_expert_forward(sys, opts);
  if (cmds.backward->parsed())
    return cmd_expert_backward(sys, opts);
  return cmd_expert_list(sys, opts);
}

int cmd_expert_info(caf::actor_system& sys, const options& opts) {
  command_deadline deadline{"expert info", timeout_of(opts)};
  return with_expert(sys, opts, deadline,
                     [](remote_expert&, const expert_info& info) { return print_info(info); });
}

int cmd_expert_forward(caf::actor_system& sys, const options& opts) {
  command_deadline deadline{"expert forward", timeout_of(opts)};
  return with_expert(sys, opts, deadline, [&](remote_expert& expert, const expert_info& info) {
    return timed_forward(expert, info, opts, deadline);
  });
}

int cmd_expert_backward(caf::actor_system& sys, const options& opts) {
  command_deadline deadline{"expert backward", timeout_of(opts)};
  return with_expert(sys, opts, deadline, [&](remote_expert& expert, const expert_info& info) {
    return file_backward(expert, info, opts, deadline);
  });
}

int cmd_expert_list(caf::actor_system& sys, const options& opts) {
  command_deadline deadline{"expert list", timeout_of(opts)};
  auto ep = parse_endpoint(opts.node);
  if (!ep)
    return fail(describe(ep.error()));
  node_connections conns{sys};
  auto uids = list_experts(conns, *ep, deadline.left());
  if (!uids)
    return fail(describe(uids.error()));
  for (auto& uid : *uids)
    std::cout << uid << "\n";
  return 0;
}

} // namespace colony::cli
