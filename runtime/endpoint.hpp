// host:port endpoints of nodes and DHT peers.
#pragma once

#include <cstdint>
#include <string>

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

namespace colony {

/// A network address of a published actor.
struct endpoint {
  std::string host;
  uint16_t port = 0;

  std::string to_string() const { return host + ":" + std::to_string(port); }
  friend bool operator==(const endpoint& a, const endpoint& b) {
    return a.port == b.port && a.host == b.host;
  }
  friend bool operator!=(const endpoint& a, const endpoint& b) { return !(a == b); }
  friend bool operator<(const endpoint& a, const endpoint& b) {
    return a.host < b.host || (a.host == b.host && a.port < b.port);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, endpoint& x) {
  return f(caf::meta::type_name("endpoint"), x.host, x.port);
}

/// Parses "HOST:PORT" (port 1..65535); errc::bad_request naming the input.
caf::expected<endpoint> parse_endpoint(const std::string& text);

} // namespace colony
