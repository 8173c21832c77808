// Loading and comparing the control token (runtime/control_config.hpp).

#include "runtime/control_config.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "messages/errc.hpp"

namespace colony {

namespace {

caf::error refuse(const std::string& path, const std::string& why) {
  return make_error(errc::bad_config, "control token file '" + path + "': " + why);
}

std::string trimmed(const std::string& text) {
  const char* space = " \t\r\n\v\f";
  auto first = text.find_first_not_of(space);
  if (first == std::string::npos)
    return {};
  return text.substr(first, text.find_last_not_of(space) - first + 1);
}

} // namespace

caf::expected<std::string> load_token(const std::string& path) {
  if (path.empty())
    return make_error(errc::bad_config, "control.token_file: required");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return refuse(path, std::string{"cannot read ("} + std::strerror(errno) + ")");
  if (!S_ISREG(st.st_mode))
    return refuse(path, "not a regular file");
  if ((st.st_mode & 077) != 0)
    return refuse(path, "readable by group or others; chmod 600 " + path);
  std::ifstream in{path, std::ios::binary};
  if (!in.is_open())
    return refuse(path, "cannot open");
  auto token = trimmed({std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}});
  if (in.bad())
    return refuse(path, "cannot read");
  if (token.empty())
    return refuse(path, "the token is empty");
  if (token.size() < min_token_length)
    return refuse(path, "the token has " + std::to_string(token.size())
                          + " characters, want at least " + std::to_string(min_token_length));
  return token;
}

bool tokens_equal(const std::string& a, const std::string& b) {
  // Every byte of the longer one is visited, whatever the contents.
  auto n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

} // namespace colony
