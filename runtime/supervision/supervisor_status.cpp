// The supervisor's request handlers: which (its subtree, child supervisors
// asked in turn), add_child, remove_child and lookup (supervisor.hpp).
#include <algorithm>
#include <chrono>
#include <memory>

#include <caf/all.hpp>

#include "messages/errc.hpp"
#include "runtime/supervision/supervisor_state.hpp"

namespace colony::supervision {

namespace {

/// How long `which` waits for a child supervisor's subtree.
constexpr auto which_timeout = std::chrono::seconds{2};

const char* state_name(const child_state& c) {
  switch (c.at) {
    case phase::running: return "running";
    case phase::stopping: return c.after_stop == phase::restarting ? "restarting" : "running";
    case phase::restarting: return "restarting";
    case phase::stopped: return "stopped";
    case phase::failed: return "failed";
  }
  return "unknown";
}

/// Collects the parts of one `which` answer until every child supervisor
/// answered or timed out.
struct which_gather {
  std::vector<std::vector<tree_entry>> parts;
  size_t pending = 0;
  caf::typed_response_promise<std::vector<tree_entry>> rp;

  std::vector<tree_entry> flat() const {
    std::vector<tree_entry> out;
    for (auto& p : parts)
      out.insert(out.end(), p.begin(), p.end());
    return out;
  }

  void done() {
    if (--pending == 0)
      rp.deliver(flat());
  }
};

/// Appends `sub` (a child supervisor's answer, itself first) below `part`
/// (its entry as the parent sees it), its paths moved under part's path.
void graft(std::vector<tree_entry>& part, std::vector<tree_entry>& sub) {
  if (sub.empty())
    return;
  const std::string own = sub.front().path;
  const std::string mine = part.front().path; // part grows below
  for (size_t i = 1; i < sub.size(); ++i) {
    auto e = std::move(sub[i]);
    if (e.path.compare(0, own.size(), own) == 0)
      e.path = mine + e.path.substr(own.size());
    else
      e.path = mine + "/" + e.path;
    part.push_back(std::move(e));
  }
}

} // namespace

caf::result<std::vector<tree_entry>> supervisor_state::which() {
  auto g = std::make_shared<which_gather>();
  auto now = self_->clock().now();
  tree_entry me;
  me.path = path_;
  me.kind = "supervisor";
  me.state = shutting_down_ ? "stopping" : "running";
  me.uptime_s = std::chrono::duration<double>(now - born_).count();
  g->parts.push_back({me});
  std::vector<std::pair<size_t, caf::actor>> asks;
  for (auto& c : children_) {
    tree_entry e;
    e.path = path_ + "/" + c.spec.id;
    e.kind = c.spec.is_supervisor ? "supervisor" : "worker";
    e.state = state_name(c);
    e.restart = to_string(c.spec.restart);
    e.restarts = c.restarts;
    if (c.at == phase::running)
      e.uptime_s = std::chrono::duration<double>(now - c.started_at).count();
    e.last_exit = c.last_exit;
    g->parts.push_back({e});
    if (c.spec.is_supervisor && c.at == phase::running)
      asks.emplace_back(g->parts.size() - 1, c.handle);
  }
  if (asks.empty())
    return g->flat();
  g->pending = asks.size();
  g->rp = self_->make_response_promise<std::vector<tree_entry>>();
  for (auto& [idx, h] : asks) {
    auto i = idx;
    self_->request(h, which_timeout, which_atom::value)
      .then(
        [g, i](std::vector<tree_entry>& sub) {
          graft(g->parts[i], sub);
          g->done();
        },
        [g, i](caf::error&) {
          g->parts[i].front().state = "unknown";
          g->done();
        });
  }
  return g->rp;
}

caf::result<std::string> supervisor_state::add_child(child_spec spec) {
  if (shutting_down_)
    return make_error(errc::bad_request, "supervisor " + path_ + " is shutting down");
  if (spec.id.empty() || spec.id.find('/') != std::string::npos)
    return make_error(errc::bad_request, "child id \"" + spec.id + "\" under supervisor "
                                           + path_ + ": empty or contains '/'");
  if (find(spec.id))
    return make_error(errc::bad_request, "child " + spec.id + " already exists under supervisor "
                                           + path_);
  auto id = spec.id;
  child_state c;
  c.spec = std::move(spec);
  children_.push_back(std::move(c));
  start_sequence({id});
  return id;
}

caf::result<bool> supervisor_state::remove_child(const std::string& id) {
  auto* c = find(id);
  if (!c)
    return false;
  c->removing = true;
  c->after_stop = phase::stopped;
  auto erase = [this, id] {
    children_.erase(std::remove_if(children_.begin(), children_.end(),
                                   [&](const child_state& x) { return x.spec.id == id; }),
                    children_.end());
  };
  if (!c->handle) {
    erase();
    return true;
  }
  auto rp = self_->make_response_promise<bool>();
  stop_child(id, [erase, rp]() mutable {
    erase();
    rp.deliver(true);
  });
  return rp;
}

caf::result<caf::actor> supervisor_state::lookup(const std::string& id) {
  auto* c = find(id);
  if (!c)
    return make_error(errc::not_found, "no child " + id + " under supervisor " + path_);
  switch (c->at) {
    case phase::running:
      return c->handle;
    case phase::stopped:
    case phase::failed:
      return make_error(errc::not_found, "child " + id + " under supervisor " + path_ + " is "
                                           + state_name(*c));
    default:
      return make_error(errc::expert_restarting,
                        "child " + id + " under supervisor " + path_ + " is not running");
  }
}

} // namespace colony::supervision
