// load_settings: YAML -> settings, each key checked.
#include "bench/experiments/swarm/settings.hpp"

#include <functional>
#include <map>

#include <yaml-cpp/yaml.h>

#include "messages/errc.hpp"

namespace colony::swarm_exp {

namespace {

using setter = std::function<void(settings&, const YAML::Node&)>;

template <class T>
setter field(T settings::*member) {
  return [member](settings& s, const YAML::Node& n) { s.*member = n.as<T>(); };
}

const std::map<std::string, setter>& setters() {
  static const std::map<std::string, setter> table{
    {"peers", field(&settings::peers)},
    {"declarers", field(&settings::declarers)},
    {"experts_per_declarer", field(&settings::experts_per_declarer)},
    {"gates", field(&settings::gates)},
    {"search_period_s", field(&settings::search_period_s)},
    {"prefix", field(&settings::prefix)},
    {"grid", field(&settings::grid)},
    {"layout", field(&settings::layout)},
    {"k_best", field(&settings::k_best)},
    {"beam_size", field(&settings::beam_size)},
    {"delay_ms", field(&settings::delay_ms)},
    {"churn_per_min", field(&settings::churn_per_min)},
    {"expiration_s", field(&settings::expiration_s)},
    {"update_period_s", field(&settings::update_period_s)},
    {"declare_spread_s", field(&settings::declare_spread_s)},
    {"declare_wait_s", field(&settings::declare_wait_s)},
    {"baseline_s", field(&settings::baseline_s)},
    {"churn_s", field(&settings::churn_s)},
    {"interval_s", field(&settings::interval_s)},
    {"search_timeout_s", field(&settings::search_timeout_s)},
    {"rpc_timeout_s", field(&settings::rpc_timeout_s)},
    {"seed", field(&settings::seed)},
    {"min_baseline_recall", field(&settings::min_baseline_recall)},
    {"min_recall", field(&settings::min_recall)},
    {"min_success", field(&settings::min_success)},
  };
  return table;
}

caf::error check(const settings& s) {
  auto bad = [](const std::string& what) { return make_error(errc::bad_config, what); };
  if (s.peers == 0 || s.declarers == 0 || s.gates == 0 || s.experts_per_declarer == 0)
    return bad("peers, declarers, gates and experts_per_declarer must be positive");
  if (s.declarers + s.gates > s.peers)
    return bad("want declarers + gates <= peers (gates search through non-declaring peers)");
  if (s.declarers * s.experts_per_declarer > grid_cells(s))
    return bad("the grid has fewer cells than declarers * experts_per_declarer");
  if (s.layout != "rows" && s.layout != "scatter")
    return bad("layout must be rows or scatter");
  if (s.layout == "rows" && (s.grid.empty() || s.grid.back() % s.experts_per_declarer != 0))
    return bad("layout rows wants the last grid dim to be a multiple of experts_per_declarer");
  if (s.k_best == 0 || s.beam_size < s.k_best)
    return bad("want 1 <= k_best <= beam_size");
  if (s.update_period_s <= 0 || s.expiration_s <= s.update_period_s)
    return bad("want 0 < update_period_s < expiration_s");
  if (s.interval_s <= 0 || s.search_timeout_s <= 0 || s.rpc_timeout_s <= 0)
    return bad("interval_s, search_timeout_s and rpc_timeout_s must be positive");
  return {};
}

} // namespace

size_t grid_cells(const settings& s) {
  size_t n = 1;
  for (auto d : s.grid)
    n *= d;
  return s.grid.empty() ? 0 : n;
}

caf::expected<settings> load_settings(const std::string& path) {
  settings s;
  try {
    auto root = YAML::LoadFile(path);
    auto node = root["swarm"];
    if (!node || !node.IsMap())
      return make_error(errc::bad_config, path + ": want a map under 'swarm:'");
    for (const auto& kv : node) {
      auto key = kv.first.as<std::string>();
      auto it = setters().find(key);
      if (it == setters().end())
        return make_error(errc::bad_config, path + ": unknown key swarm." + key);
      try {
        it->second(s, kv.second);
      } catch (const YAML::Exception& e) {
        return make_error(errc::bad_config, path + ": swarm." + key + ": " + e.what());
      }
    }
  } catch (const YAML::Exception& e) {
    return make_error(errc::bad_config, path + ": " + e.what());
  }
  if (auto err = check(s))
    return make_error(errc::bad_config, path + ": " + context_of(err));
  return s;
}

} // namespace colony::swarm_exp
