// The CLI's expert and tensor commands; each returns the process exit code
// (0 ok, 2 failure) and prints a one-line reason "colony: error: ..." on
// failure. Tensor files are torch.save files (nodes/cli/tensor_files.hpp).
//   colony expert info     --node HOST:PORT --uid UID
//   colony expert forward  --node HOST:PORT --uid UID [--batch N]
//   colony expert forward  --node HOST:PORT --uid UID --input F... [--output F]
//   colony expert backward --node HOST:PORT --uid UID --input F... --grad F... [--output F]
//   colony expert list     --node HOST:PORT
//   colony tensor encode   --input F.pt --output F.bin [--compression none|float16|uint8]
//   colony tensor decode   --input F.bin --output F.pt
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>

namespace colony::cli {

struct options {
  std::string node;
  std::string uid;
  int64_t batch = 1;
  int64_t seq_len = 8;
  int64_t repeat = 1;
  int64_t timeout_ms = 5000;
  std::vector<std::string> inputs; ///< --input files (forward, backward, tensor)
  std::vector<std::string> grads;  ///< --grad files (backward)
  std::string output;              ///< --output file
  std::string compression = "none";
};

/// The subcommands add_expert_commands registered.
struct expert_subcommands {
  CLI::App* info = nullptr;
  CLI::App* forward = nullptr;
  CLI::App* backward = nullptr;
  CLI::App* list = nullptr;
  CLI::App* encode = nullptr;
  CLI::App* decode = nullptr;
};

/// Registers `expert info|forward|backward|list` and `tensor encode|decode`
/// on `app`, writing their arguments to `opts`.
expert_subcommands add_expert_commands(CLI::App& app, options& opts);

/// Registers `tensor encode|decode` (part of add_expert_commands).
void add_tensor_commands(CLI::App& app, options& opts, expert_subcommands& cmds);

/// True when a command that needs no actor system (`tensor ...`) was parsed.
inline bool offline(const expert_subcommands& cmds) {
  return cmds.encode->parsed() || cmds.decode->parsed();
}

/// Runs the parsed `tensor` command; its exit code.
int run_tensor_command(const expert_subcommands& cmds, const options& opts);

/// Runs whichever `expert` command of `cmds` was parsed; its exit code.
int run_expert_command(caf::actor_system& sys, const expert_subcommands& cmds,
                       const options& opts);

int cmd_expert_info(caf::actor_system& sys, const options& opts);
int cmd_expert_forward(caf::actor_system& sys, const options& opts);
int cmd_expert_backward(caf::actor_system& sys, const options& opts);
int cmd_expert_list(caf::actor_system& sys, const options& opts);
int cmd_tensor_encode(const options& opts);
int cmd_tensor_decode(const options& opts);

} // namespace colony::cli
