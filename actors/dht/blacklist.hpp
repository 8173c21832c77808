// Temporary bans of unresponsive DHT peers: the first failure bans a peer
// for `base` seconds, each failure after its ban ended doubles the ban (up
// to `max_ban`), a success forgives it. Failures reported while a peer is
// banned (e.g. by concurrent requests) do not escalate the ban.
#pragma once

#include <cstddef>
#include <unordered_map>

#include "actors/dht/node_id.hpp"

namespace colony::dht {

/// Ban bookkeeping of one DHT node; time is the caller's clock.
class blacklist {
public:
  /// Bans last `base` seconds doubling per repeat, at most `max_ban`; a peer
  /// whose ban ended `forget_after` seconds ago starts over at `base`.
  explicit blacklist(double base = 5.0, double max_ban = 600.0,
                     double forget_after = 600.0);

  /// `id` did not answer at `now`: ban it (longer if it failed before).
  void register_failure(const node_id& id, double now);

  /// `id` answered: lift its ban and forget its failures.
  void register_success(const node_id& id);

  /// Whether `id` is banned at `now`.
  bool is_banned(const node_id& id, double now) const;

  /// Seconds `id` stays banned after `now` (0 if it is not banned).
  double remaining(const node_id& id, double now) const;

  /// Forgets peers whose ban ended at least `forget_after` seconds ago.
  void purge(double now);

  /// Number of peers remembered (banned or with a failure history).
  size_t size() const { return entries_.size(); }

private:
  struct entry {
    size_t failures = 0;
    double banned_until = 0;
  };

  double base_;
  double max_ban_;
  double forget_after_;
  std::unordered_map<node_id, entry> entries_;
};

} // namespace colony::dht
