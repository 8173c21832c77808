#include "runtime/log_format.hpp"

#include <cstdio>
#include <ctime>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <spdlog/pattern_formatter.h>

namespace colony::log {

namespace {

// -- JSON strings -------------------------------------------------------------

bool continuation(std::string_view s, size_t i) {
  return i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
}

/// The length of the valid UTF-8 sequence starting at s[i] (2 to 4), or 0.
size_t multibyte_length(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  auto in = [&](size_t j, unsigned lo, unsigned hi) {
    if (j >= s.size())
      return false;
    auto b = static_cast<unsigned char>(s[j]);
    return b >= lo && b <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF)
    return continuation(s, i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    bool second = c == 0xE0 ? in(i + 1, 0xA0, 0xBF)   // no overlong forms
                  : c == 0xED ? in(i + 1, 0x80, 0x9F) // no surrogates
                              : continuation(s, i + 1);
    return second && continuation(s, i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    bool second = c == 0xF0 ? in(i + 1, 0x90, 0xBF)
                  : c == 0xF4 ? in(i + 1, 0x80, 0x8F) // at most U+10FFFF
                              : continuation(s, i + 1);
    return second && continuation(s, i + 2) && continuation(s, i + 3) ? 4 : 0;
  }
  return 0;
}

void append_escaped_ascii(std::string& out, unsigned char c) {
  switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
  }
  if (c < 0x20 || c == 0x7f) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "\\u%04x", c);
    out += buf;
  } else {
    out += static_cast<char>(c);
  }
}

// -- key=value messages -------------------------------------------------------

struct kv {
  std::string key;
  std::string value;
  bool quoted = false;
};

bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
         || c == '_' || c == '.' || c == '-';
}

/// Reads a "..." value starting at m[i] == '"' (\" \\ \n as quote() writes
/// them; another backslash is kept); none when it never closes or is not
/// followed by a space or the end.
std::optional<std::string> read_quoted(std::string_view m, size_t& i) {
  std::string value;
  for (++i; i < m.size(); ++i) {
    char c = m[i];
    if (c == '"') {
      ++i;
      if (i < m.size() && m[i] != ' ')
        return std::nullopt;
      return value;
    }
    if (c == '\\' && i + 1 < m.size()) {
      char n = m[++i];
      if (n == 'n')
        value += '\n';
      else if (n == '"' || n == '\\')
        value += n;
      else
        value.append({'\\', n});
    } else {
      value += c;
    }
  }
  return std::nullopt;
}

/// The pairs of `m` when all of it is key=value pairs separated by spaces.
std::optional<std::vector<kv>> parse_pairs(std::string_view m) {
  std::vector<kv> result;
  size_t i = 0;
  for (;;) {
    while (i < m.size() && m[i] == ' ')
      ++i;
    if (i == m.size())
      return result;
    kv x;
    while (i < m.size() && key_char(m[i]))
      x.key += m[i++];
    if (x.key.empty() || i == m.size() || m[i] != '=')
      return std::nullopt;
    ++i;
    if (i < m.size() && m[i] == '"') {
      auto v = read_quoted(m, i);
      if (!v)
        return std::nullopt;
      x.value = std::move(*v);
      x.quoted = true;
    } else {
      while (i < m.size() && m[i] != ' ')
        x.value += m[i++];
    }
    result.push_back(std::move(x));
  }
}

/// A JSON integer or decimal short enough to read back exactly.
bool json_number(const std::string& v) {
  if (v.empty() || v.size() > 18)
    return false;
  size_t i = v[0] == '-' ? 1 : 0;
  auto digits = [&] {
    size_t start = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9')
      ++i;
    return i - start;
  };
  auto lead = i;
  auto n = digits();
  if (n == 0 || (n > 1 && v[lead] == '0'))
    return false;
  if (i < v.size() && v[i] == '.') {
    ++i;
    if (digits() == 0)
      return false;
  }
  return i == v.size();
}

/// Gives repeated and reserved keys a "_2", "_3" ... suffix.
class key_namer {
public:
  key_namer() : used_{"ts", "level", "component", "msg"} {}

  std::string name(const std::string& key) {
    if (used_.insert(key).second)
      return key;
    auto& n = next_[key];
    for (n = std::max(n, 2);; ++n) {
      auto candidate = key + "_" + std::to_string(n);
      if (used_.insert(candidate).second)
        return candidate;
    }
  }

private:
  std::unordered_set<std::string> used_;
  std::unordered_map<std::string, int> next_;
};

void append_field(std::string& out, std::string_view key, std::string_view json_value) {
  out += ',';
  out += json_string(key);
  out += ':';
  out += json_value;
}

} // namespace

std::string json_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      append_escaped_ascii(out, c);
      ++i;
    } else if (auto n = multibyte_length(s, i); n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD"; // U+FFFD
      ++i;
    }
  }
  out += '"';
  return out;
}

std::string kv_to_json(std::string_view ts, std::string_view level,
                       std::string_view component, std::string_view message) {
  std::string out = "{\"ts\":" + json_string(ts);
  append_field(out, "level", json_string(level));
  append_field(out, "component", json_string(component));
  auto pairs = parse_pairs(message);
  if (!pairs || pairs->empty()) {
    append_field(out, "msg", json_string(message));
  } else {
    key_namer names;
    for (const auto& x : *pairs) {
      bool number = !x.quoted && json_number(x.value);
      append_field(out, names.name(x.key), number ? x.value : json_string(x.value));
    }
  }
  out += '}';
  return out;
}

void json_formatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  using namespace std::chrono;
  auto since_epoch = msg.time.time_since_epoch();
  auto secs = duration_cast<seconds>(since_epoch);
  auto millis = duration_cast<milliseconds>(since_epoch - secs).count();
  std::time_t t = secs.count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  auto level = spdlog::level::to_string_view(msg.level);
  auto line = kv_to_json(ts, {level.data(), level.size()},
                         {msg.logger_name.data(), msg.logger_name.size()},
                         {msg.payload.data(), msg.payload.size()});
  line += '\n';
  dest.append(line.data(), line.data() + line.size());
}

std::unique_ptr<spdlog::formatter> json_formatter::clone() const {
  return std::make_unique<json_formatter>();
}

std::unique_ptr<spdlog::formatter> make_formatter(const std::string& format) {
  if (format == "text")
    return std::make_unique<spdlog::pattern_formatter>(text_pattern);
  if (format == "json")
    return std::make_unique<json_formatter>();
  return nullptr;
}

} // namespace colony::log
