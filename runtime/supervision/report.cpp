#include "runtime/supervision/report.hpp"

#include <mutex>

#include "runtime/logging.hpp"

namespace colony::supervision {

namespace {

std::mutex node_mx;
std::string node_name;

} // namespace

const char* to_string(event e) {
  switch (e) {
    case event::child_started: return "child_started";
    case event::child_exited: return "child_exited";
    case event::child_restarted: return "child_restarted";
    case event::child_stopped: return "child_stopped";
    case event::restart_failed: return "restart_failed";
    case event::escalated: return "escalated";
    case event::gave_up: return "gave_up";
    case event::node_down: return "node_down";
    case event::node_up: return "node_up";
    case event::checkpoint: return "checkpoint";
    case event::ctl_refused: return "ctl_refused";
    case event::crash_injected: return "crash_injected";
  }
  return "unknown";
}

std::string quote(const std::string& v) {
  bool plain = !v.empty();
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
      plain = false;
  if (plain)
    return v;
  std::string out = "\"";
  for (unsigned char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < ' ' || c == 0x7f) {
      out += ' ';
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

std::string format_line(event e, const fields& f) {
  std::string line = "event=";
  line += to_string(e);
  for (auto& [k, v] : f) {
    line += ' ';
    line += k;
    line += '=';
    line += quote(v);
  }
  return line;
}

void set_node_name(const std::string& name) {
  std::lock_guard<std::mutex> guard{node_mx};
  node_name = name;
}

void report(event e, const fields& f, spdlog::level::level_enum level) {
  auto line = format_line(e, f);
  {
    std::lock_guard<std::mutex> guard{node_mx};
    if (!node_name.empty())
      line += " node=" + quote(node_name);
  }
  log::get("supervisor")->log(level, "{}", line);
}

} // namespace colony::supervision
