// The averager's published front (delegates the peer messages, nothing
// else, to the local actor) and the blocking API over the local actor.
#include "actors/averaging/averager.hpp"

#include <caf/all.hpp>

#include "messages/atoms.hpp"
#include "messages/errc.hpp"
#include "runtime/net_guard/publish.hpp"

namespace colony::averaging {

namespace api_impl {

averager_front_actor::behavior_type front(averager_front_actor::pointer self, caf::actor avg) {
  self->monitor(avg);
  self->set_down_handler([=](caf::down_msg& msg) { self->quit(msg.reason); });
  return {
    [=](avg_join& x) {
      self->delegate(avg, std::move(x));
      return caf::delegated<avg_group>{};
    },
    [=](avg_part& x) {
      self->delegate(avg, std::move(x));
      return caf::delegated<avg_part_result>{};
    },
    [=](avg_state_request& x) {
      self->delegate(avg, std::move(x));
      return caf::delegated<avg_state_chunk>{};
    },
  };
}

/// Sends `xs` to `dest` and waits at most `timeout` for a T.
template <class T, class... Ts>
caf::expected<T> ask(caf::actor_system& sys, const caf::actor& dest, caf::timespan timeout,
                     Ts&&... xs) {
  caf::expected<T> result{caf::error{}};
  caf::scoped_actor self{sys};
  self->request(dest, timeout, std::forward<Ts>(xs)...)
    .receive([&](T& x) { result = std::move(x); },
             [&](caf::error& err) {
               result = err == caf::sec::request_timeout
                          ? make_error(errc::timeout, "the averager did not answer in time")
                          : std::move(err);
             });
  return result;
}

caf::timespan secs(double s) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(s));
}

} // namespace api_impl

using namespace api_impl;

caf::expected<std::unique_ptr<averager>>
averager::start(caf::actor_system& sys, averaging_config cfg, dht::peer_actor dht,
                averager_options opts) {
  if (auto err = validate(cfg))
    return err;
  // A part (or state chunk) travels in one message: it must pass the guard.
  if (cfg.max_part_bytes + 65536 > opts.guard.max_message_bytes)
    return make_error(errc::bad_config, "averaging.max_part_bytes: "
                                          + std::to_string(cfg.max_part_bytes)
                                          + " does not fit the port guard's message limit of "
                                          + std::to_string(opts.guard.max_message_bytes)
                                          + " bytes (64 KiB kept for headers)");
  std::unique_ptr<averager> a{new averager(sys)};
  a->cfg_ = cfg;
  auto host = opts.host;
  auto port = opts.port;
  auto guard = opts.guard;
  // The actor learns its endpoint (ready_atom) once the guard listens,
  // before any other message reaches it.
  a->actor_ = spawn_averager_actor(sys, std::move(cfg), std::move(dht), {}, std::move(opts));
  a->front_ = sys.spawn(front, a->actor_);
  auto published = net_guard::publish_guarded(sys, a->front_, host, port, guard, "averager");
  if (!published) {
    caf::anon_send_exit(a->actor_, caf::exit_reason::user_shutdown);
    return published.error();
  }
  a->ep_ = endpoint{host, (*published)->port()}.to_string();
  a->port_ = *published;
  auto ok = ask<caf::ok_atom>(sys, a->actor_, std::chrono::seconds{10}, ready_atom::value, a->ep_);
  if (!ok)
    return ok.error();
  return a;
}

averager::~averager() {
  if (port_)
    net_guard::unpublish(sys_, front_, *port_);
  caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
}

caf::expected<average_result> averager::average(std::vector<named_tensor> tensors,
                                                double weight) {
  // Past every bound the actor itself keeps, so that a round that fails
  // reports its own reason: announcing (join window + 5 s), the look after
  // half a window, the DHT read (window + 5 s), connecting to the leader and
  // joining it (2 x window + 2 s each), then the round's attempts.
  auto bound = secs(cfg_.join_window_s * 7 + cfg_.round_timeout_s + 20);
  return ask<average_result>(sys_, actor_, bound, average_atom::value, std::move(tensors),
                             weight);
}

caf::expected<state_snapshot> averager::fetch_state() {
  return ask<state_snapshot>(sys_, actor_, secs(cfg_.round_timeout_s + 15), fetch_atom::value);
}

caf::error averager::set_state(std::vector<named_tensor> tensors, uint64_t version) {
  auto ok = ask<caf::ok_atom>(sys_, actor_, secs(cfg_.join_window_s + 15), set_state_atom::value,
                              std::move(tensors), version);
  return ok ? caf::none : ok.error();
}

} // namespace colony::averaging
