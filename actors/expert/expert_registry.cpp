#include "actors/expert/expert_registry.hpp"

#include <caf/all.hpp>

#include "messages/errc.hpp"

namespace colony {

void expert_registry::put(const std::string& uid, const expert_actor& handle) {
  {
    std::lock_guard<std::mutex> guard{mx_};
    entries_[uid] = entry{handle, false, {}};
  }
  // Runs in the terminating actor's context, possibly after the registry
  // is gone.
  auto addr = caf::actor_cast<caf::actor_addr>(handle);
  std::weak_ptr<expert_registry> weak = weak_from_this();
  handle->attach_functor([weak, uid, addr](const caf::error& reason) {
    if (auto self = weak.lock())
      self->mark_down(uid, addr, reason ? describe(reason) : "exited");
  });
}

void expert_registry::mark_down(const std::string& uid, const caf::actor_addr& addr,
                                std::string reason) {
  std::lock_guard<std::mutex> guard{mx_};
  auto i = entries_.find(uid);
  if (i == entries_.end() || caf::actor_cast<caf::actor_addr>(i->second.handle) != addr)
    return;
  i->second.down = true;
  i->second.reason = std::move(reason);
}

bool expert_registry::erase(const std::string& uid) {
  std::lock_guard<std::mutex> guard{mx_};
  return entries_.erase(uid) > 0;
}

caf::expected<expert_actor> expert_registry::find(const std::string& uid) const {
  std::lock_guard<std::mutex> guard{mx_};
  auto i = entries_.find(uid);
  if (i == entries_.end())
    return make_error(errc::unknown_expert, "no expert '" + uid + "' on this node (serves "
                                              + std::to_string(entries_.size()) + ")");
  if (i->second.down)
    return make_error(errc::expert_restarting,
                      "expert '" + uid + "' is restarting after: " + i->second.reason);
  return i->second.handle;
}

bool expert_registry::contains(const std::string& uid) const {
  std::lock_guard<std::mutex> guard{mx_};
  return entries_.count(uid) > 0;
}

std::vector<std::string> expert_registry::uids() const {
  std::lock_guard<std::mutex> guard{mx_};
  std::vector<std::string> out;
  for (auto& kv : entries_)
    out.push_back(kv.first);
  return out;
}

std::vector<std::pair<std::string, expert_actor>> expert_registry::running() const {
  std::lock_guard<std::mutex> guard{mx_};
  std::vector<std::pair<std::string, expert_actor>> out;
  for (auto& kv : entries_)
    if (!kv.second.down)
      out.emplace_back(kv.first, kv.second.handle);
  return out;
}

size_t expert_registry::size() const {
  std::lock_guard<std::mutex> guard{mx_};
  return entries_.size();
}

} // namespace colony
