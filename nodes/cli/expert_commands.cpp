#include <algorithm>
#include <iostream>
#include <random>

#include "actors/client/remote_expert.hpp"
#include "messages/errc.hpp"
#include "messages/wire/tensor_codec.hpp"
#include "nodes/cli/commands.hpp"

namespace colony::cli {

namespace {

int fail(const std::string& what) {
  std::cerr << "colony: error: " << what << "\n";
  return 2;
}

std::string schema_string(const tensor_schema& s) {
  return shape_string(s) + " " + s.dtype;
}

caf::timespan timeout_of(const options& opts) {
  return std::chrono::milliseconds{opts.timeout_ms};
}

/// A random float32 batch for each input of `info`.
caf::expected<std::vector<tensor_blob>> random_inputs(const expert_info& info,
                                                      const options& opts) {
  std::mt19937 gen{42};
  std::normal_distribution<float> dist;
  std::vector<tensor_blob> out;
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
    out.push_back(tensor_blob{std::move(*bytes)});
  }
  return out;
}

/// Connects to expert `opts.uid` on `opts.node`, fetches its info and runs
/// `body(expert, info)`; a bad endpoint or a failed info call is the error.
template <class F>
int with_expert(caf::actor_system& sys, const options& opts, F body) {
  auto ep = parse_endpoint(opts.node);
  if (!ep)
    return fail(describe(ep.error()));
  node_connections conns{sys};
  remote_expert expert{conns, *ep, opts.uid, timeout_of(opts)};
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
            << "\nbackward_batches: " << info.backward_batches << std::endl;
  return 0;
}

int timed_forward(remote_expert& expert, const expert_info& info, const options& opts) {
  auto inputs = random_inputs(info, opts);
  if (!inputs)
    return fail(describe(inputs.error()));
  std::vector<double> rtts;
  std::vector<tensor_blob> outputs;
  for (int64_t i = 0; i < opts.repeat; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto out = expert.forward(*inputs);
    rtts.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    if (!out)
      return fail(describe(out.error()));
    outputs = std::move(*out);
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto t = wire::decode(std::move(outputs[i].bytes));
    if (!t)
      return fail("output[" + std::to_string(i) + "]: " + describe(t.error()));
    std::cout << "output[" << i << "]: " << wire::shape_string(t->shape) << " "
              << wire::to_string(t->type) << "\n";
  }
  std::sort(rtts.begin(), rtts.end());
  std::cout << "round_trip_ms: median " << rtts[rtts.size() / 2] << " min " << rtts.front()
            << " max " << rtts.back() << " (" << rtts.size() << " calls, batch " << opts.batch
            << ")" << std::endl;
  return 0;
}

} // namespace

int cmd_expert_info(caf::actor_system& sys, const options& opts) {
  return with_expert(sys, opts,
                     [](remote_expert&, const expert_info& info) { return print_info(info); });
}

int cmd_expert_forward(caf::actor_system& sys, const options& opts) {
  return with_expert(sys, opts, [&](remote_expert& expert, const expert_info& info) {
    return timed_forward(expert, info, opts);
  });
}

int cmd_expert_list(caf::actor_system& sys, const options& opts) {
  auto ep = parse_endpoint(opts.node);
  if (!ep)
    return fail(describe(ep.error()));
  node_connections conns{sys};
  auto uids = list_experts(conns, *ep, timeout_of(opts));
  if (!uids)
    return fail(describe(uids.error()));
  for (auto& uid : *uids)
    std::cout << uid << "\n";
  return 0;
}

} // namespace colony::cli
