#include "actors/trainer/trainer_config.hpp"

#include "messages/errc.hpp"
#include "runtime/yaml_reader.hpp"

namespace colony::trainer {

namespace {

using namespace colony::yaml;

caf::error parse_grid(const YAML::Node& yaml, const std::string& path, gate::grid_spec& grid) {
  if (absent(yaml))
    return bad(path, "required");
  if (!yaml.IsSequence() || yaml.size() == 0)
    return bad(path, "expected a non-empty list of sizes, got " + show(yaml));
  grid.dims.clear();
  for (size_t i = 0; i < yaml.size(); ++i) {
    uint64_t v = 0;
    if (!yaml[i].IsScalar() || parse_uint(yaml[i].Scalar(), v) != parsed::ok || v == 0
        || v > 65536)
      return bad(path + "[" + std::to_string(i) + "]", "expected a size in 1..65536, got "
                                                         + show(yaml[i]));
    grid.dims.push_back(static_cast<uint32_t>(v));
  }
  return {};
}

caf::error parse_dmoe(const YAML::Node& yaml, const std::string& path, layer_spec& l) {
  auto& g = l.gate;
  uint64_t cache_size = g.cache.max_entries;
  map_reader r{yaml, path,
               {"type", "prefix", "grid", "dim", "output_dim", "k_best", "k_min", "beam_size",
                "timeout_after_k_min", "forward_timeout", "backward_k_min", "backward_timeout",
                "allow_zero_outputs", "detect_anomalies", "float16", "cache_expiry",
                "negative_cache_expiry", "cache_size", "unreachable_skip", "residual"}};
  auto grace = yaml["timeout_after_k_min"];
  g.grace_auto = grace.IsDefined() && grace.IsScalar() && grace.Scalar() == "auto";
  if (!g.grace_auto)
    r.real("timeout_after_k_min", non_negative, g.timeout_after_k_min_s);
  r.require("prefix").require("dim").text("prefix", g.grid.prefix, true)
    .integer("dim", 1, g.input_dim, 1u << 20)
    .integer("output_dim", 0, g.output_dim, 1u << 20)
    .integer("k_best", 1, g.k_best, 1024)
    .integer("k_min", 1, g.k_min, 1024)
    .integer("beam_size", 0, g.beam_size, 4096)
    .real("forward_timeout", positive, g.forward_timeout_s)
    .integer("backward_k_min", 1, g.backward_k_min, 1024)
    .real("backward_timeout", positive, g.backward_timeout_s)
    .boolean("allow_zero_outputs", g.allow_zero_outputs)
    .boolean("detect_anomalies", g.detect_anomalies)
    .boolean("float16", g.float16_wire)
    .real("cache_expiry", positive, g.cache.expiry_s)
    .real("negative_cache_expiry", positive, g.cache.negative_expiry_s)
    .integer("cache_size", 1, cache_size, 1u << 24)
    .real("unreachable_skip", non_negative, g.unreachable_skip_s)
    .boolean("residual", l.residual);
  if (r.error())
    return r.error();
  g.cache.max_entries = g.cache.max_negative = cache_size;
  if (auto err = parse_grid(yaml["grid"], r.path_of("grid"), g.grid))
    return err;
  l.dim = g.input_dim;
  l.out = g.out_dim();
  if (l.residual && l.out != l.dim)
    return bad(r.path_of("output_dim"), "a residual dmoe layer needs output_dim == dim");
  return gate::validate(g, path + ".");
}

caf::error parse_fixed(const YAML::Node& yaml, const std::string& path, layer_spec& l) {
  map_reader r{yaml, path, {"type", "dim", "experts", "timeout", "residual"}};
  r.require("dim").require("experts").integer("dim", 1, l.dim, int64_t{1} << 20)
    .real("timeout", positive, l.timeout_s).boolean("residual", l.residual);
  if (r.error())
    return r.error();
  auto xs = yaml["experts"];
  if (!xs.IsSequence() || xs.size() == 0)
    return bad(r.path_of("experts"), "expected a non-empty list of UID@HOST:PORT");
  for (size_t i = 0; i < xs.size(); ++i) {
    auto text = xs[i].IsScalar() ? xs[i].Scalar() : std::string{};
    if (text.find('@') == std::string::npos)
      return bad(r.path_of("experts") + "[" + std::to_string(i) + "]",
                 "expected UID@HOST:PORT, got " + show(xs[i]));
    l.experts.push_back(text);
  }
  l.out = l.dim;
  return {};
}

caf::error parse_layer(const YAML::Node& yaml, const std::string& path, layer_spec& l) {
  if (!yaml.IsMap())
    return bad(path, "expected a map with a type, got " + show(yaml));
  map_reader probe{yaml, path, {}};
  probe.require("type").text("type", l.type, true);
  if (probe.error())
    return probe.error();
  if (l.type == "dmoe")
    return parse_dmoe(yaml, path, l);
  if (l.type == "fixed_experts")
    return parse_fixed(yaml, path, l);
  if (l.type == "linear") {
    map_reader r{yaml, path, {"type", "in", "out"}};
    r.require("in").require("out").integer("in", 1, l.in, int64_t{1} << 24)
      .integer("out", 1, l.out, int64_t{1} << 24);
    l.dim = l.in;
    return r.error();
  }
  if (l.type == "layernorm") {
    map_reader r{yaml, path, {"type", "dim"}};
    r.require("dim").integer("dim", 1, l.dim, int64_t{1} << 24);
    l.out = l.dim;
    return r.error();
  }
  if (l.type == "relu" || l.type == "gelu") {
    map_reader r{yaml, path, {"type"}};
    return r.error();
  }
  return bad(path + ".type", "unknown layer kind '" + l.type
                               + "' (known: linear, relu, gelu, layernorm, dmoe, "
                                 "fixed_experts)");
}

/// Each layer's input width is the previous layer's output width.
caf::error check_widths(const trainer_config& cfg) {
  if (cfg.model.empty())
    return bad("trainers.model", "must be a non-empty list of layers");
  auto width = cfg.input_features();
  for (size_t i = 0; i < cfg.model.size(); ++i) {
    auto& l = cfg.model[i];
    if (l.type == "relu" || l.type == "gelu")
      continue;
    if (l.dim != width)
      return bad("trainers.model[" + std::to_string(i) + "]",
                 "takes " + std::to_string(l.dim) + " features but gets " + std::to_string(width));
    width = l.out;
  }
  if (width != cfg.num_classes())
    return bad("trainers.model", "ends with " + std::to_string(width) + " outputs, the data has "
                                   + std::to_string(cfg.num_classes()) + " classes");
  return {};
}

caf::error parse_data(const YAML::Node& yaml, data_config& d) {
  map_reader r{yaml, "trainers.data", {"kind", "dir", "shard", "features", "classes",
                                       "train_size", "test_size", "seed"}};
  r.choice("kind", {"fashion_mnist", "mnist", "synthetic"}, d.kind)
    .text("dir", d.dir, true)
    .boolean("shard", d.shard)
    .integer("features", 1, d.features, int64_t{1} << 20)
    .integer("classes", 2, d.classes, int64_t{256})
    .integer("train_size", 1, d.train_size, int64_t{1} << 26)
    .integer("test_size", 1, d.test_size, int64_t{1} << 26)
    .integer("seed", 0, d.seed);
  return r.error();
}

caf::error parse_faults(const YAML::Node& yaml, fault_config& f) {
  std::string kind = "none";
  map_reader r{yaml, "trainers.faults", {"delay", "delay_ms", "drop_probability", "seed"}};
  r.choice("delay", {"none", "fixed", "exponential", "uniform"}, kind)
    .real("delay_ms", non_negative, f.delay_ms)
    .real("drop_probability", unit_interval, f.drop_probability)
    .integer("seed", 0, f.seed);
  if (r.error())
    return r.error();
  f.delay = *parse_delay_kind(kind);
  return {};
}

caf::error parse_root(const YAML::Node& yaml, trainer_config& c) {
  map_reader r{yaml, "trainers",
               {"count", "in_flight", "batch_size", "data_seed", "steps", "seed", "threads", "optimizer",
                "lr", "lr_warmup", "lr_decay", "weight_decay", "clip_grad_norm", "accumulate", "max_staleness",
                "on_stale", "staleness_scale", "log_every", "eval_every", "eval_batch",
                "eval_samples", "eval_timeout", "checkpoint_dir", "checkpoint_every", "faults",
                "averaging", "data", "model"}};
  if (auto ds = yaml["data_seed"]; ds.IsDefined()) {
    uint64_t v = 0;
    if (!ds.IsScalar() || parse_uint(ds.Scalar(), v) != parsed::ok)
      return bad("trainers.data_seed", "expected an unsigned integer, got " + show(ds));
    c.data_seed = v;
  }
  r.require("model").integer("count", 1, c.count, 4096u)
    .integer("in_flight", 1, c.in_flight, 1024u)
    .choice("optimizer", {"adam", "sgd"}, c.optimizer)
    .real("clip_grad_norm", non_negative, c.clip_grad_norm)
    .integer("accumulate", 1, c.accumulate, 1u << 16)
    .integer("max_staleness", 0, c.max_staleness)
    .choice("on_stale", {"drop", "scale"}, c.on_stale)
    .boolean("staleness_scale", c.staleness_scale)
    .real("eval_timeout", positive, c.eval_timeout)
    .integer("batch_size", 1, c.batch_size, 1u << 16)
    .integer("steps", 1, c.steps)
    .integer("seed", 0, c.seed)
    .integer("threads", 0, c.threads, 4096u)
    .real("lr", positive, c.lr)
    .integer("lr_warmup", 0, c.lr_warmup)
    .choice("lr_decay", {"none", "linear"}, c.lr_decay)
    .real("weight_decay", non_negative, c.weight_decay)
    .integer("log_every", 1, c.log_every)
    .integer("eval_every", 0, c.eval_every)
    .integer("eval_batch", 1, c.eval_batch, 1u << 20)
    .integer("eval_samples", 0, c.eval_samples)
    .text("checkpoint_dir", c.checkpoint_dir)
    .integer("checkpoint_every", 0, c.checkpoint_every);
  if (r.error())
    return r.error();
  if (c.count * c.in_flight > 4096)
    return bad("trainers.in_flight", "count x in_flight is " + std::to_string(c.count * c.in_flight)
                                       + " chains, at most 4096");
  if (auto err = parse_data(yaml["data"], c.data))
    return err;
  if (auto err = parse_faults(yaml["faults"], c.faults))
    return err;
  if (auto avg = yaml["averaging"]; avg.IsDefined() && !avg.IsNull()) {
    auto a = averaging::parse_averaging_config(YAML::Dump(avg), "trainers.averaging");
    if (!a)
      return a.error();
    c.averaging = std::move(*a);
  }
  auto model = yaml["model"];
  if (!model.IsSequence())
    return bad("trainers.model", "expected a list of layers, got " + show(model));
  for (size_t i = 0; i < model.size(); ++i) {
    layer_spec l;
    if (auto err = parse_layer(model[i], "trainers.model[" + std::to_string(i) + "]", l))
      return err;
    c.model.push_back(std::move(l));
  }
  return check_widths(c);
}

} // namespace

caf::expected<trainer_config> parse_trainer_config(const std::string& yaml_text) {
  try {
    trainer_config cfg;
    if (auto err = parse_root(YAML::Load(yaml_text), cfg))
      return err;
    return cfg;
  } catch (const YAML::Exception& e) {
    return make_error(errc::bad_config, std::string{"trainers: invalid YAML: "} + e.what());
  }
}

} // namespace colony::trainer
