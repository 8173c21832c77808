// expert_spec_msg <-> expert_group_config through the node config parser
// (runtime/expert_spec_wire.hpp): the spec becomes the YAML of a one-group
// config `experts: [{uid: P.*, count: N, ...}]`, parse_node_config checks
// it, and "experts[0]" in its error context is renamed "spec".

#include "runtime/expert_spec_wire.hpp"

#include <charconv>
#include <cmath>
#include <exception>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "messages/errc.hpp"
#include "runtime/yaml_reader.hpp"

namespace colony {

namespace {

const yaml::key_list optimizer_keys{"lr",           "momentum",     "beta1",
                                    "beta2",        "eps",          "weight_decay",
                                    "clip_grad_norm", "warmup_steps", "total_steps",
                                    "accumulate_rows"};

const yaml::key_list spec_keys{"max_batch_size", "module", "optimizer", "checkpoint"};

/// The shortest text that reads back as `x` ("0.001", "nan", "-1").
std::string real_text(double x) {
  if (!std::isfinite(x))
    return std::isnan(x) ? "nan" : (x > 0 ? "inf" : "-inf");
  if (x == std::floor(x) && std::fabs(x) < 1e15) // integers as integers
    return std::to_string(static_cast<int64_t>(x));
  char buf[64];
  auto end = std::to_chars(buf, buf + sizeof(buf), x).ptr;
  return std::string(buf, end);
}

/// Renames the group's path in a parser error: "experts[0].x" -> "spec.x".
caf::error renamed(const caf::error& err) {
  auto text = context_of(err);
  for (auto [from, to] : {std::pair{"experts[0].uid: ", "prefix: "},
                          std::pair{"experts[0].count: ", "count: "}})
    if (text.rfind(from, 0) == 0)
      text = to + text.substr(std::string{from}.size());
  const std::string from = "experts[0]";
  for (auto i = text.find(from); i != std::string::npos; i = text.find(from, i))
    text.replace(i, from.size(), "spec");
  return make_error(errc::bad_config, text);
}

caf::expected<expert_group_config> parse_group(const YAML::Node& group) {
  YAML::Node root{YAML::NodeType::Map};
  root["experts"].push_back(group);
  auto cfg = parse_node_config(YAML::Dump(root));
  if (!cfg)
    return renamed(cfg.error());
  return std::move(cfg->experts.at(0));
}

caf::error check_param_keys(const expert_spec_msg& msg) {
  for (const auto& [key, value] : msg.optimizer_params)
    if (!yaml::contains(optimizer_keys, key))
      return yaml::bad("spec.optimizer", "unknown parameter '" + key + "' (allowed: "
                                           + yaml::join(optimizer_keys, ", ") + ")");
  for (const auto& [key, value] : msg.module_params)
    if (key == "type" || key == "seed")
      return yaml::bad("spec.module." + key, "is a field of the spec, not a module parameter");
  return {};
}

YAML::Node group_node(const expert_spec_msg& msg, const std::string& prefix, uint32_t count) {
  YAML::Node g{YAML::NodeType::Map};
  g["uid"] = prefix + ".*";
  g["count"] = std::to_string(count);
  g["max_batch_size"] = std::to_string(msg.max_batch_size);
  auto module = g["module"];
  module["type"] = msg.module_type;
  module["seed"] = std::to_string(msg.module_seed);
  for (const auto& [key, value] : msg.module_params)
    module[key] = real_text(value);
  auto opt = g["optimizer"];
  opt["type"] = msg.optimizer_type;
  for (const auto& [key, value] : msg.optimizer_params)
    opt[key] = real_text(value);
  auto ckpt = g["checkpoint"];
  ckpt["dir"] = msg.checkpoint_dir;
  ckpt["every_updates"] = std::to_string(msg.checkpoint_every_updates);
  ckpt["load"] = msg.checkpoint_load ? "true" : "false";
  ckpt["on_mismatch"] = msg.checkpoint_on_mismatch;
  return g;
}

} // namespace

expert_spec_msg to_wire(const expert_group_config& group) {
  expert_spec_msg m;
  m.max_batch_size = group.max_batch_size;
  m.module_type = group.module.type;
  m.module_params = group.module.params;
  m.module_seed = group.module.seed;
  const auto& o = group.optimizer;
  m.optimizer_type = o.type;
  m.optimizer_params = {{"lr", o.lr},
                        {"momentum", o.momentum},
                        {"beta1", o.beta1},
                        {"beta2", o.beta2},
                        {"eps", o.eps},
                        {"weight_decay", o.weight_decay},
                        {"clip_grad_norm", o.clip_grad_norm},
                        {"warmup_steps", static_cast<double>(o.warmup_steps)},
                        {"total_steps", static_cast<double>(o.total_steps)},
                        {"accumulate_rows", static_cast<double>(o.accumulate_rows)}};
  m.checkpoint_dir = group.checkpoint.dir;
  m.checkpoint_every_updates = group.checkpoint.every_updates;
  m.checkpoint_load = group.checkpoint.load;
  m.checkpoint_on_mismatch = group.checkpoint.on_mismatch;
  return m;
}

caf::expected<expert_group_config> from_wire(const expert_spec_msg& msg,
                                             const std::string& prefix, uint32_t count) {
  if (msg.module_type.empty())
    return yaml::bad("spec.module.type", "required");
  if (auto err = check_param_keys(msg))
    return err;
  try {
    return parse_group(group_node(msg, prefix, count));
  } catch (const std::exception& e) {
    return make_error(errc::bad_config, std::string{"spec: "} + e.what());
  }
}

caf::expected<expert_spec_msg> spec_from_yaml(const std::string& yaml_text) {
  try {
    auto doc = YAML::Load(yaml_text);
    if (!doc.IsMap())
      return yaml::bad("spec", "expected a map of max_batch_size, module, optimizer, "
                               "checkpoint, got " + yaml::show(doc));
    YAML::Node g{YAML::NodeType::Map};
    g["uid"] = "spec.*";
    g["count"] = "1";
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      auto key = it->first.Scalar();
      if (key == "uid" || key == "count")
        return yaml::bad("spec." + key, "not allowed in a spec file (the node names the "
                                        "experts from --prefix and --count)");
      if (!yaml::contains(spec_keys, key))
        return yaml::bad("spec", "unknown key '" + key + "' (allowed: "
                                   + yaml::join(spec_keys, ", ") + ")");
      if (g[key].IsDefined() && !g[key].IsNull())
        return yaml::bad("spec." + key, "duplicate key");
      g[key] = it->second;
    }
    auto group = parse_group(g);
    if (!group)
      return group.error();
    return to_wire(*group);
  } catch (const YAML::Exception& e) {
    return make_error(errc::bad_config, std::string{"spec: invalid YAML: "} + e.what());
  }
}

} // namespace colony
