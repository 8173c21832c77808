// Blocking calls on a DHT peer: a local peer_actor, or the front a remote
// one publishes (front.hpp), for tests, the CLI and benchmarks. Each call waits at most the client's timeout and turns every
// failure into an error value (errc::timeout when the peer did not answer).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/dht/front.hpp"
#include "actors/dht/protocol.hpp"

namespace colony::dht {

/// A blocking handle on one peer.
class client {
public:
  /// Calls the local `peer` from `sys`, waiting at most `timeout` per call.
  client(caf::actor_system& sys, peer_actor peer,
         caf::timespan timeout = std::chrono::seconds{15});

  /// Calls a remote peer through its published front (no bootstrap).
  client(caf::actor_system& sys, peer_front_actor front,
         caf::timespan timeout = std::chrono::seconds{15});

  /// Joins the swarm (see dht_bootstrap_request); the peer's stats. Only
  /// for a local peer: through a front it fails with errc::bad_request.
  caf::expected<dht_peer_stats> bootstrap(std::vector<std::string> initial_peers,
                                          std::string advertised = {});

  /// Stores many values; the acks per item.
  caf::expected<std::vector<uint32_t>> put(std::vector<dht_put_item> items);

  /// Stores one value (a dictionary entry with `subkey`); the acks.
  caf::expected<uint32_t> store(const std::string& key, const std::string& value,
                                double expiration,
                                const std::optional<std::string>& subkey = std::nullopt);

  /// Looks up many keys; one result per key, in order.
  caf::expected<std::vector<dht_get_result>> get(std::vector<std::string> keys);

  /// The same with its own deadline instead of the client's timeout.
  caf::expected<std::vector<dht_get_result>> get(std::vector<std::string> keys,
                                                 caf::timespan timeout);

  /// Looks up one key.
  caf::expected<dht_get_result> get_one(const std::string& key);

  /// The peer's stats.
  caf::expected<dht_peer_stats> stats();

  const peer_front_actor& peer() const { return peer_; }
  caf::actor_system& system() { return sys_; }
  caf::timespan timeout() const { return timeout_; }

private:
  template <class Reply, class Handle, class Request>
  caf::expected<Reply> ask(const Handle& dest, Request req, caf::timespan timeout);

  template <class Reply, class Request>
  caf::expected<Reply> ask(Request req) {
    return ask<Reply>(peer_, std::move(req), timeout_);
  }

  caf::actor_system& sys_;
  std::optional<peer_actor> local_; ///< for bootstrap; none through a front
  peer_front_actor peer_;
  caf::timespan timeout_;
};

} // namespace colony::dht
