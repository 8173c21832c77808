// Expert modules and the spec registry. A spec is a name ("ffn") plus numeric
// params; each spec lives in one file under expert/specs/ and registers
// itself with COLONY_REGISTER_EXPERT_SPEC. colony_experts is a shared
// library so that those self-registering objects are always linked in.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <torch/nn/module.h>
#include <torch/types.h>

#include "messages/expert_messages.hpp"
#include "runtime/node_config.hpp"

namespace colony::expert {

/// A LibTorch module that maps a list of batched inputs to batched outputs
/// (dim 0 is the batch in every input and output).
class expert_module : public torch::nn::Module {
public:
  virtual std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& inputs) = 0;
};

/// A constructed module with its input/output schema.
struct built_module {
  std::shared_ptr<expert_module> module;
  std::vector<tensor_schema> inputs;
  std::vector<tensor_schema> outputs;
};

/// Typed, checked access to a spec's numeric params; remembers which keys
/// were read so that unknown keys become an error naming them.
class spec_params {
public:
  explicit spec_params(const module_config& cfg);

  /// Integer param >= min_value (default used when absent).
  int64_t get_int(const std::string& key, int64_t fallback, int64_t min_value = 1);

  /// Real param in [min_value, max_value].
  double get_real(const std::string& key, double fallback, double min_value,
                  double max_value);

  /// Error for the first unknown key or bad value seen, none otherwise.
  caf::error finish() const;

  /// Every key read so far with the value it got (default when absent).
  const std::map<std::string, double>& resolved() const { return resolved_; }

private:
  const module_config& cfg_;
  std::set<std::string> used_;
  std::map<std::string, double> resolved_;
  caf::error first_error_;
};

using spec_factory = std::function<caf::expected<built_module>(spec_params&)>;

/// Adds a spec; returns false if the name is taken.
bool register_spec(const std::string& name, spec_factory factory);

/// Names of all registered specs, sorted.
std::vector<std::string> spec_names();

/// Builds the module of `cfg` with parameters initialized from cfg.seed
/// (same config -> bit-identical parameters). Errors: errc::bad_config.
caf::expected<built_module> make_module(const module_config& cfg);

/// make_module that also sets `resolved` to every param the spec read with
/// the value it used, defaults included (the module's structure, recorded
/// in checkpoints).
caf::expected<built_module> make_module(const module_config& cfg,
                                        std::map<std::string, double>& resolved);

} // namespace colony::expert

#define COLONY_SPEC_CONCAT2(a, b) a##b
#define COLONY_SPEC_CONCAT(a, b) COLONY_SPEC_CONCAT2(a, b)
/// Registers `factory` under `name` at load time.
#define COLONY_REGISTER_EXPERT_SPEC(name, factory)                                  \
  static const bool COLONY_SPEC_CONCAT(colony_spec_registered_, __COUNTER__)       \
    = ::colony::expert::register_spec(name, factory)
