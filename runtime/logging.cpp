#include "runtime/logging.hpp"

#include <map>
#include <mutex>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "messages/errc.hpp"
#include "runtime/log_format.hpp"

namespace colony::log {

namespace {

struct registry {
  std::mutex mx;
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::null_sink_mt>()};
  spdlog::level::level_enum level = spdlog::level::info;
  std::map<std::string, std::shared_ptr<spdlog::logger>> loggers;
  std::shared_ptr<log_ring> ring = std::make_shared<log_ring>(log_config{}.ring_lines);
};

registry& instance() {
  static registry r;
  return r;
}

caf::error parse_level(const std::string& name, spdlog::level::level_enum& out) {
  out = spdlog::level::from_str(name);
  if (out == spdlog::level::off && name != "off")
    return make_error(errc::bad_config, "log.level: unknown level '" + name + "'");
  return {};
}

/// The stderr and file sinks of `cfg` (file sinks may throw spdlog_ex).
std::vector<spdlog::sink_ptr> make_sinks(const log_config& cfg) {
  std::vector<spdlog::sink_ptr> result{std::make_shared<spdlog::sinks::stderr_sink_mt>()};
  if (!cfg.file.empty())
    result.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
      cfg.file, cfg.max_file_bytes, cfg.max_files));
  return result;
}

} // namespace

caf::error setup(const log_config& cfg) {
  spdlog::level::level_enum lvl;
  if (auto err = parse_level(cfg.level, lvl))
    return err;
  auto formatter = make_formatter(cfg.format);
  if (!formatter)
    return make_error(errc::bad_config,
                      "log.format: '" + cfg.format + "' is not one of text|json");
  std::vector<spdlog::sink_ptr> sinks;
  try {
    sinks = make_sinks(cfg);
  } catch (const spdlog::spdlog_ex& e) {
    return make_error(errc::io_failed, "log.file: cannot open '" + cfg.file + "': " + e.what());
  }
  for (auto& s : sinks)
    s->set_formatter(formatter->clone());
  auto& r = instance();
  std::lock_guard<std::mutex> guard{r.mx};
  r.ring->set_formatter(std::move(formatter));
  r.ring->set_capacity(cfg.ring_lines);
  sinks.push_back(r.ring);
  r.sinks = std::move(sinks);
  r.level = lvl;
  for (auto& [name, lg] : r.loggers) {
    lg->sinks() = r.sinks;
    lg->set_level(lvl);
  }
  return {};
}

bool setup(const std::string& level, const std::string& file) {
  log_config cfg;
  cfg.level = level;
  cfg.file = file;
  return !setup(cfg);
}

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  auto& r = instance();
  std::lock_guard<std::mutex> guard{r.mx};
  auto i = r.loggers.find(component);
  if (i != r.loggers.end())
    return i->second;
  auto lg = std::make_shared<spdlog::logger>(component, r.sinks.begin(), r.sinks.end());
  lg->set_level(r.level);
  r.loggers.emplace(component, lg);
  return lg;
}

std::shared_ptr<log_ring> ring() {
  auto& r = instance();
  std::lock_guard<std::mutex> guard{r.mx};
  return r.ring;
}

} // namespace colony::log
