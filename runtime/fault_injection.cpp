#include "runtime/fault_injection.hpp"

#include "messages/errc.hpp"

namespace colony {

caf::expected<fault_config::delay_kind> parse_delay_kind(const std::string& text) {
  using kind = fault_config::delay_kind;
  if (text == "none")
    return kind::none;
  if (text == "fixed")
    return kind::fixed;
  if (text == "exponential")
    return kind::exponential;
  if (text == "uniform")
    return kind::uniform;
  return make_error(errc::bad_config, "unknown delay distribution '" + text
                                        + "' (want none|fixed|exponential|uniform)");
}

fault_injection::fault_injection(fault_config cfg)
  : cfg_(cfg), rng_(cfg.seed), noop_(cfg.is_noop()) {
  // nop
}

void fault_injection::set(fault_config cfg) {
  std::lock_guard<std::mutex> guard{mx_};
  cfg_ = cfg;
  rng_.seed(cfg.seed);
  noop_ = cfg.is_noop();
}

fault_config fault_injection::config() {
  std::lock_guard<std::mutex> guard{mx_};
  return cfg_;
}

fault_verdict fault_injection::next() {
  fault_verdict result;
  if (is_noop())
    return result;
  std::lock_guard<std::mutex> guard{mx_};
  if (cfg_.drop_probability > 0) {
    std::bernoulli_distribution drop{std::min(cfg_.drop_probability, 1.0)};
    result.drop = drop(rng_);
  }
  result.delay = sample_delay();
  return result;
}

std::chrono::nanoseconds fault_injection::sample_delay() {
  double ms = 0;
  if (cfg_.delay_ms <= 0)
    return std::chrono::nanoseconds{0};
  switch (cfg_.delay) {
    case fault_config::delay_kind::none:
      break;
    case fault_config::delay_kind::fixed:
      ms = cfg_.delay_ms;
      break;
    case fault_config::delay_kind::exponential:
      ms = std::exponential_distribution<double>{1.0 / cfg_.delay_ms}(rng_);
      break;
    case fault_config::delay_kind::uniform:
      ms = std::uniform_real_distribution<double>{0, 2 * cfg_.delay_ms}(rng_);
      break;
  }
  return std::chrono::nanoseconds{static_cast<int64_t>(ms * 1e6)};
}

} // namespace colony
