#include "runtime/logging.hpp"

#include <map>
#include <mutex>
#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace colony::log {

namespace {

struct registry {
  std::mutex mx;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::null_sink_mt>();
  spdlog::level::level_enum level = spdlog::level::info;
  std::map<std::string, std::shared_ptr<spdlog::logger>> loggers;
};

registry& instance() {
  static registry r;
  return r;
}

} // namespace

bool setup(const std::string& level, const std::string& file) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    return false;
  auto& r = instance();
  std::lock_guard<std::mutex> guard{r.mx};
  if (file.empty())
    r.sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  else
    r.sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file);
  r.sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n %v");
  r.level = lvl;
  for (auto& [name, lg] : r.loggers) {
    lg->sinks().assign({r.sink});
    lg->set_level(lvl);
  }
  return true;
}

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  auto& r = instance();
  std::lock_guard<std::mutex> guard{r.mx};
  auto i = r.loggers.find(component);
  if (i != r.loggers.end())
    return i->second;
  auto lg = std::make_shared<spdlog::logger>(component, r.sink);
  lg->set_level(r.level);
  r.loggers.emplace(component, lg);
  return lg;
}

} // namespace colony::log
