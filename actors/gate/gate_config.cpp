#include "actors/gate/gate_config.hpp"

#include <cmath>

#include "messages/errc.hpp"

namespace colony::gate {

namespace {

caf::error bad(const std::string& path, const std::string& what) {
  return make_error(errc::bad_config, path + what);
}

bool positive_finite(double x) {
  return std::isfinite(x) && x > 0;
}

} // namespace

caf::error validate(const gate_config& cfg, const std::string& path) {
  if (auto err = validate_grid(cfg.grid))
    return bad(path, "grid: " + context_of(err));
  if (cfg.input_dim == 0)
    return bad(path, "dim: must be positive");
  if (cfg.k_best == 0)
    return bad(path, "k_best: must be positive");
  if (cfg.k_min < 1 || cfg.k_min > cfg.k_best)
    return bad(path, "k_min: must be in [1, k_best=" + std::to_string(cfg.k_best) + "]");
  if (cfg.backward_k_min < 1 || cfg.backward_k_min > cfg.k_best)
    return bad(path, "backward_k_min: must be in [1, k_best]");
  if (cfg.beam() < cfg.k_best)
    return bad(path, "beam_size: must be at least k_best");
  if (!positive_finite(cfg.forward_timeout_s))
    return bad(path, "forward_timeout: must be a positive number of seconds");
  if (!positive_finite(cfg.backward_timeout_s))
    return bad(path, "backward_timeout: must be a positive number of seconds");
  if (!std::isfinite(cfg.timeout_after_k_min_s) || cfg.timeout_after_k_min_s < 0)
    return bad(path, "timeout_after_k_min: must be >= 0 seconds");
  double experts = 1;
  for (auto d : cfg.grid.dims)
    experts *= d;
  if (experts < cfg.k_best)
    return bad(path, "grid: " + std::to_string(static_cast<uint64_t>(experts))
                       + " experts cannot fill k_best=" + std::to_string(cfg.k_best));
  if (!positive_finite(cfg.cache.expiry_s) || !positive_finite(cfg.cache.negative_expiry_s))
    return bad(path, "cache expiry: must be positive");
  return caf::none;
}

} // namespace colony::gate
