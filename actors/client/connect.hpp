// What every Colony client needs to reach a published actor by endpoint,
// written once for the expert client and the DHT transport: a thread-safe
// handle cache that remembers lost connections, connect-with-timeout
// through the middleman (CAF's io::remote_actor has none) and through the
// process's outgoing guard (runtime/net_guard/outbound_guard.hpp), in a
// blocking and an actor (request(...).then) form, and the classification
// of CAF's transport errors into colony::errc values that name the peer.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "messages/errc.hpp"
#include "runtime/endpoint.hpp"
#include "runtime/net_guard/outbound_guard.hpp"

namespace colony::net {

/// True for CAF errors that mean the connection or the remote actor is gone
/// (request_receiver_down, remote_linking_failed, cannot_connect_to_node).
bool is_connection_loss(const caf::error& err);

/// errc::unreachable: "<what> <ep> unreachable (<why>)".
caf::error unreachable(const std::string& what, const endpoint& ep, const std::string& why);

/// A failed connect to `what` at `ep`: what the outgoing guard saw, if it
/// cut a connection to `ep` since it had `refusals_before` refusals
/// (payload_too_large for a header over the limit, malformed_payload for
/// one of no BASP operation), else errc::unreachable with CAF's `why`.
caf::error connect_failure(const std::string& what, const endpoint& ep,
                           uint64_t refusals_before, const std::string& why);

/// Maps a failed request to `who` (e.g. "node 127.0.0.1:4000 expert 'ffn.0.1'")
/// at `ep` into colony terms: a timeout becomes errc::timeout naming the
/// timeout, or errc::unreachable when the connection was `lost` meanwhile; a
/// connection loss becomes errc::unreachable; other errors pass unchanged.
caf::error classify(const caf::error& err, const endpoint& ep, const std::string& who,
                    caf::timespan timeout, bool lost);

/// Endpoint -> handle, thread-safe; also remembers endpoints whose
/// connection was lost and not re-established since.
template <class Handle>
class handle_cache {
public:
  std::optional<Handle> find(const endpoint& ep) const {
    std::lock_guard<std::mutex> guard{mx_};
    auto i = cache_.find(ep);
    if (i == cache_.end())
      return std::nullopt;
    return i->second;
  }

  /// Stores `h` (keeps an existing entry) and clears the lost mark;
  /// `*was_lost` (if given) tells whether `ep` was marked lost, `*inserted`
  /// whether `h` went into an empty slot.
  Handle put(const endpoint& ep, Handle h, bool* was_lost = nullptr, bool* inserted = nullptr) {
    std::lock_guard<std::mutex> guard{mx_};
    auto n = lost_.erase(ep);
    if (was_lost)
      *was_lost = n > 0;
    auto [i, added] = cache_.emplace(ep, std::move(h));
    if (inserted)
      *inserted = added;
    return i->second;
  }

  void erase(const endpoint& ep) {
    take(ep); // the handle dies after the lock (its death may call back)
  }

  /// Forgets `ep` and marks it lost; false when it already was lost.
  bool mark_lost(const endpoint& ep) {
    std::optional<Handle> gone;
    std::lock_guard<std::mutex> guard{mx_};
    gone = take_locked(ep);
    return lost_.insert(ep).second;
  }

  bool lost(const endpoint& ep) const {
    std::lock_guard<std::mutex> guard{mx_};
    return lost_.count(ep) > 0;
  }

private:
  std::optional<Handle> take(const endpoint& ep) {
    std::lock_guard<std::mutex> guard{mx_};
    return take_locked(ep);
  }

  std::optional<Handle> take_locked(const endpoint& ep) {
    auto i = cache_.find(ep);
    if (i == cache_.end())
      return std::nullopt;
    std::optional<Handle> h{std::move(i->second)};
    cache_.erase(i);
    return h;
  }

  mutable std::mutex mx_;
  std::map<endpoint, Handle> cache_;
  std::set<endpoint> lost_;
};

/// The middleman's answer to a connect as a Handle, or errc::unreachable
/// when nothing (or something of another interface) is published there.
template <class Handle>
caf::expected<Handle> handle_of(caf::actor_system& sys, const endpoint& ep,
                                const std::string& what, caf::strong_actor_ptr ptr,
                                const std::set<std::string>& ifs) {
  if (!ptr || !sys.assignable<Handle>(ifs))
    return unreachable(what, ep, "nothing of that kind published");
  return caf::actor_cast<Handle>(std::move(ptr));
}

/// Connects to the actor of type Handle published at `ep`, from the
/// event-based actor `self`, within `timeout`; calls `done` exactly once in
/// self's context with the handle or errc::unreachable ("<what> <ep>
/// unreachable (...)", also when something else is published there).
template <class Handle, class Self, class Done>
void connect_async(Self* self, const endpoint& ep, caf::timespan timeout,
                   const std::string& what, Done done) {
  auto mm = self->system().middleman().actor_handle();
  caf::actor_system& sys = self->system();
  auto& guard = net_guard::outbound_guard::instance();
  auto via = guard.route(ep);
  if (!via) // synchronously, in self's context
    return done(caf::expected<Handle>{unreachable(what, ep, describe(via.error()))});
  auto before = guard.refusals(ep);
  self->request(mm, timeout, caf::connect_atom::value, via->host, via->port)
    .then(
      [=, &sys](const caf::node_id&, caf::strong_actor_ptr& ptr,
                std::set<std::string>& ifs) mutable {
        done(handle_of<Handle>(sys, ep, what, std::move(ptr), ifs));
      },
      [=, &sys](caf::error& err) mutable {
        done(caf::expected<Handle>{connect_failure(what, ep, before, sys.render(err))});
      });
}

/// The blocking form of connect_async, for the CLI and tests. A peer that
/// accepts but does not finish the handshake within `timeout` is
/// errc::timeout ("no handshake from <what> <ep> within N ms"), what a CLI
/// user asked a deadline for; the gate's connect_async keeps calling it
/// unreachable, so that the node is skipped.
template <class Handle>
caf::expected<Handle> connect_blocking(caf::actor_system& sys, const endpoint& ep,
                                       caf::timespan timeout, const std::string& what) {
  auto& guard = net_guard::outbound_guard::instance();
  auto via = guard.route(ep);
  if (!via)
    return unreachable(what, ep, describe(via.error()));
  auto before = guard.refusals(ep);
  caf::expected<Handle> result{caf::error{}};
  caf::scoped_actor self{sys};
  self->request(sys.middleman().actor_handle(), timeout, caf::connect_atom::value, via->host,
                via->port)
    .receive(
      [&](const caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
        result = handle_of<Handle>(sys, ep, what, std::move(ptr), ifs);
      },
      [&](caf::error& err) {
        if (err == caf::sec::request_timeout)
          result = make_error(
            errc::timeout, "no handshake from " + what + " " + ep.to_string() + " within "
                             + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                timeout).count())
                             + " ms");
        else
          result = connect_failure(what, ep, before, sys.render(err));
      });
  return result;
}

} // namespace colony::net
