#include "actors/dht/client.hpp"

#include <caf/all.hpp>

#include "messages/errc.hpp"

namespace colony::dht {

client::client(caf::actor_system& sys, peer_actor peer, caf::timespan timeout)
  : sys_(sys), local_(peer), peer_(peer), timeout_(timeout) {
  // nop
}

client::client(caf::actor_system& sys, peer_front_actor front, caf::timespan timeout)
  : sys_(sys), peer_(std::move(front)), timeout_(timeout) {
  // nop
}

template <class Reply, class Handle, class Request>
caf::expected<Reply> client::ask(const Handle& dest, Request req, caf::timespan timeout) {
  caf::expected<Reply> result{caf::error{}};
  caf::scoped_actor self{sys_};
  self->request(dest, timeout, std::move(req))
    .receive([&](Reply& reply) { result = std::move(reply); },
             [&](caf::error& err) {
               if (err == caf::sec::request_timeout) {
                 auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
                 err = make_error(errc::timeout, "DHT peer did not answer within "
                                                   + std::to_string(ms.count()) + " ms");
               }
               result = std::move(err);
             });
  return result;
}

caf::expected<dht_peer_stats> client::bootstrap(std::vector<std::string> initial_peers,
                                                std::string advertised) {
  if (!local_)
    return make_error(errc::bad_request, "bootstrap needs the local DHT peer, not its front");
  return ask<dht_peer_stats>(
    *local_, dht_bootstrap_request{std::move(advertised), std::move(initial_peers)}, timeout_);
}

caf::expected<std::vector<uint32_t>> client::put(std::vector<dht_put_item> items) {
  auto reply = ask<dht_put_reply>(dht_put_request{std::move(items)});
  if (!reply)
    return reply.error();
  return std::move(reply->acks);
}

caf::expected<uint32_t> client::store(const std::string& key, const std::string& value,
                                      double expiration,
                                      const std::optional<std::string>& subkey) {
  dht_put_item item{key, subkey.has_value(), subkey.value_or(""), value, expiration};
  auto acks = put({std::move(item)});
  if (!acks)
    return acks.error();
  return acks->at(0);
}

caf::expected<std::vector<dht_get_result>> client::get(std::vector<std::string> keys) {
  auto reply = ask<dht_get_reply>(dht_get_request{std::move(keys)});
  if (!reply)
    return reply.error();
  return std::move(reply->results);
}

caf::expected<std::vector<dht_get_result>> client::get(std::vector<std::string> keys,
                                                       caf::timespan timeout) {
  auto reply = ask<dht_get_reply>(peer_, dht_get_request{std::move(keys)}, timeout);
  if (!reply)
    return reply.error();
  return std::move(reply->results);
}

caf::expected<dht_get_result> client::get_one(const std::string& key) {
  auto results = get(std::vector<std::string>{key});
  if (!results)
    return results.error();
  return std::move(results->at(0));
}

caf::expected<dht_peer_stats> client::stats() {
  return ask<dht_peer_stats>(stats_atom::value);
}

} // namespace colony::dht
