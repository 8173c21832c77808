// The supervisor actor: starting children, reacting to their exits with the
// strategy, the restart intensity and the backoff, and stopping them in
// reverse start order (supervisor.hpp; status handlers in
// supervisor_status.cpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include <caf/all.hpp>

#include "messages/errc.hpp"
#include "runtime/supervision/supervisor_state.hpp"

namespace colony::supervision {

namespace {

/// The path a supervisor being spawned by a start function gets: set by the
/// parent around the call (start functions run synchronously in the parent's
/// context, on the parent's thread), consumed by spawn_supervisor.
thread_local std::string pending_child_path;

caf::timespan from_ms(double ms) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double, std::milli>(ms));
}

} // namespace

const char* supervisor_state::name = "supervisor";

std::string reason_text(const caf::error& reason) {
  if (!reason)
    return "normal";
  if (reason.category() == caf::atom("exit"))
    return caf::to_string(static_cast<caf::exit_reason>(reason.code()));
  return describe(reason);
}

bool is_normal_exit(const caf::error& reason) {
  return !reason || reason == caf::exit_reason::normal
         || reason == caf::exit_reason::user_shutdown;
}

std::string format_ms(double ms) {
  if (ms == std::floor(ms))
    return std::to_string(static_cast<long long>(ms));
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3f", ms);
  std::string s = buf;
  while (s.back() == '0')
    s.pop_back();
  return s;
}

supervisor_state::~supervisor_state() {
  for (auto& c : children_)
    if (c.handle)
      caf::anon_send_exit(c.handle, caf::exit_reason::kill);
}

void supervisor_state::init(pointer self, supervisor_config cfg,
                            std::vector<child_spec> children, std::string path) {
  self_ = self;
  cfg_ = std::move(cfg);
  path_ = std::move(path);
  window_ = restart_window{cfg_.max_restarts, cfg_.window_s};
  auto& b = cfg_.backoff;
  backoff_ = backoff_schedule{b.initial_ms, b.max_ms, b.multiplier, b.jitter, b.seed};
  born_ = self_->clock().now();
  std::vector<std::string> ids;
  for (auto& spec : children) {
    ids.push_back(spec.id);
    child_state c;
    c.spec = std::move(spec);
    children_.push_back(std::move(c));
  }
  start_sequence(std::move(ids));
}

child_state* supervisor_state::find(const std::string& id) {
  for (auto& c : children_)
    if (c.spec.id == id)
      return &c;
  return nullptr;
}

child_state* supervisor_state::find(const caf::actor_addr& addr) {
  for (auto& c : children_)
    if (c.handle && c.handle.address() == addr)
      return &c;
  return nullptr;
}

double supervisor_state::now_s() const {
  return std::chrono::duration<double>(self_->clock().now() - born_).count();
}

fields supervisor_state::base(const child_state& c) const {
  return {{"supervisor", path_}, {"child", c.spec.id}};
}

// -- starting ---------------------------------------------------------------

caf::error supervisor_state::start_child(child_state& c) {
  start_context ctx{c.restarts, c.restart_reason};
  pending_child_path = c.spec.is_supervisor ? path_ + "/" + c.spec.id : std::string{};
  caf::expected<started> r = make_error(errc::bad_request, "child " + c.spec.id
                                                             + " has no start function");
  if (c.spec.start)
    r = c.spec.start(self_->system(), ctx);
  pending_child_path.clear();
  if (r && !r->handle)
    r = make_error(errc::bad_request, "start function of child " + c.spec.id
                                        + " returned no actor");
  if (!r)
    return std::move(r.error());
  c.handle = r->handle;
  self_->monitor(c.handle);
  ++c.generation;
  c.at = phase::running;
  c.started_at = self_->clock().now();
  auto f = base(c);
  f.emplace_back("restarts", std::to_string(c.restarts));
  if (c.restarts == 0) {
    f.insert(f.end(), r->log_fields.begin(), r->log_fields.end());
    report(event::child_started, f);
    return caf::none;
  }
  f.emplace_back("backoff_ms", format_ms(c.backoff_ms));
  f.emplace_back("intensity", std::to_string(cfg_.max_restarts));
  f.emplace_back("window_s", format_ms(cfg_.window_s));
  f.insert(f.end(), r->log_fields.begin(), r->log_fields.end());
  report(event::child_restarted, f);
  return caf::none;
}

void supervisor_state::start_sequence(std::vector<std::string> ids) {
  for (size_t i = 0; i < ids.size(); ++i) {
    auto* c = find(ids[i]);
    if (!c || c->at != phase::restarting || c->removing || shutting_down_)
      continue;
    auto err = start_child(*c);
    if (!err)
      continue;
    auto reason = describe(err);
    auto f = base(*c);
    f.emplace_back("restarts", std::to_string(c->restarts));
    f.emplace_back("reason", reason);
    report(event::restart_failed, f, spdlog::level::warn);
    if (cfg_.how == strategy::one_for_one) {
      handle_failure(ids[i], reason, {ids[i]});
      continue;
    }
    // The children after it depend on it: they wait for its retry.
    handle_failure(ids[i], reason, {ids.begin() + i, ids.end()});
    return;
  }
}

// -- exits and restarts -----------------------------------------------------

void supervisor_state::on_down(const caf::down_msg& m) {
  auto* c = find(m.source);
  if (!c)
    return;
  c->handle = nullptr;
  if (c->at == phase::stopping)
    finish_stop(*c, m.reason);
  else
    on_child_exit(*c, m.reason);
}

void supervisor_state::on_child_exit(child_state& c, const caf::error& reason) {
  auto text = reason_text(reason);
  bool normal = is_normal_exit(reason);
  auto f = base(c);
  f.emplace_back("reason", text);
  f.emplace_back("restart", to_string(c.spec.restart));
  report(event::child_exited, f, normal ? spdlog::level::info : spdlog::level::warn);
  if (!normal)
    c.last_exit = text;
  c.at = phase::stopped;
  if (shutting_down_ || c.spec.restart == restart_policy::temporary
      || (c.spec.restart == restart_policy::transient && normal))
    return;
  // A child that ran a full window before failing starts its backoff over.
  auto ran_s = std::chrono::duration<double>(self_->clock().now() - c.started_at).count();
  if (ran_s >= cfg_.window_s)
    c.consecutive = 0;
  handle_failure(c.spec.id, text, group_of(c.spec.id));
}

std::vector<std::string> supervisor_state::group_of(const std::string& id) const {
  if (cfg_.how == strategy::one_for_one)
    return {id};
  std::vector<std::string> group;
  bool after = false;
  for (auto& c : children_) {
    bool self = c.spec.id == id;
    after = after || self;
    bool live = !c.removing && (c.at == phase::running || c.at == phase::stopping
                                || c.at == phase::restarting);
    if (self || (live && (cfg_.how == strategy::one_for_all || after)))
      group.push_back(c.spec.id);
  }
  return group;
}

void supervisor_state::handle_failure(const std::string& id, const std::string& reason,
                                      std::vector<std::string> group) {
  if (!window_.admit(now_s())) {
    over_intensity(id, reason, group);
    return;
  }
  auto* c = find(id);
  double delay = backoff_.delay_ms(++c->consecutive);
  delay = std::round(delay * 1000) / 1000; // the logged value is the used value
  auto token = ++next_token_;
  std::vector<std::string> to_stop; // running siblings, reverse start order
  for (auto& g : group) {
    auto* m = find(g);
    if (!m)
      continue;
    if (m->handle)
      to_stop.insert(to_stop.begin(), g);
    if (m->spec.restart == restart_policy::temporary && g != id) {
      m->after_stop = phase::stopped; // stopped with the group, never restarted
      continue;
    }
    m->at = m->handle ? m->at : phase::restarting;
    m->after_stop = phase::restarting;
    m->token = token;
    m->backoff_ms = delay;
    m->restart_reason = reason;
    ++m->restarts;
  }
  stop_in_order(to_stop, [this, token, delay] { schedule_restart(token, delay); });
}

void supervisor_state::over_intensity(const std::string& id, const std::string& reason,
                                      const std::vector<std::string>& group) {
  if (cfg_.escalate) {
    report(event::escalated,
           {{"supervisor", path_},
            {"reason", reason},
            {"restarts", std::to_string(window_.in_window(now_s()))},
            {"intensity", std::to_string(cfg_.max_restarts)},
            {"window_s", format_ms(cfg_.window_s)}},
           spdlog::level::err);
    shutdown(make_error(errc::gave_up, "supervisor " + path_ + ": more than "
                                         + std::to_string(cfg_.max_restarts) + " restarts in "
                                         + format_ms(cfg_.window_s) + " s, last: " + reason));
    return;
  }
  auto* c = find(id);
  c->at = phase::failed;
  auto f = base(*c);
  f.emplace_back("reason", reason);
  report(event::gave_up, f, spdlog::level::err);
  if (cfg_.on_gave_up)
    cfg_.on_gave_up(id, reason);
  // The rest of its group (waiting for it) starts without it.
  std::vector<std::string> rest;
  for (auto& g : group)
    if (g != id)
      rest.push_back(g);
  start_sequence(rest);
}

void supervisor_state::schedule_restart(uint64_t token, double delay_ms) {
  if (delay_ms <= 0)
    on_restart_timer(token);
  else
    self_->delayed_send(self_, from_ms(delay_ms), sv_restart_atom::value, token);
}

void supervisor_state::on_restart_timer(uint64_t token) {
  std::vector<std::string> ids;
  for (auto& c : children_)
    if (c.token == token && c.at == phase::restarting)
      ids.push_back(c.spec.id);
  start_sequence(std::move(ids));
}

// -- stopping ---------------------------------------------------------------

void supervisor_state::stop_child(const std::string& id, std::function<void()> k) {
  auto* c = find(id);
  if (!c || !c->handle) {
    k();
    return;
  }
  c->on_stopped.push_back(std::move(k));
  if (c->at == phase::stopping)
    return; // already on its way; k runs with the others
  c->at = phase::stopping;
  self_->send_exit(c->handle, caf::exit_reason::user_shutdown);
  if (c->spec.shutdown <= caf::timespan{0})
    self_->send_exit(c->handle, caf::exit_reason::kill);
  else
    self_->delayed_send(self_, c->spec.shutdown, sv_kill_atom::value, id, c->generation);
}

void supervisor_state::stop_in_order(std::vector<std::string> ids, std::function<void()> k) {
  if (ids.empty()) {
    k();
    return;
  }
  auto first = ids.front();
  ids.erase(ids.begin());
  stop_child(first, [this, ids = std::move(ids), k = std::move(k)]() mutable {
    stop_in_order(std::move(ids), std::move(k));
  });
}

void supervisor_state::on_kill_timer(const std::string& id, uint64_t generation) {
  auto* c = find(id);
  if (c && c->handle && c->at == phase::stopping && c->generation == generation)
    self_->send_exit(c->handle, caf::exit_reason::kill);
}

void supervisor_state::finish_stop(child_state& c, const caf::error& reason) {
  auto f = base(c);
  f.emplace_back("reason", reason_text(reason));
  report(event::child_stopped, f);
  c.at = shutting_down_ ? phase::stopped : c.after_stop;
  auto ks = std::move(c.on_stopped); // a continuation may erase c
  c.on_stopped.clear();
  for (auto& k : ks)
    k();
}

void supervisor_state::shutdown(caf::error reason) {
  if (shutting_down_)
    return;
  shutting_down_ = true;
  std::vector<std::string> ids;
  for (auto i = children_.rbegin(); i != children_.rend(); ++i)
    ids.push_back(i->spec.id);
  stop_in_order(ids, [this, reason = std::move(reason)] { self_->quit(reason); });
}

void supervisor_state::on_exit_msg(const caf::exit_msg& m) {
  shutdown(m.reason);
}

// -- spawning -----------------------------------------------------------------

namespace {

caf::behavior supervisor_actor(caf::stateful_actor<supervisor_state>* self,
                               supervisor_config cfg, std::vector<child_spec> children,
                               std::string path) {
  auto& st = self->state;
  self->set_down_handler([&st](caf::down_msg& m) { st.on_down(m); });
  self->set_exit_handler([&st](caf::exit_msg& m) { st.on_exit_msg(m); });
  st.init(self, std::move(cfg), std::move(children), std::move(path));
  return {
    [&st](sv_restart_atom, uint64_t token) { st.on_restart_timer(token); },
    [&st](sv_kill_atom, const std::string& id, uint64_t gen) { st.on_kill_timer(id, gen); },
    [&st](which_atom) { return st.which(); },
    [&st](add_child_atom, child_spec& spec) { return st.add_child(std::move(spec)); },
    [&st](remove_child_atom, const std::string& id) { return st.remove_child(id); },
    [&st](lookup_atom, const std::string& id) { return st.lookup(id); },
  };
}

} // namespace

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_config cfg,
                            std::vector<child_spec> children) {
  auto path = pending_child_path.empty() ? cfg.id : pending_child_path;
  pending_child_path.clear();
  return sys.spawn(supervisor_actor, std::move(cfg), std::move(children), std::move(path));
}

} // namespace colony::supervision
