// DHT reads from inside an actor: one request of many keys to a peer, with
// a deadline, answered in the actor's context (request(...).then), so that
// a beam search can share the deadline of the forward it serves.
#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "actors/dht/protocol.hpp"
#include "messages/errc.hpp"

namespace colony::dht {

/// Looks up `keys` through `peer` on behalf of `self`; calls `done` once,
/// in self's context, with one result per key (in order) or errc::timeout
/// when the peer has not answered within `timeout`. The peer's own lookup
/// may go on after that; its result is then dropped.
template <class Self, class Done>
void get_async(Self* self, const peer_actor& peer, std::vector<std::string> keys,
               caf::timespan timeout, Done done) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  self->request(peer, timeout, dht_get_request{std::move(keys)})
    .then([=](dht_get_reply& reply) mutable {
            done(caf::expected<std::vector<dht_get_result>>{std::move(reply.results)});
          },
          [=](caf::error& err) mutable {
            if (err == caf::sec::request_timeout)
              err = make_error(errc::timeout, "DHT get did not finish within "
                                                + std::to_string(ms) + " ms");
            done(caf::expected<std::vector<dht_get_result>>{std::move(err)});
          });
}

} // namespace colony::dht
