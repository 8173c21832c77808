// The control actor (actors/control/control_actor.hpp).

#include "actors/control/control_actor.hpp"

#include <utility>

#include <caf/all.hpp>

#include "messages/errc.hpp"
#include "messages/expert_uid.hpp"
#include "runtime/expert_spec_wire.hpp"
#include "runtime/logging.hpp"
#include "runtime/rate_limit.hpp"
#include "runtime/supervision/report.hpp"

namespace colony::control {

namespace {

struct control_state {
  std::string token;
  control_deps deps;
  rate_limited_counter refusals{std::chrono::seconds{1}};

  static inline const char* name = "control";
};

using pointer = control_actor::stateful_pointer<control_state>;

/// Who sent the current message: "local" or the sending node's id.
std::string peer_of(pointer self) {
  auto& sender = self->current_sender();
  if (!sender || sender->node() == self->node())
    return "local";
  return caf::to_string(sender->node());
}

/// errc::unauthorized unless `token` is the node's; logs the refusal.
caf::error check_token(pointer self, const std::string& token, const char* request) {
  if (tokens_equal(token, self->state.token))
    return {};
  if (auto n = self->state.refusals.add(1, self->clock().now()))
    supervision::report(supervision::event::ctl_refused,
                        {{"request", request},
                         {"peer", peer_of(self)},
                         {"reason", token.empty() ? "missing token" : "wrong token"},
                         {"refused", std::to_string(n)}},
                        spdlog::level::warn);
  return make_error(errc::unauthorized, "control request refused: wrong or missing token");
}

caf::error check_spawn(const ctl_spawn& req) {
  if (req.count < 1 || req.count > max_spawn_count)
    return make_error(errc::bad_request, "count " + std::to_string(req.count)
                                           + " out of range 1.." + std::to_string(max_spawn_count));
  if (!is_valid_uid(req.prefix + ".0"))
    return make_error(errc::bad_request, "invalid expert uid prefix '" + req.prefix
                                           + "' (want name.i.j... with integer coordinates, "
                                             "e.g. ffn.3)");
  if (req.spec.module_type.empty()) // the node copies an existing group's spec
    return {};
  auto group = from_wire(req.spec, req.prefix, req.count);
  return group ? caf::error{} : group.error();
}

caf::error check_stop(const ctl_stop& req) {
  if (req.uids.empty())
    return make_error(errc::bad_request, "no uids to stop");
  for (const auto& uid : req.uids)
    if (!is_valid_uid(uid))
      return make_error(errc::bad_request, "invalid expert uid '" + uid + "'");
  return {};
}

/// A failed manager request in control terms: a timeout names the request.
caf::error manager_error(pointer self, const caf::error& err, const char* request) {
  if (err == caf::sec::request_timeout)
    return make_error(errc::timeout,
                      std::string{"the node manager did not answer "} + request + " within "
                        + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           self->state.deps.manager_timeout)
                                           .count())
                        + " ms");
  return err;
}

/// Asks the manager `args...` and replies `wrap(its answer)`.
template <class Reply, class Answer, class Wrap, class... Ts>
caf::result<Reply> ask_manager(pointer self, const char* request, Wrap wrap, Ts&&... args) {
  auto rp = self->make_response_promise<Reply>();
  self->request(self->state.deps.manager, self->state.deps.manager_timeout,
                std::forward<Ts>(args)...)
    .then([=](Answer& answer) mutable { rp.deliver(wrap(std::move(answer))); },
          [=](caf::error& err) mutable { rp.deliver(manager_error(self, err, request)); });
  return rp;
}

caf::result<ctl_uids> on_spawn(pointer self, ctl_spawn& req) {
  if (auto err = check_token(self, req.token, "spawn"))
    return err;
  if (auto err = check_spawn(req))
    return err;
  auto wrap = [](std::vector<std::string> uids) { return ctl_uids{std::move(uids)}; };
  return ask_manager<ctl_uids, std::vector<std::string>>(self, "spawn", wrap, spawn_atom::value, req.prefix, req.count,
                               req.spec);
}

caf::result<ctl_uids> on_stop(pointer self, ctl_stop& req) {
  if (auto err = check_token(self, req.token, "stop"))
    return err;
  if (auto err = check_stop(req))
    return err;
  auto wrap = [](std::vector<std::string> uids) { return ctl_uids{std::move(uids)}; };
  return ask_manager<ctl_uids, std::vector<std::string>>(self, "stop", wrap, remove_atom::value, req.uids);
}

caf::result<node_status> on_status(pointer self, const ctl_status& req) {
  if (auto err = check_token(self, req.token, "status"))
    return err;
  auto wrap = [](node_status s) { return s; };
  return ask_manager<node_status, node_status>(self, "status", wrap, status_atom::value);
}

caf::result<ctl_log_lines> on_logs(pointer self, const ctl_logs& req) {
  if (auto err = check_token(self, req.token, "logs"))
    return err;
  if (!self->state.deps.logs)
    return make_error(errc::not_found, "this node keeps no log ring");
  return self->state.deps.logs(req.after, req.max_lines);
}

control_actor::behavior_type control_behavior(pointer self, std::string token,
                                              control_deps deps) {
  self->state.token = std::move(token);
  self->state.deps = std::move(deps);
  return {
    [=](ctl_spawn& req) { return on_spawn(self, req); },
    [=](ctl_stop& req) { return on_stop(self, req); },
    [=](const ctl_status& req) { return on_status(self, req); },
    [=](const ctl_logs& req) { return on_logs(self, req); },
  };
}

} // namespace

control_actor spawn_control(caf::actor_system& sys, std::string token, control_deps deps) {
  return sys.spawn(control_behavior, std::move(token), std::move(deps));
}

caf::expected<control_port> start_control(caf::actor_system& sys, const control_config& cfg,
                                          control_deps deps,
                                          const net_guard::guard_config& guard) {
  auto token = load_token(cfg.token_file);
  if (!token)
    return token.error();
  control_port p;
  p.handle = spawn_control(sys, std::move(*token), std::move(deps));
  auto published = net_guard::publish_guarded(sys, p.handle, cfg.host, cfg.port, guard,
                                              "control");
  if (!published) {
    caf::anon_send_exit(p.handle, caf::exit_reason::user_shutdown);
    return published.error();
  }
  p.published = std::move(*published);
  log::get("net")->info("event=control_published host={} port={}", cfg.host, p.port());
  return p;
}

void stop_control(caf::actor_system& sys, control_port& p) {
  if (p.published)
    net_guard::unpublish(sys, p.handle, *p.published);
  if (p.handle)
    caf::anon_send_exit(p.handle, caf::exit_reason::user_shutdown);
  p = control_port{};
}

} // namespace colony::control
