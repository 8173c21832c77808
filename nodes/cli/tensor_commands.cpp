// colony tensor encode|decode: a torch.save file <-> the colony.v1.Tensor
// bytes Colony sends for it (messages/colony/v1/tensor.proto).
#include <fstream>
#include <iostream>
#include <iterator>

#include "messages/errc.hpp"
#include "messages/wire/tensor_codec.hpp"
#include "nodes/cli/commands.hpp"
#include "nodes/cli/fail.hpp"
#include "nodes/cli/tensor_files.hpp"

namespace colony::cli {

namespace {

caf::expected<std::string> read_binary(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return make_error(errc::io_failed, "cannot read '" + path + "'");
  return std::string{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

caf::error write_binary(const std::string& path, const std::string& bytes) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out)
    return make_error(errc::io_failed, "cannot write '" + path + "'");
  return {};
}

std::string summary(const std::string& bytes) {
  auto t = wire::decode(bytes);
  return t ? wire::shape_string(t->shape) + " " + wire::to_string(t->type) : "?";
}

} // namespace

void add_tensor_commands(CLI::App& app, options& opts, expert_subcommands& cmds) {
  auto tensor = app.add_subcommand("tensor", "convert tensors between torch.save files and "
                                             "Colony's wire bytes (colony.v1.Tensor)");
  tensor->require_subcommand(1);
  cmds.encode = tensor->add_subcommand("encode", "torch.save file of one tensor -> wire bytes");
  cmds.encode->add_option("--input", opts.inputs, "torch.save file of one tensor")
    ->expected(1)
    ->required();
  cmds.encode->add_option("--output", opts.output, "file for the colony.v1.Tensor bytes")
    ->required();
  cmds.encode->add_option("--compression", opts.compression,
                          "none|float16|uint8 (lossy modes: float32 tensors only)")
    ->check(CLI::IsMember({"none", "float16", "uint8"}));
  cmds.decode = tensor->add_subcommand("decode", "wire bytes -> torch.save file of the tensor");
  cmds.decode->add_option("--input", opts.inputs, "file of colony.v1.Tensor bytes")
    ->expected(1)
    ->required();
  cmds.decode->add_option("--output", opts.output, "torch.save file to write")->required();
}

int run_tensor_command(const expert_subcommands& cmds, const options& opts) {
  if (cmds.encode->parsed())
    return cmd_tensor_encode(opts);
  return cmd_tensor_decode(opts);
}

int cmd_tensor_encode(const options& opts) {
  wire::compression mode = wire::compression::none;
  wire::from_string(opts.compression, mode);
  auto& in = opts.inputs.front();
  auto ts = read_tensor_file(in, mode);
  if (!ts)
    return fail(describe(ts.error()));
  if (ts->size() != 1)
    return fail("--input '" + in + "' holds " + std::to_string(ts->size())
                + " tensors; tensor encode takes a file of one tensor");
  if (auto err = write_binary(opts.output, ts->front()))
    return fail(describe(err));
  std::cout << "encoded " << summary(ts->front()) << " compression=" << opts.compression
            << " bytes=" << ts->front().size() << " to " << opts.output << std::endl;
  return 0;
}

int cmd_tensor_decode(const options& opts) {
  auto& in = opts.inputs.front();
  auto bytes = read_binary(in);
  if (!bytes)
    return fail(describe(bytes.error()));
  auto t = wire::decode(*bytes);
  if (!t)
    return fail("--input '" + in + "': " + describe(t.error()));
  if (auto err = write_tensor_file(opts.output, {*bytes}))
    return fail(describe(err));
  std::cout << "decoded " << summary(*bytes) << " to " << opts.output << std::endl;
  return 0;
}

} // namespace colony::cli
