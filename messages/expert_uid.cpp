#include "messages/expert_uid.hpp"

#include <limits>

#include "messages/errc.hpp"

namespace colony {

namespace {

bool is_prefix_head(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_prefix_char(char c) {
  return is_prefix_head(c) || (c >= '0' && c <= '9');
}

bool is_valid_name(const std::string& name) {
  if (name.empty() || !is_prefix_head(name.front()))
    return false;
  for (auto c : name)
    if (!is_prefix_char(c))
      return false;
  return true;
}

std::vector<std::string> split_dots(const std::string& text) {
  std::vector<std::string> parts;
  std::string::size_type begin = 0;
  for (;;) {
    auto dot = text.find('.', begin);
    parts.emplace_back(text.substr(begin, dot - begin));
    if (dot == std::string::npos)
      return parts;
    begin = dot + 1;
  }
}

/// Why `parts` (the uid split at dots) is not a uid; empty if it is one.
std::string uid_problem(const std::vector<std::string>& parts) {
  if (!is_valid_name(parts.front()))
    return "prefix must match [A-Za-z_][A-Za-z0-9_]*";
  if (parts.size() < 2)
    return "want at least one coordinate";
  for (size_t i = 1; i < parts.size(); ++i)
    if (!parse_coordinate(parts[i]))
      return "coordinate '" + parts[i]
             + "' is not a non-negative integer without leading zeros";
  return {};
}

} // namespace

std::optional<int64_t> parse_coordinate(const std::string& text) {
  if (text.empty() || text.size() > 19 || (text[0] == '0' && text.size() > 1))
    return std::nullopt;
  uint64_t value = 0;
  for (auto c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return std::nullopt;
  return static_cast<int64_t>(value);
}

bool is_valid_uid(const std::string& uid) {
  return uid_problem(split_dots(uid)).empty();
}

bool is_valid_prefix(const std::string& key) {
  if (key.empty() || key.back() != '.')
    return false;
  auto parts = split_dots(key.substr(0, key.size() - 1));
  if (!is_valid_name(parts.front()))
    return false;
  for (size_t i = 1; i < parts.size(); ++i)
    if (!parse_coordinate(parts[i]))
      return false;
  return true;
}

caf::expected<expert_uid> parse_uid(const std::string& uid) {
  auto parts = split_dots(uid);
  auto problem = uid_problem(parts);
  if (!problem.empty())
    return make_error(errc::bad_request, "uid '" + uid + "': " + problem);
  expert_uid result{parts.front(), {}};
  for (size_t i = 1; i < parts.size(); ++i)
    result.coords.push_back(*parse_coordinate(parts[i]));
  return result;
}

std::string make_uid(const std::string& prefix,
                     const std::vector<int64_t>& coords) {
  auto result = prefix;
  for (auto c : coords)
    result += "." + std::to_string(c);
  return result;
}

std::string make_prefix_key(const std::string& prefix,
                            const std::vector<int64_t>& coords) {
  return make_uid(prefix, coords) + ".";
}

std::vector<uid_declaration> declaration_entries(const std::string& uid) {
  std::vector<uid_declaration> result;
  auto parsed = parse_uid(uid);
  if (!parsed)
    return result;
  std::vector<int64_t> head;
  for (auto c : parsed->coords) {
    result.push_back({make_prefix_key(parsed->prefix, head), std::to_string(c)});
    head.push_back(c);
  }
  return result;
}

} // namespace colony
