// Parsing of experiment 1's YAML (see experiment_config.hpp).
#include "bench/experiments/throughput/experiment_config.hpp"

#include <set>

#include <yaml-cpp/yaml.h>

#include "messages/errc.hpp"

namespace colony::throughput {
namespace {

caf::error bad(const std::string& key, const std::string& why) {
  return make_error(errc::bad_config, "throughput config: " + key + ": " + why);
}

caf::error check_keys(const YAML::Node& n, const std::string& path,
                      const std::set<std::string>& known) {
  if (!n.IsMap())
    return bad(path.empty() ? "top level" : path, "expected a map");
  for (auto kv : n) {
    auto key = kv.first.as<std::string>();
    if (known.count(key) == 0)
      return bad(path + key, "unknown key");
  }
  return caf::none;
}

template <class T>
caf::error read(const YAML::Node& n, const std::string& path, const std::string& key, T& out,
                double min_value) {
  if (!n[key])
    return caf::none;
  try {
    auto v = n[key].as<double>();
    if (!(v >= min_value) || v > 1e9)
      return bad(path + key, "want a number >= " + std::to_string(min_value));
    out = static_cast<T>(v);
  } catch (const YAML::Exception&) {
    return bad(path + key, "expected a number");
  }
  return caf::none;
}

caf::error read_delays(const YAML::Node& n, const std::string& key, std::vector<double>& out) {
  if (!n[key])
    return caf::none;
  if (!n[key].IsSequence() || n[key].size() == 0)
    return bad(key, "expected a non-empty list of mean delays in ms");
  out.clear();
  for (auto d : n[key]) {
    try {
      out.push_back(d.as<double>());
    } catch (const YAML::Exception&) {
      return bad(key, "expected numbers");
    }
    if (!(out.back() >= 0))
      return bad(key, "delays must be >= 0");
  }
  return caf::none;
}

caf::error read_chain(const YAML::Node& n, chain_config& c) {
  auto path = c.form + ".";
  if (auto err = check_keys(n, path, {"enabled", "layers", "rows", "cols", "dim", "hidden",
                                      "heads", "seq", "k_best", "trainers", "batch",
                                      "warmup_s", "window_s", "long_window_s", "delays_ms"}))
    return err;
  if (n["enabled"])
    c.enabled = n["enabled"].as<bool>();
  caf::error err;
  auto r = [&](const char* key, auto& out, double min_value) {
    if (!err)
      err = read(n, path, key, out, min_value);
  };
  r("layers", c.layers, 1);
  r("rows", c.rows, 1);
  r("cols", c.cols, 1);
  r("dim", c.dim, 1);
  r("hidden", c.hidden, 1);
  r("heads", c.heads, 1);
  r("seq", c.seq, 0);
  r("k_best", c.k_best, 1);
  r("trainers", c.trainers, 1);
  r("batch", c.batch, 1);
  r("warmup_s", c.warmup_s, 0);
  r("window_s", c.window_s, 0.1);
  r("long_window_s", c.long_window_s, 0.1);
  if (err)
    return err;
  if (auto e = read_delays(n, "delays_ms", c.delays_ms))
    return bad(path + "delays_ms", describe(e));
  if (c.k_best > c.rows * c.cols)
    return bad(path + "k_best", "more than the " + std::to_string(c.rows * c.cols)
                                  + " experts of a layer");
  if (c.k_best > c.rows)
    return bad(path + "k_best", "the model-parallel stream calls experts (row, 0) of rows "
                                "0..k_best-1: want k_best <= rows");
  if (c.form == "transformer" && (c.seq == 0 || c.dim % c.heads != 0))
    return bad(path + "seq", "transformer blocks want seq >= 1 and dim divisible by heads");
  if (c.form == "training" && c.seq != 0)
    return bad(path + "seq", "the training form uses [B, dim] rows (seq: 0)");
  return caf::none;
}

} // namespace

std::string chain_config::uid(uint32_t layer, uint32_t row, uint32_t col) const {
  return prefix + std::to_string(layer) + "." + std::to_string(row) + "." + std::to_string(col);
}

caf::expected<experiment_config> parse_experiment_config(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return bad("yaml", e.what());
  }
  experiment_config cfg;
  if (auto err = check_keys(root, "", {"delays_ms", "nodes", "max_batch_size", "seed",
                                       "forward", "training", "transformer"}))
    return err;
  if (auto err = read_delays(root, "delays_ms", cfg.delays_ms))
    return err;
  if (cfg.delays_ms.empty())
    return bad("delays_ms", "required");
  if (auto err = read(root, "", "nodes", cfg.nodes, 1))
    return err;
  if (auto err = read(root, "", "max_batch_size", cfg.max_batch_size, 1))
    return err;
  if (auto err = read(root, "", "seed", cfg.seed, 0))
    return err;
  const std::pair<const char*, const char*> forms[] = {
    {"forward", "fw"}, {"training", "tr"}, {"transformer", "tx"}};
  for (auto& [form, prefix] : forms) {
    chain_config c;
    c.form = form;
    c.prefix = prefix;
    if (c.form == "transformer") {
      c.dim = 128, c.hidden = 512, c.seq = 16, c.layers = 8, c.batch = 4;
    }
    if (!root[form])
      continue;
    if (auto err = read_chain(root[form], c))
      return err;
    if (c.enabled)
      cfg.chains.push_back(std::move(c));
  }
  if (cfg.chains.empty())
    return bad("forward", "no form enabled");
  return cfg;
}

} // namespace colony::throughput
