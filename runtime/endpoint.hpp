// host:port endpoints of nodes and DHT peers. An IPv6 host is stored
// without brackets ("::1") and written with them ("[::1]:4000"), so that
// parse_endpoint(ep.to_string()) == ep (DHT records store these strings).
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

  /// "HOST:PORT", or "[HOST]:PORT" when the host contains ':' (IPv6).
  std::string to_string() const;
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

/// Parses "HOST:PORT" or "[IPV6ADDR]:PORT" (port 1..65535; the host is
/// stored without brackets); errc::bad_request naming the input, e.g. for
/// "[::1" or an unbracketed "::1:80".
caf::expected<endpoint> parse_endpoint(const std::string& text);

} // namespace colony
