#include "actors/expert/expert_spec.hpp"

#include <cmath>
#include <mutex>

#include <torch/torch.h>

#include "messages/errc.hpp"

namespace colony::expert {

namespace {

std::map<std::string, spec_factory>& specs() {
  static std::map<std::string, spec_factory> instance;
  return instance;
}

std::mutex& seed_mutex() {
  static std::mutex mx;
  return mx;
}

} // namespace

spec_params::spec_params(const module_config& cfg) : cfg_(cfg) {
  // nop
}

int64_t spec_params::get_int(const std::string& key, int64_t fallback,
                             int64_t min_value) {
  used_.insert(key);
  resolved_[key] = static_cast<double>(fallback);
  auto i = cfg_.params.find(key);
  if (i == cfg_.params.end())
    return fallback;
  auto v = i->second;
  if (v != std::floor(v) || v < static_cast<double>(min_value) || v > 1e12) {
    if (!first_error_)
      first_error_ = make_error(errc::bad_config,
                                "module." + key + ": want an integer >= "
                                  + std::to_string(min_value) + ", got "
                                  + std::to_string(v));
    return fallback;
  }
  resolved_[key] = v;
  return static_cast<int64_t>(v);
}

double spec_params::get_real(const std::string& key, double fallback,
                             double min_value, double max_value) {
  used_.insert(key);
  resolved_[key] = fallback;
  auto i = cfg_.params.find(key);
  if (i == cfg_.params.end())
    return fallback;
  auto v = i->second;
  resolved_[key] = v;
  if (!(v >= min_value && v <= max_value)) {
    if (!first_error_)
      first_error_ = make_error(errc::bad_config,
                                "module." + key + ": " + std::to_string(v)
                                  + " out of range " + std::to_string(min_value)
                                  + ".." + std::to_string(max_value));
    return fallback;
  }
  return v;
}

caf::error spec_params::finish() const {
  if (first_error_)
    return first_error_;
  for (auto& kv : cfg_.params)
    if (used_.count(kv.first) == 0) {
      std::string known;
      for (auto& k : used_)
        known += (known.empty() ? "" : ", ") + k;
      return make_error(errc::bad_config, "unknown key 'module." + kv.first
                                            + "' for module type '" + cfg_.type
                                            + "' (known: " + known + ")");
    }
  return caf::none;
}

bool register_spec(const std::string& name, spec_factory factory) {
  return specs().emplace(name, std::move(factory)).second;
}

std::vector<std::string> spec_names() {
  std::vector<std::string> out;
  for (auto& kv : specs())
    out.push_back(kv.first);
  return out;
}

caf::expected<built_module> make_module(const module_config& cfg) {
  std::map<std::string, double> ignored;
  return make_module(cfg, ignored);
}

caf::expected<built_module> make_module(const module_config& cfg,
                                        std::map<std::string, double>& resolved) {
  auto i = specs().find(cfg.type);
  if (i == specs().end()) {
    std::string known;
    for (auto& n : spec_names())
      known += (known.empty() ? "" : ", ") + n;
    return make_error(errc::bad_config, "module.type: unknown spec '" + cfg.type
                                          + "' (known: " + known + ")");
  }
  spec_params params{cfg};
  // torch's default generator is global: seed and construct under one lock so
  // that the same config always yields bit-identical parameters.
  std::lock_guard<std::mutex> guard{seed_mutex()};
  torch::manual_seed(cfg.seed);
  auto built = i->second(params);
  if (auto err = params.finish())
    return err;
  resolved = params.resolved();
  return built;
}

} // namespace colony::expert
