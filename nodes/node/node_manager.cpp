#include "nodes/node/node_manager.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "messages/errc.hpp"
#include "runtime/expert_spec_wire.hpp"
#include "runtime/logging.hpp"
#include "runtime/supervision/supervisor.hpp"
#include "runtime/worker_pool.hpp"

namespace colony::node {

namespace {

struct manager_state {
  std::shared_ptr<node_tree> tree;
  /// One thread for the blocking work, in order.
  std::shared_ptr<worker_pool> work = std::make_shared<worker_pool>(1);
  static inline const char* name = "colony.node_manager";
};

using manager_pointer = node_manager_actor::stateful_pointer<manager_state>;

caf::result<std::vector<std::string>> spawn_experts(manager_pointer self, std::string prefix,
                                                    uint32_t count, expert_spec_msg spec) {
  auto promise = self->make_response_promise<std::vector<std::string>>();
  auto tree = self->state.tree;
  self->state.work->post([promise, tree, prefix, count, spec]() mutable -> void {
    auto group = spec.module_type.empty() ? group_spec_of(tree->host, prefix)
                                          : from_wire(spec, prefix, count);
    if (!group)
      { promise.deliver(group.error()); return; }
    auto uids = add_expert_group(*tree->sys, tree->host, prefix, count, std::move(*group));
    if (!uids)
      { promise.deliver(uids.error()); return; }
    log::get("node")->info("event=experts_added prefix={} count={} first={}", prefix,
                           uids->size(), uids->empty() ? "" : uids->front());
    tree->declare_now();
    promise.deliver(std::move(*uids));
  });
  return promise;
}

caf::result<std::vector<std::string>> stop_experts(manager_pointer self,
                                                   std::vector<std::string> uids) {
  auto promise = self->make_response_promise<std::vector<std::string>>();
  auto tree = self->state.tree;
  self->state.work->post([promise, tree, uids]() mutable -> void {
    auto removed = remove_experts(*tree->sys, tree->host, uids);
    if (!removed)
      { promise.deliver(removed.error()); return; }
    log::get("node")->info("event=experts_removed count={}", removed->size());
    tree->declare_now();
    promise.deliver(std::move(*removed));
  });
  return promise;
}

/// Adds each running expert's counters to its entry of the tree.
void add_details(manager_pointer self, std::shared_ptr<node_status> status,
                 caf::typed_response_promise<node_status> promise) {
  auto experts = self->state.tree->host.registry->running();
  auto left = std::make_shared<size_t>(experts.size());
  auto index = std::make_shared<std::map<std::string, size_t>>();
  for (size_t i = 0; i < status->tree.size(); ++i) {
    auto& path = status->tree[i].path;
    (*index)[path.substr(path.rfind('/') + 1)] = i;
  }
  if (*left == 0)
    { promise.deliver(std::move(*status)); return; }
  auto one_done = [status, left, promise]() mutable {
    if (--*left == 0)
      promise.deliver(std::move(*status));
  };
  for (auto& [uid, h] : experts)
    self->request(h, std::chrono::seconds{5}, info_request{uid})
      .then(
        [status, index, one_done](expert_info& info) mutable {
          auto i = index->find(info.uid);
          if (i != index->end()) {
            auto& d = status->tree[i->second].details;
            d["updates"] = std::to_string(info.updates);
            d["forward_samples"] = std::to_string(info.forward_samples);
            d["backward_samples"] = std::to_string(info.backward_samples);
            d["queued_forward"] = std::to_string(info.queued_forward);
            d["queued_backward"] = std::to_string(info.queued_backward);
            d["expired_requests"] = std::to_string(info.expired_requests);
          }
          one_done();
        },
        [one_done](caf::error&) mutable { one_done(); });
}

caf::result<node_status> status(manager_pointer self) {
  auto promise = self->make_response_promise<node_status>();
  auto tree = self->state.tree;
  auto status = std::make_shared<node_status>();
  status->node = tree->where.to_string();
  status->uptime_s = steady_s() - tree->started_at;
  self->request(tree->root, std::chrono::seconds{10}, supervision::which_atom::value)
    .then(
      [self, status, promise](std::vector<tree_entry>& entries) mutable {
        status->tree = std::move(entries);
        add_unavailable(*status, *self->state.tree->host.registry);
        add_details(self, status, promise);
      },
      [promise](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

node_manager_actor::behavior_type manager_fn(manager_pointer self,
                                             std::shared_ptr<node_tree> tree) {
  self->state.tree = std::move(tree);
  self->attach_functor([work = self->state.work] { work->stop(); });
  return {
    [self](spawn_atom, std::string& prefix, uint32_t count, expert_spec_msg& spec) {
      return spawn_experts(self, std::move(prefix), count, std::move(spec));
    },
    [self](remove_atom, std::vector<std::string>& uids) {
      return stop_experts(self, std::move(uids));
    },
    [self](status_atom) { return status(self); },
  };
}

} // namespace

void add_unavailable(node_status& status, const expert_registry& registry) {
  auto ends_with = [](const std::string& path, const std::string& tail) {
    return path.size() >= tail.size() && path.compare(path.size() - tail.size(), tail.size(),
                                                      tail) == 0;
  };
  auto& tree = status.tree;
  for (auto& g : registry.unavailable_experts()) {
    auto row = std::find_if(tree.begin(), tree.end(),
                            [&](const tree_entry& e) { return ends_with(e.path, "/" + g.uid); });
    if (row == tree.end()) {
      auto group = std::find_if(tree.begin(), tree.end(), [&](const tree_entry& e) {
        return ends_with(e.path, "/" + g.group);
      });
      tree_entry e;
      e.path = (group == tree.end() ? std::string{"experts"} : group->path) + "/" + g.uid;
      e.kind = "worker";
      e.restart = "permanent";
      row = tree.insert(group == tree.end() ? tree.end() : group + 1, std::move(e));
    }
    row->state = "failed";
    row->uptime_s = 0;
    row->last_exit = g.reason;
    row->details["unavailable_since"] = iso_utc(g.since);
  }
}

node_manager_actor spawn_node_manager(caf::actor_system& sys, std::shared_ptr<node_tree> tree) {
  return sys.spawn(manager_fn, std::move(tree));
}

} // namespace colony::node
