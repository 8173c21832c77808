// The `faults:` section: YAML -> node_faults, every key checked.
#include "runtime/node_faults.hpp"

#include <string>

#include <yaml-cpp/yaml.h>

#include "runtime/yaml_reader.hpp"

namespace colony {

namespace {

using namespace colony::yaml;

/// The streams of one section; each gets its own derived seed.
enum stream : uint64_t { expert_stream = 1, dht_stream = 2, crash_stream = 3 };

constexpr real_range closed_unit{0, false, 1, false, "[0, 1]"};

/// A latency map {distribution, mean_ms}: mean_ms is required unless the
/// distribution is none.
caf::error parse_latency(const YAML::Node& yaml, const std::string& path,
                         fault_config& out) {
  if (absent(yaml))
    return {};
  std::string kind = "none";
  map_reader r{yaml, path, {"distribution", "mean_ms"}};
  r.require("distribution")
    .choice("distribution", {"none", "fixed", "exponential", "uniform"}, kind);
  if (!r.error() && kind != "none")
    r.require("mean_ms").real("mean_ms", positive, out.delay_ms);
  if (r.error())
    return r.error();
  out.delay = *parse_delay_kind(kind);
  if (out.delay == fault_config::delay_kind::none)
    out.delay_ms = 0;
  return {};
}

} // namespace

uint64_t derive_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + stream * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t node_faults::crash_seed() const {
  return derive_seed(seed, crash_stream);
}

caf::error parse_node_faults(const YAML::Node& yaml, node_faults& out) {
  if (absent(yaml))
    return {};
  node_faults f;
  map_reader r{yaml, "faults", {"latency", "dht_latency", "fail_fraction",
                                "crash_rate_per_min", "seed"}};
  r.real("fail_fraction", closed_unit, f.expert_calls.drop_probability)
    .real("crash_rate_per_min", non_negative, f.crash_rate_per_min)
    .integer("seed", 0, f.seed);
  if (r.error())
    return r.error();
  fault_config latency;
  if (auto err = parse_latency(yaml["latency"], "faults.latency", latency))
    return err;
  f.expert_calls.delay = latency.delay;
  f.expert_calls.delay_ms = latency.delay_ms;
  f.dht = latency;
  if (!absent(yaml["dht_latency"])) {
    f.dht = fault_config{};
    if (auto err = parse_latency(yaml["dht_latency"], "faults.dht_latency", f.dht))
      return err;
  }
  f.expert_calls.seed = derive_seed(f.seed, expert_stream);
  f.dht.seed = derive_seed(f.seed, dht_stream);
  out = f;
  return {};
}

} // namespace colony
