// The experts a node serves, by uid: what the server routes to, what the
// supervisors update when they restart an expert, and what the node's
// checkpoint, status and control paths enumerate. Thread-safe (start
// functions, the server and the node's main read and write it).
//
// An entry whose actor terminated is kept as "down" with the exit reason
// until its supervisor puts the restarted actor (or the node removes it):
// requests for it get errc::expert_restarting at once instead of CAF's
// request_receiver_down, which clients would read as a lost node. One that
// its supervisors gave up is "unavailable" (errc::expert_unavailable, with
// the reason and since when) and no longer declared, until put() brings it
// back (ctl spawn, or a restart of the experts' tree).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/expected.hpp>

#include "actors/expert/protocol.hpp"

namespace colony {

/// "2026-12-07T15:20:01Z" of a unix time.
std::string iso_utc(double unix_s);

/// Always held by a shared_ptr (termination hooks keep a weak reference).
class expert_registry : public std::enable_shared_from_this<expert_registry> {
public:
  /// Adds or replaces `uid`; marks it down when `handle` terminates (a
  /// replaced handle's later termination changes nothing).
  void put(const std::string& uid, const expert_actor& handle);

  /// Forgets `uid`; false if it was not there.
  bool erase(const std::string& uid);

  /// The running actor of `uid`; errc::unknown_expert ("no expert 'x' on
  /// this node (serves N)") or errc::expert_restarting (with the reason).
  caf::expected<expert_actor> find(const std::string& uid) const;

  /// Whether `uid` is registered (running or down).
  bool contains(const std::string& uid) const;

  /// All registered uids, sorted (down ones included).
  std::vector<std::string> uids() const;

  /// The running experts, sorted by uid.
  std::vector<std::pair<std::string, expert_actor>> running() const;

  /// Number of registered uids.
  size_t size() const;

  /// Marks `uid` given up by its supervisors (it was in group `group`; its
  /// last exit was `reason`; at unix time `since`). No-op for an unknown uid.
  void mark_unavailable(const std::string& uid, const std::string& group, std::string reason,
                        double since);

  /// Whether `uid` is registered and given up.
  bool unavailable(const std::string& uid) const;

  /// The uids to declare in the DHT: registered and not given up, sorted.
  std::vector<std::string> declarable() const;

  /// A given-up expert, for status.
  struct given_up {
    std::string uid;
    std::string group;
    std::string reason;
    double since = 0; ///< unix time
  };

  /// The given-up experts, sorted by uid.
  std::vector<given_up> unavailable_experts() const;

private:
  void mark_down(const std::string& uid, const caf::actor_addr& addr, std::string reason);

  struct entry {
    expert_actor handle;
    bool down = false;
    std::string reason;
    bool unavailable = false; ///< given up; `reason` and `group`, `since` say why and when
    std::string group;
    double since = 0;
  };
  mutable std::mutex mx_;
  std::map<std::string, entry> entries_;
};

} // namespace colony
