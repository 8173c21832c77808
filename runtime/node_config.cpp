// Node configuration: YAML text -> node_config. Every section has one parse
// function; every error is errc::bad_config with a context naming the key.

#include "runtime/node_config.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "messages/errc.hpp"
#include "messages/expert_uid.hpp"
#include "runtime/endpoint.hpp"
#include "runtime/yaml_reader.hpp"

namespace colony {

namespace {

using namespace colony::yaml;

// -- uids ---------------------------------------------------------------------

bool is_pattern(const std::string& uid) {
  return uid.size() >= 2 && uid.compare(uid.size() - 2, 2, ".*") == 0;
}

/// The grammar of messages/expert_uid.hpp; a pattern ends in ".*" instead
/// of a last coordinate.
bool valid_uid_or_pattern(const std::string& uid) {
  return is_valid_uid(is_pattern(uid) ? uid.substr(0, uid.size() - 1) + "0" : uid);
}

caf::error check_uid(const expert_group_config& g, const std::string& path) {
  if (!valid_uid_or_pattern(g.uid))
    return bad(path + ".uid",
               "invalid uid '" + g.uid + "' (want prefix.i.j... with integer "
               "coordinates without leading zeros, '*' only as the last one)");
  if (!is_pattern(g.uid) && g.count != 1)
    return bad(path + ".count", "must be 1 for uid '" + g.uid + "' without '*', got "
                                  + std::to_string(g.count));
  return {};
}

/// The first uid that two groups both produce, if any. A group produces
/// base.first ... base.(first + count - 1), where first is 0 for a pattern.
std::optional<std::string> overlap(const expert_group_config& a,
                                   const expert_group_config& b) {
  auto base = [](const std::string& uid) { return uid.substr(0, uid.rfind('.')); };
  auto first = [](const std::string& uid) -> uint64_t {
    return is_pattern(uid) ? 0 : *parse_coordinate(uid.substr(uid.rfind('.') + 1));
  };
  if (base(a.uid) != base(b.uid))
    return std::nullopt;
  auto lo = std::max(first(a.uid), first(b.uid));
  if (lo >= std::min(first(a.uid) + a.count, first(b.uid) + b.count))
    return std::nullopt;
  return base(a.uid) + "." + std::to_string(lo);
}

caf::error check_duplicates(const std::vector<expert_group_config>& groups) {
  for (size_t i = 1; i < groups.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (auto dup = overlap(groups[j], groups[i]))
        return bad("experts[" + std::to_string(i) + "].uid",
                   "duplicate expert uid '" + *dup + "' (also in experts["
                     + std::to_string(j) + "])");
  return {};
}

// -- sections -----------------------------------------------------------------

caf::error parse_node_section(const YAML::Node& yaml, node_config& cfg) {
  map_reader r{yaml, "node", {"host", "port", "scheduler_threads", "torch_threads",
                              "compute_slots", "max_message_bytes"}};
  r.text("host", cfg.host, true)
    .integer("port", 0, cfg.port)
    .integer("scheduler_threads", 1, cfg.scheduler_threads)
    .integer("torch_threads", 0, cfg.torch_threads)
    .integer("compute_slots", 1, cfg.compute_slots)
    .integer("max_message_bytes", 1024, cfg.max_message_bytes);
  return r.error();
}

caf::error parse_log_section(const YAML::Node& yaml, node_config& cfg) {
  auto& l = cfg.log;
  map_reader r{yaml, "log", {"level", "file", "format", "max_file_bytes", "max_files",
                             "ring_lines"}};
  r.choice("level", {"trace", "debug", "info", "warn", "error", "off"}, l.level)
    .text("file", l.file)
    .choice("format", {"text", "json"}, l.format)
    .integer("max_file_bytes", 1024, l.max_file_bytes)
    .integer("max_files", 1, l.max_files, 1000)
    .integer("ring_lines", 1, l.ring_lines, 100000);
  return r.error();
}

caf::error parse_module(const YAML::Node& yaml, const std::string& path,
                        module_config& m) {
  map_reader r{yaml, path, {}};
  r.require("type").text("type", m.type, true).integer("seed", 0, m.seed);
  for (const auto& key : r.keys())
    if (key != "type" && key != "seed")
      r.real(key, any_real, m.params[key]);
  return r.error();
}

caf::error parse_optimizer(const YAML::Node& yaml, const std::string& path,
                           optimizer_config& o) {
  map_reader r{yaml, path, {"type", "lr", "momentum", "beta1", "beta2", "eps",
                            "weight_decay", "clip_grad_norm", "warmup_steps",
                            "total_steps", "accumulate_rows"}};
  r.choice("type", {"adam", "sgd"}, o.type)
    .real("lr", positive, o.lr)
    .real("momentum", unit_interval, o.momentum)
    .real("beta1", unit_interval, o.beta1)
    .real("beta2", unit_interval, o.beta2)
    .real("eps", positive, o.eps)
    .real("weight_decay", non_negative, o.weight_decay)
    .real("clip_grad_norm", non_negative, o.clip_grad_norm)
    .integer("warmup_steps", 0, o.warmup_steps)
    .integer("total_steps", 0, o.total_steps)
    .integer("accumulate_rows", 0, o.accumulate_rows);
  if (!r.error() && o.total_steps > 0 && o.total_steps <= o.warmup_steps)
    return bad(r.path_of("total_steps"),
               std::to_string(o.total_steps) + " must be greater than warmup_steps ("
                 + std::to_string(o.warmup_steps) + ")");
  return r.error();
}

caf::error parse_checkpoint(const YAML::Node& yaml, const std::string& path,
                            checkpoint_config& c) {
  map_reader r{yaml, path, {"dir", "every_updates", "load", "on_mismatch"}};
  r.text("dir", c.dir)
    .integer("every_updates", 0, c.every_updates)
    .boolean("load", c.load)
    .choice("on_mismatch", {"fail", "fresh"}, c.on_mismatch);
  return r.error();
}

caf::error parse_group(const YAML::Node& yaml, const std::string& path,
                       expert_group_config& g) {
  map_reader r{yaml, path, {"uid", "count", "max_batch_size", "module", "optimizer",
                            "checkpoint"}};
  r.require("uid")
    .text("uid", g.uid)
    .integer("count", 1, g.count)
    .integer("max_batch_size", 1, g.max_batch_size)
    .require("module");
  if (r.error())
    return r.error();
  if (auto err = check_uid(g, path))
    return err;
  if (auto err = parse_module(yaml["module"], r.path_of("module"), g.module))
    return err;
  if (auto err = parse_optimizer(yaml["optimizer"], r.path_of("optimizer"), g.optimizer))
    return err;
  return parse_checkpoint(yaml["checkpoint"], r.path_of("checkpoint"), g.checkpoint);
}

caf::error parse_experts_section(const YAML::Node& yaml, node_config& cfg) {
  if (absent(yaml))
    return {}; // checked in parse_root: a node needs experts or trainers
  if (!yaml.IsSequence())
    return bad("experts", "expected a list, got " + show(yaml));
  if (yaml.size() == 0)
    return bad("experts", "must be a non-empty list");
  for (size_t i = 0; i < yaml.size(); ++i) {
    expert_group_config group;
    if (auto err = parse_group(yaml[i], "experts[" + std::to_string(i) + "]", group))
      return err;
    cfg.experts.push_back(std::move(group));
  }
  return check_duplicates(cfg.experts);
}

std::string number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

caf::error parse_initial_peers(const YAML::Node& yaml, dht_config& d) {
  if (absent(yaml))
    return {};
  if (!yaml.IsSequence())
    return bad("dht.initial_peers", "expected a list of HOST:PORT, got " + show(yaml));
  for (size_t i = 0; i < yaml.size(); ++i) {
    auto path = "dht.initial_peers[" + std::to_string(i) + "]";
    if (!yaml[i].IsScalar())
      return bad(path, "expected HOST:PORT, got " + show(yaml[i]));
    if (auto ep = parse_endpoint(yaml[i].Scalar()); !ep)
      return bad(path, context_of(ep.error()));
    d.initial_peers.push_back(yaml[i].Scalar());
  }
  return {};
}

caf::error parse_dht_section(const YAML::Node& yaml, node_config& cfg) {
  if (absent(yaml))
    return {};
  dht_config d;
  d.host = cfg.host;
  map_reader r{yaml, "dht", {"host", "port", "initial_peers", "client_mode", "expiration_s",
                             "update_period_s", "rpc_timeout_ms", "k", "alpha",
                             "num_replicas", "values_wanted", "value_grace_ms",
                             "rpc_timeout_min_ms", "republish_s", "hand_off", "read_repair",
                             "key_file"}};
  r.text("host", d.host, true)
    .integer("port", 0, d.port)
    .boolean("client_mode", d.client_mode)
    .real("expiration_s", positive, d.expiration_s)
    .real("update_period_s", positive, d.update_period_s)
    .integer("rpc_timeout_ms", 1, d.rpc_timeout_ms, 3600000)
    .integer("k", 1, d.k, 1000)
    .integer("alpha", 1, d.alpha, 100)
    .integer("num_replicas", 1, d.num_replicas, 100)
    .integer("values_wanted", 1, d.values_wanted, 100)
    .integer("value_grace_ms", 0, d.value_grace_ms, 60000)
    .integer("rpc_timeout_min_ms", 1, d.rpc_timeout_min_ms, 3600000)
    .real("republish_s", non_negative, d.republish_s)
    .boolean("hand_off", d.hand_off)
    .boolean("read_repair", d.read_repair)
    .text("key_file", d.key_file, true);
  if (r.error())
    return r.error();
  if (d.rpc_timeout_min_ms > d.rpc_timeout_ms)
    return bad("dht.rpc_timeout_min_ms", std::to_string(d.rpc_timeout_min_ms)
                                           + " must not exceed rpc_timeout_ms ("
                                           + std::to_string(d.rpc_timeout_ms) + ")");
  if (d.update_period_s >= d.expiration_s)
    return bad("dht.update_period_s", number(d.update_period_s)
                                        + " must be less than expiration_s ("
                                        + number(d.expiration_s) + ") or declarations lapse");
  if (auto err = parse_initial_peers(yaml["initial_peers"], d))
    return err;
  cfg.dht = std::move(d);
  return {};
}

/// One top-level section: its key and the function that reads it. The
/// function also runs when the key is absent (it gets an undefined node).
struct section {
  const char* key;
  caf::error (*parse)(const YAML::Node&, node_config&);
};

/// The trainers section is parsed by actors/trainer (its own concern);
/// here it is only kept as YAML text.
caf::error parse_trainers_section(const YAML::Node& yaml, node_config& cfg) {
  if (absent(yaml))
    return {};
  if (!yaml.IsMap())
    return bad("trainers", "expected a map, got " + show(yaml));
  cfg.trainers_yaml = YAML::Dump(yaml);
  return {};
}

caf::error parse_guard_section(const YAML::Node& yaml, node_config& cfg) {
  if (absent(yaml))
    return {};
  auto& g = cfg.guard;
  map_reader r{yaml, "guard", {"max_message_bytes", "max_connections_per_source",
                               "max_connections", "first_message_timeout_s", "outgoing"}};
  r.integer("max_message_bytes", 64 * 1024, g.max_message_bytes)
    .integer("max_connections_per_source", 1, g.max_connections_per_source)
    .integer("max_connections", 1, g.max_connections)
    .real("first_message_timeout_s", positive, g.first_message_timeout_s)
    .boolean("outgoing", g.outgoing);
  return r.error();
}

caf::error parse_liveness_section(const YAML::Node& yaml, node_config& cfg) {
  if (absent(yaml))
    return {};
  auto& l = cfg.liveness;
  map_reader r{yaml, "liveness", {"interval_ms", "timeout_ms", "first_reply_ms"}};
  r.integer("interval_ms", 0, l.interval_ms)
    .integer("timeout_ms", 1, l.timeout_ms)
    .integer("first_reply_ms", 1, l.first_reply_ms);
  if (!r.error() && l.interval_ms > 0 && l.timeout_ms <= l.interval_ms)
    return bad(r.path_of("timeout_ms"), std::to_string(l.timeout_ms)
                                          + " must be greater than interval_ms ("
                                          + std::to_string(l.interval_ms) + ")");
  return r.error();
}

/// Present = enabled (an empty `control:` counts as absent, like every
/// null value in the config).
caf::error parse_control_section(const YAML::Node& yaml, node_config& cfg) {
  if (absent(yaml))
    return {};
  auto& c = cfg.control;
  c.enabled = true;
  map_reader r{yaml, "control", {"host", "port", "token_file"}};
  r.text("host", c.host, true)
    .integer("port", 0, c.port)
    .require("token_file")
    .text("token_file", c.token_file, true);
  return r.error();
}

caf::error parse_faults_section(const YAML::Node& yaml, node_config& cfg) {
  return parse_node_faults(yaml, cfg.faults);
}

/// Every top-level section; adding one is a parse function plus a row here.
const section sections[] = {
  {"node", parse_node_section},
  {"log", parse_log_section},
  {"experts", parse_experts_section},
  {"dht", parse_dht_section},
  {"trainers", parse_trainers_section},
  {"guard", parse_guard_section},
  {"liveness", parse_liveness_section},
  {"faults", parse_faults_section},
  {"control", parse_control_section},
};

caf::error parse_root(const YAML::Node& root, node_config& cfg) {
  key_list keys;
  for (const auto& s : sections)
    keys.emplace_back(s.key);
  map_reader r{root, "", keys};
  if (r.error())
    return r.error();
  for (const auto& s : sections) {
    auto child = root.IsMap() ? root[s.key] : YAML::Node{};
    if (auto err = s.parse(child, cfg))
      return err;
  }
  if (cfg.experts.empty() && cfg.trainers_yaml.empty())
    return bad("experts", "required (unless the node has a trainers: section)");
  return {};
}

} // namespace

caf::expected<node_config> parse_node_config(const std::string& yaml_text) {
  try {
    node_config cfg;
    if (auto err = parse_root(YAML::Load(yaml_text), cfg))
      return err;
    return cfg;
  } catch (const YAML::Exception& e) {
    return make_error(errc::bad_config, std::string{"invalid YAML: "} + e.what());
  } catch (const std::exception& e) {
    return make_error(errc::bad_config, std::string{"invalid config: "} + e.what());
  }
}

caf::expected<node_config> load_node_config(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return make_error(errc::io_failed, "cannot read config file '" + path + "'");
  std::ifstream in{path, std::ios::binary};
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  if (!in.is_open() || in.bad())
    return make_error(errc::io_failed, "cannot read config file '" + path + "'");
  auto cfg = parse_node_config(text);
  if (!cfg)
    return make_error(errc::bad_config, path + ": " + context_of(cfg.error()));
  return cfg;
}

std::vector<std::string> expand_uids(const expert_group_config& group) {
  if (!is_pattern(group.uid))
    return {group.uid};
  auto base = group.uid.substr(0, group.uid.size() - 1);
  std::vector<std::string> result;
  result.reserve(group.count);
  for (uint32_t i = 0; i < group.count; ++i)
    result.push_back(base + std::to_string(i));
  return result;
}

} // namespace colony
