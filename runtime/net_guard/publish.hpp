// Publishing an actor behind a basp_guard: CAF listens on 127.0.0.1 at a
// port the kernel picks, the guard on the public host and port. Every port
// Colony publishes (expert server, DHT peer) goes through here.
#pragma once

#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/io/middleman.hpp>

#include "messages/errc.hpp"
#include "runtime/net_guard/basp_guard.hpp"

namespace colony::net_guard {

/// A published actor: the guard's public port and CAF's internal one.
/// Destroying it stops the guard; unpublish() closes CAF's port too.
struct guarded_port {
  std::unique_ptr<basp_guard> guard;
  uint16_t internal = 0;

  uint16_t port() const { return guard ? guard->port() : 0; }
};

/// Publishes `handle` behind a guard listening on `host`:`port` (0: any
/// free port). errc::io_failed naming the address when either cannot
/// listen; nothing stays published then.
template <class Handle>
caf::expected<std::shared_ptr<guarded_port>>
publish_guarded(caf::actor_system& sys, const Handle& handle, const std::string& host,
                uint16_t port, const guard_config& cfg, std::string name) {
  auto internal = sys.middleman().publish(handle, 0, "127.0.0.1", false);
  if (!internal)
    return make_error(errc::io_failed, "cannot publish " + name + " on 127.0.0.1 ("
                                         + sys.render(internal.error()) + ")");
  auto guard = basp_guard::start(host, port, *internal, cfg, name);
  if (!guard) {
    sys.middleman().unpublish(handle, *internal);
    return guard.error();
  }
  auto out = std::make_shared<guarded_port>();
  out->guard = std::move(*guard);
  out->internal = *internal;
  return out;
}

/// Closes CAF's internal port of `handle` and stops the guard.
template <class Handle>
void unpublish(caf::actor_system& sys, const Handle& handle, guarded_port& p) {
  if (p.internal != 0)
    sys.middleman().unpublish(handle, p.internal);
  p.internal = 0;
  p.guard.reset();
}

} // namespace colony::net_guard
