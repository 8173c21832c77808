#include "runtime/endpoint.hpp"

#include "messages/errc.hpp"

namespace colony {

caf::expected<endpoint> parse_endpoint(const std::string& text) {
  auto bad = [&](const char* why) {
    return make_error(errc::bad_request, "endpoint '" + text + "': " + why);
  };
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return bad("want HOST:PORT");
  auto port_str = text.substr(colon + 1);
  if (port_str.empty() || port_str.size() > 5
      || port_str.find_first_not_of("0123456789") != std::string::npos)
    return bad("port is not a number");
  auto port = std::stoul(port_str);
  if (port == 0 || port > 65535)
    return bad("port out of range 1..65535");
  return endpoint{text.substr(0, colon), static_cast<uint16_t>(port)};
}

} // namespace colony
