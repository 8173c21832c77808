#include "actors/dht/io_peer.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/dht/client.hpp"
#include "actors/dht/io_transport.hpp"
#include "messages/errc.hpp"
#include "runtime/logging.hpp"

namespace colony::dht {

namespace {

/// Long enough for a bootstrap: the pings, then a few lookup rounds.
caf::timespan bootstrap_timeout(const peer_config& cfg) {
  return std::max(caf::timespan{std::chrono::seconds{15}}, 5 * cfg.rpc_timeout);
}

} // namespace

caf::expected<io_peer> start_io_peer(caf::actor_system& sys, peer_config cfg,
                                     const std::vector<std::string>& initial_peers,
                                     fault_config faults, net_guard::guard_config guard) {
  auto client_mode = cfg.client_mode;
  auto host = cfg.self_ep.host;
  auto wanted_port = cfg.self_ep.port;
  auto timeout = bootstrap_timeout(cfg);
  io_peer result;
  result.peer = spawn_peer(sys, std::move(cfg), std::make_shared<io_transport>(faults));
  std::string advertised;
  if (!client_mode) {
    result.front = spawn_peer_front(sys, result.peer);
    auto port = net_guard::publish_guarded(sys, result.front, host, wanted_port, guard, "dht");
    if (!port) {
      caf::anon_send_exit(result.peer, caf::exit_reason::user_shutdown); // the front follows
      return port.error();
    }
    result.port = std::move(*port);
    result.ep = endpoint{host, result.port->port()};
    advertised = result.ep.to_string();
  }
  client c{sys, result.peer, timeout};
  auto joined = c.bootstrap(initial_peers, advertised);
  if (!joined) {
    stop_io_peer(sys, result);
    return joined.error();
  }
  result.stats = std::move(*joined);
  return result;
}

void stop_io_peer(caf::actor_system& sys, const io_peer& p) {
  if (p.port)
    net_guard::unpublish(sys, p.front, *p.port);
  caf::anon_send_exit(p.peer, caf::exit_reason::user_shutdown); // the front follows
}

} // namespace colony::dht
