#include "actors/averaging/averaging_config.hpp"

#include <yaml-cpp/yaml.h>

#include "runtime/yaml_reader.hpp"

namespace colony::averaging {

using namespace colony::yaml;

caf::error validate(const averaging_config& cfg, const std::string& path) {
  auto at = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  if (cfg.run.empty())
    return bad(at("run"), "required");
  if (cfg.min_group < 1 || cfg.min_group > cfg.group_size)
    return bad(at("min_group"), std::to_string(cfg.min_group) + " must be in [1, group_size="
                                  + std::to_string(cfg.group_size) + "]");
  if (!(cfg.join_window_s > 0) || !(cfg.round_timeout_s > 0))
    return bad(at(cfg.join_window_s > 0 ? "round_timeout_s" : "join_window_s"),
               "must be > 0 seconds");
  if (cfg.max_part_bytes < 1024)
    return bad(at("max_part_bytes"), "must be at least 1024");
  return caf::none;
}

caf::expected<averaging_config> parse_averaging_config(const std::string& yaml_text,
                                                       const std::string& path) {
  YAML::Node node;
  try {
    node = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return bad(path.empty() ? "(top level)" : path, std::string{"not YAML: "} + e.what());
  }
  averaging_config cfg;
  std::string compression = "none";
  map_reader r{node, path,
               {"run", "every_steps", "every_s", "group_size", "join_window_s",
                "round_timeout_s", "compression", "min_group", "max_retries",
                "max_part_bytes"}};
  r.require("run")
    .text("run", cfg.run, true)
    .integer("every_steps", 0, cfg.every_steps)
    .real("every_s", non_negative, cfg.every_s)
    .integer("group_size", 1, cfg.group_size, 4096u)
    .real("join_window_s", positive, cfg.join_window_s)
    .real("round_timeout_s", positive, cfg.round_timeout_s)
    .choice("compression", {"none", "float16", "uint8"}, compression)
    .integer("min_group", 1, cfg.min_group, 4096u)
    .integer("max_retries", 0, cfg.max_retries, 16u)
    .integer("max_part_bytes", 1024, cfg.max_part_bytes);
  if (r.error())
    return r.error();
  wire::from_string(compression, cfg.compression);
  if (auto err = validate(cfg, path))
    return err;
  return cfg;
}

bool due(const averaging_config& cfg, uint64_t steps, double elapsed_s) {
  return (cfg.every_steps > 0 && steps >= cfg.every_steps)
         || (cfg.every_s > 0 && elapsed_s >= cfg.every_s);
}

std::string group_key(const std::string& run) {
  return "avg." + run;
}

std::string state_key(const std::string& run) {
  return "avg." + run + ".state";
}

} // namespace colony::averaging
