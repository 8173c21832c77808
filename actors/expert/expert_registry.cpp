#include "actors/expert/expert_registry.hpp"

#include <ctime>

#include <caf/all.hpp>

#include "messages/errc.hpp"

namespace colony {

std::string iso_utc(double unix_s) {
  auto t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void expert_registry::put(const std::string& uid, const expert_actor& handle) {
  {
    std::lock_guard<std::mutex> guard{mx_};
    entries_[uid] = entry{handle, false, {}, false, {}, 0};
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
  if (i == entries_.end() || caf::actor_cast<caf::actor_addr>(i->second.handle) != addr
      || i->second.unavailable)
    return; // replaced since, or given up already (that reason is the one to keep)
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
  if (i->second.unavailable)
    return make_error(errc::expert_unavailable,
                      "expert '" + uid + "' is unavailable since " + iso_utc(i->second.since)
                        + ": its supervisors gave it up after: " + i->second.reason
                        + " (ctl spawn or a node restart brings it back)");
  if (i->second.down)
    return make_error(errc::expert_restarting,
                      "expert '" + uid + "' is restarting after: " + i->second.reason);
  return i->second.handle;
}

void expert_registry::mark_unavailable(const std::string& uid, const std::string& group,
                                       std::string reason, double since) {
  std::lock_guard<std::mutex> guard{mx_};
  auto i = entries_.find(uid);
  if (i == entries_.end())
    return;
  i->second.down = true;
  i->second.unavailable = true;
  i->second.reason = std::move(reason);
  i->second.group = group;
  i->second.since = since;
}

bool expert_registry::unavailable(const std::string& uid) const {
  std::lock_guard<std::mutex> guard{mx_};
  auto i = entries_.find(uid);
  return i != entries_.end() && i->second.unavailable;
}

std::vector<std::string> expert_registry::declarable() const {
  std::lock_guard<std::mutex> guard{mx_};
  std::vector<std::string> out;
  for (auto& kv : entries_)
    if (!kv.second.unavailable)
      out.push_back(kv.first);
  return out;
}

std::vector<expert_registry::given_up> expert_registry::unavailable_experts() const {
  std::lock_guard<std::mutex> guard{mx_};
  std::vector<given_up> out;
  for (auto& [uid, e] : entries_)
    if (e.unavailable)
      out.push_back(given_up{uid, e.group, e.reason, e.since});
  return out;
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
