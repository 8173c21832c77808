// Decentralized averaging of named float32 tensors with the peers of a run
// (hivemind's averager, torch-free). Map of this folder:
//   averaging_config  the settings and their YAML parser
//   tensors           named tensors, layout, flat vector, parts, part codec
//   matchmaking       leader choice and group forming (pure)
//   reduce_state      a reducer's sum of one part (pure, bounded)
//   allreduce_state   a member's parts, attempts and re-reduction (pure)
//   averager*         the actor (matchmaking + all-reduce glue), its front
//                     (what is published), and this blocking API
//
//   average(): announce under avg.<run> -> leader gathers joins -> group
//   -> every member sends part p to its reducer (a message fan-out) ->
//   reducers reply with the weighted mean -> orphaned parts re-reduced.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/typed_actor.hpp>

#include "actors/averaging/averaging_config.hpp"
#include "actors/averaging/tensors.hpp"
#include "actors/dht/protocol.hpp"
#include "messages/averaging_messages.hpp"
#include "runtime/endpoint.hpp"
#include "runtime/net_guard/guard_config.hpp"

namespace colony::net_guard {
struct guarded_port;
} // namespace colony::net_guard

namespace colony::averaging {

/// What an averager publishes: only what peers need. Every request is
/// answered within the round's bounds or refused with an error.
using averager_front_actor = caf::typed_actor<
  /// A follower joins this leader's next group; replied when the join
  /// window closes. Errors: bad_request (not leading, group full, other
  /// run), bad_shape (other tensor layout), timeout (too few joined).
  caf::replies_to<avg_join>::with<avg_group>,
  /// A member's part for this reducer; replied with the mean once every
  /// live member delivered or the attempt's time is up. Errors:
  /// bad_request (unknown round, not this part's reducer), bad_shape
  /// (wrong size or layout), malformed_payload.
  caf::replies_to<avg_part>::with<avg_part_result>,
  /// One chunk of the state this peer holds. Errors: not_found.
  caf::replies_to<avg_state_request>::with<avg_state_chunk>>;

/// The outcome of one average().
struct average_result {
  std::vector<named_tensor> tensors; ///< the averaged tensors, same layout
  uint32_t group_size = 0;
  std::vector<std::string> delivered; ///< members in every part's mean
  uint64_t bytes_sent = 0;     ///< encoded parts this member sent
  uint64_t bytes_received = 0; ///< encoded means it received
  double seconds = 0;          ///< from the call to the result
  uint64_t round = 0;
  uint32_t attempts = 0; ///< all-reduce attempts (1: no part was re-reduced)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, average_result& x) {
  return f(caf::meta::type_name("average_result"), x.tensors, x.group_size, x.delivered,
           x.bytes_sent, x.bytes_received, x.seconds, x.round, x.attempts);
}

/// A peer's state as fetch_state() got it.
struct state_snapshot {
  uint64_t version = 0;
  std::vector<named_tensor> tensors;
  std::string from; ///< the peer that sent it
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, state_snapshot& x) {
  return f(caf::meta::type_name("state_snapshot"), x.version, x.tensors, x.from);
}

/// Where and how the averager listens, and test hooks.
struct averager_options {
  std::string host = "127.0.0.1";
  uint16_t port = 0; ///< 0: any free port
  net_guard::guard_config guard;
  /// Called in the actor when this member got its group, before it sends
  /// anything (tests stop the process there).
  std::function<void(const avg_group&)> on_group;
  /// Test only: every part this member sends carries one value too many
  /// (a hostile peer).
  bool corrupt_parts = false;
  /// How long a set_state() stays announced without refresh (seconds).
  double state_ttl_s = 60;
  /// Largest state fetch_state() accepts (bytes of float32).
  uint64_t max_state_bytes = uint64_t{1} << 30;
};

/// The local actor (never published). Its messages:
///   (average_atom, std::vector<named_tensor>, double weight) -> average_result
///   (fetch_atom) -> state_snapshot
///   (set_state_atom, std::vector<named_tensor>, uint64_t version) -> ok_atom
/// plus the front's messages, which the front delegates to it.
caf::actor spawn_averager_actor(caf::actor_system& sys, averaging_config cfg,
                                dht::peer_actor dht, std::string self_ep,
                                averager_options opts);

/// A running averager: its actor and published front.
class averager {
public:
  /// Spawns the actor, publishes its front on opts.host:opts.port behind a
  /// guard. errc::bad_config for an invalid cfg (also a max_part_bytes the
  /// guard's message limit would cut), io_failed when it cannot listen.
  static caf::expected<std::unique_ptr<averager>>
  start(caf::actor_system& sys, averaging_config cfg, dht::peer_actor dht,
        averager_options opts = {});

  ~averager();
  averager(const averager&) = delete;
  averager& operator=(const averager&) = delete;

  /// Averages `tensors` with whoever matches this round, weighted by
  /// `weight` (> 0). Waits at most about join_window_s * 3 +
  /// round_timeout_s. Errors: bad_shape/bad_request for bad tensors or a
  /// layout other members do not share, timeout when no group formed,
  /// unreachable/timeout when parts stayed unreduced after the retries.
  caf::expected<average_result> average(std::vector<named_tensor> tensors, double weight = 1);

  /// Downloads the state a peer of the run announced (set_state).
  /// not_found when none is announced; the peer's errors otherwise.
  caf::expected<state_snapshot> fetch_state();

  /// Holds `tensors` at `version` for joiners and announces it in the DHT.
  caf::error set_state(std::vector<named_tensor> tensors, uint64_t version);

  /// Where the front listens ("127.0.0.1:PORT").
  const std::string& ep() const { return ep_; }

  /// The local actor, for asynchronous use (messages above).
  const caf::actor& actor() const { return actor_; }

private:
  averager(caf::actor_system& sys) : sys_(sys) {}

  caf::actor_system& sys_;
  averaging_config cfg_;
  caf::actor actor_;
  averager_front_actor front_;
  std::shared_ptr<net_guard::guarded_port> port_;
  std::string ep_;
};

} // namespace colony::averaging
