#include "runtime/endpoint.hpp"

#include "messages/errc.hpp"

namespace colony {

std::string endpoint::to_string() const {
  auto port_str = std::to_string(port);
  if (host.find(':') != std::string::npos)
    return "[" + host + "]:" + port_str;
  return host + ":" + port_str;
}

namespace {

constexpr const char* want = "want HOST:PORT or [IPV6ADDR]:PORT";

/// Splits "[ADDR]:PORT" into ADDR and PORT; empty host on a malformed form.
bool split_bracketed(const std::string& text, std::string& host, std::string& port,
                     std::string& why) {
  auto close = text.find(']');
  if (close == std::string::npos) {
    why = "missing ']' (want [ADDR]:PORT)";
    return false;
  }
  host = text.substr(1, close - 1);
  if (host.empty() || host.find_first_of("[]") != std::string::npos) {
    why = "empty or malformed address in brackets (want [ADDR]:PORT)";
    return false;
  }
  if (close + 1 >= text.size() || text[close + 1] != ':') {
    why = "want [ADDR]:PORT, no ':PORT' after ']'";
    return false;
  }
  port = text.substr(close + 2);
  return true;
}

} // namespace

caf::expected<endpoint> parse_endpoint(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return make_error(errc::bad_request, "endpoint '" + text + "': " + why);
  };
  std::string host;
  std::string port_str;
  if (!text.empty() && text[0] == '[') {
    std::string why;
    if (!split_bracketed(text, host, port_str, why))
      return bad(why);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return bad(want);
    host = text.substr(0, colon);
    port_str = text.substr(colon + 1);
    if (host.find(':') != std::string::npos)
      return bad("an IPv6 address needs brackets: use [ADDR]:PORT, e.g. [::1]:4000");
    if (host.find_first_of("[]") != std::string::npos)
      return bad(want);
  }
  if (port_str.empty() || port_str.size() > 5
      || port_str.find_first_not_of("0123456789") != std::string::npos)
    return bad("port is not a number");
  auto port = std::stoul(port_str);
  if (port == 0 || port > 65535)
    return bad("port out of range 1..65535");
  return endpoint{std::move(host), static_cast<uint16_t>(port)};
}

} // namespace colony
