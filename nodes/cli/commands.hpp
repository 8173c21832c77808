// The CLI's commands; each returns the process exit code and prints a
// one-line reason on failure.
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor_system.hpp>

namespace colony::cli {

struct options {
  std::string node;
  std::string uid;
  int64_t batch = 1;
  int64_t seq_len = 8;
  int64_t repeat = 1;
  int64_t timeout_ms = 5000;
};

int cmd_expert_info(caf::actor_system& sys, const options& opts);
int cmd_expert_forward(caf::actor_system& sys, const options& opts);
int cmd_expert_list(caf::actor_system& sys, const options& opts);

} // namespace colony::cli
