// The state and logic of one peer_actor, split by concern over five files:
//   peer_state.cpp   serving the RPCs, contact bookkeeping, maintenance
//   peer_rpc.cpp     outgoing RPCs: transport, RTT-based timeouts, delay/drop
//   peer_search.cpp  shared iterative lookups, batched find requests, stalls
//   peer_ops.cpp     the local API: bootstrap, put, get
//   peer_upkeep.cpp  hand-off to new peers, republish, read-repair
// Invariants: every outgoing request ends in exactly one call of its reply
// or failure continuation, never synchronously inside the call that sent it;
// the table never holds a client-mode peer or the peer itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "actors/dht/blacklist.hpp"
#include "actors/dht/peer_config.hpp"
#include "actors/dht/protocol.hpp"
#include "actors/dht/record_store.hpp"
#include "actors/dht/routing_table.hpp"
#include "actors/dht/rtt.hpp"
#include "actors/dht/search.hpp"
#include "actors/dht/transport.hpp"

namespace colony::dht {

struct bootstrap_op;
struct put_op;

/// At most this many keys' replicas are remembered per peer (puts of more
/// keys look up).
constexpr size_t max_cached_replicas = 4096;

/// The logic of one peer_actor; every method runs in the actor's context.
class peer_state {
public:
  using pointer = peer_actor::stateful_pointer<peer_state>;

  /// The actor name CAF reports.
  static inline const char* name = "dht_peer";

  explicit peer_state(pointer self) : self_(self), table_(node_id{}) {}

  /// Takes the settings and transport; schedules maintenance.
  void init(peer_config cfg, std::shared_ptr<transport> net);

  // -- RPCs (peer_state.cpp) --------------------------------------------------

  /// Answers a ping; the sender joins the table unless in client mode.
  dht_pong on_ping(const dht_ping& req);

  /// Stores what is newer than what is held; 1/0 per item.
  dht_store_reply on_store(const dht_store_request& req);

  /// The value held and the k nearest known peers, per key.
  dht_find_reply on_find(const dht_find_request& req);

  // -- local API (peer_ops.cpp) -----------------------------------------------

  /// Pings the initial peers, then looks up its own id.
  caf::result<dht_peer_stats> bootstrap(const dht_bootstrap_request& req);

  /// Stores each item on the num_replicas peers nearest to its key.
  caf::result<dht_put_reply> put(const dht_put_request& req);

  /// Looks each key up: locally, then by an iterative value lookup.
  caf::result<dht_get_reply> get(const dht_get_request& req);

  /// Id, endpoint, table and counters.
  dht_peer_stats stats() const;

  // -- internal (peer_state.cpp) ----------------------------------------------

  /// Purges expired records and bans, refreshes idle buckets, reschedules.
  void tick();

  /// Runs the deferred step `id`.
  void run_deferred(uint64_t id);

private:
  template <class T>
  using continuation = std::function<void(T&)>;
  using failure = std::function<void(const caf::error&)>;
  using search_key = std::pair<node_id, bool>; ///< target, want_value
  /// Find requests to send: per peer id, the peer and the targets.
  using find_batches = std::map<node_id, std::pair<contact, std::vector<node_id>>>;

  // -- bookkeeping (peer_state.cpp) -------------------------------------------

  double now() const { return cfg_.clock(); }
  dht_peer me() const;
  void heard_from(const contact& c);
  void failed(const contact& c);
  void ping_candidate(const contact& c);
  bool store_item(const dht_store_item& x);
  /// Whether `x` may be stored: not a sealed value that fails its
  /// signature, and not overwriting a live entry sealed by another owner.
  bool admissible(const node_id& key, const dht_store_item& x, double t) const;
  void refresh_buckets();

  // -- outgoing RPCs (peer_rpc.cpp) -------------------------------------------

  void send_ping(const endpoint& ep, continuation<dht_pong> ok, failure fail);
  void send_find(const contact& to, std::vector<node_id> targets);
  void send_store(const contact& to, std::vector<dht_store_item> items,
                  continuation<dht_store_reply> ok, failure fail);
  template <class Request, class Reply>
  void call(const endpoint& ep, Request req, continuation<Reply> ok, failure fail);
  template <class Request, class Reply>
  void dispatch(const endpoint& ep, Request req, continuation<Reply> ok, failure fail,
                caf::timespan timeout, std::chrono::steady_clock::time_point deadline);
  /// The RPC timeout for `ep`, from its measured round trips.
  caf::timespan timeout_for(const endpoint& ep) const;
  /// How long a lookup waits on `ep` before asking the next candidates.
  caf::timespan stall_after(const endpoint& ep) const;
  void later(std::function<void()> fn);
  void after(caf::timespan delay, std::function<void()> fn);

  // -- searches (peer_search.cpp) ---------------------------------------------

  /// Starts (or joins) the search for `target`. A search for peers ends
  /// when the `width` nearest it knows have answered (0: k); a put asks
  /// for its replicas only, a refresh or a join for k.
  void find(const node_id& target, bool want_value, search::waiter w, size_t width = 0);
  void flush();
  void collect(search& s, find_batches& batches);
  void finish(const search_key& key);
  /// Ends the value search `key` value_grace from now (it has a value).
  void arm_grace(const search_key& key, const search& s);
  void on_find_reply(const contact& from, const std::vector<node_id>& targets,
                     dht_find_reply& reply);
  void on_find_failure(const contact& from, const std::vector<node_id>& targets);
  void on_find_slow(const contact& from, const std::vector<node_id>& targets);
  /// Arms the stall check for `due` unless one is armed no later.
  void arm_stall_check(std::chrono::steady_clock::time_point due);
  /// Marks every find past its stall time as slow; re-arms for the next.
  void check_stalls();
  /// Runs `fn` on each running search of `target` (value and node lookup)
  /// and marks it for the next flush.
  void touch_searches(const node_id& target,
                      const std::function<void(const search_key&, search&)>& fn);
  /// `r` without the sealed entries whose signature fails; none if empty.
  static std::optional<record> verified(const node_id& key, record r);
  std::vector<contact> closest_unbanned(const node_id& target, size_t n);

  // -- operations (peer_ops.cpp) ----------------------------------------------

  void ping_initial(const std::shared_ptr<bootstrap_op>& op, const endpoint& ep);
  void bootstrap_step(const std::shared_ptr<bootstrap_op>& op);
  void on_replicas(const std::shared_ptr<put_op>& op, const node_id& key,
                   const search_outcome& outcome);
  void store_locally(const std::shared_ptr<put_op>& op, const std::vector<size_t>& indices);
  void store_remotely(const std::shared_ptr<put_op>& op, const contact& to,
                      const std::vector<size_t>& indices);
  void put_step(const std::shared_ptr<put_op>& op);
  /// Looks up the replicas of every item's key and stores the items there;
  /// the caller may set the op's promise right after (delivered later).
  std::shared_ptr<put_op> start_put(std::vector<dht_store_item> items);
  void on_replicas_step(const std::shared_ptr<put_op>& op);

  // -- upkeep (peer_upkeep.cpp) -----------------------------------------------

  /// Sends `c`, just added to the table, the held keys it is now a replica
  /// of, when this peer is the nearest other replica it knows.
  void hand_off(const contact& c);
  bool should_hand_off(const node_id& key, const contact& c) const;
  /// Re-stores the held keys nobody stored for republish_s.
  void republish();
  /// Stores what `s` merged on the nearest replicas it read that returned an
  /// older copy or none.
  void read_repair(const search& s, const search_outcome& outcome);
  /// A held key was stored (by anyone) at `t`: its republish is due
  /// republish_s later, plus up to a quarter of it at random, so that the
  /// replicas of a key do not all republish it at once.
  void touched(const node_id& key, double t);
  std::vector<contact> replicas_of(const node_id& key, std::vector<contact> nearest) const;

  pointer self_;
  peer_config cfg_;
  std::shared_ptr<transport> net_;
  node_id id_;
  routing_table table_;
  record_store store_;
  blacklist bans_;
  rtt_table rtt_;
  std::mt19937_64 rng_;
  std::map<search_key, search> searches_;
  std::set<search_key> dirty_;
  std::unordered_map<uint64_t, std::function<void()>> deferred_;
  uint64_t next_deferred_ = 0;
  std::unordered_map<node_id, double> republish_due_; ///< held key -> when
  /// Where puts of a key went lately: its lookup's answer and when.
  struct cached_replicas {
    std::vector<contact> nearest;
    double at = 0;
  };
  std::unordered_map<node_id, cached_replicas> replica_cache_;
  /// A find request not answered yet, watched for the stalled-lookup rule.
  struct find_in_flight {
    contact to;
    std::vector<node_id> targets;
  };
  std::unordered_map<uint64_t, find_in_flight> finds_in_flight_;
  /// When each watched find stalls (entries of answered finds are skipped
  /// when due). One timer serves them all: armed for the earliest.
  std::multimap<std::chrono::steady_clock::time_point, uint64_t> stall_due_;
  std::optional<std::chrono::steady_clock::time_point> stall_check_at_;
  uint64_t next_find_ = 0;
  uint64_t rpcs_sent_ = 0;
  uint64_t rpcs_failed_ = 0;
  uint64_t searches_started_ = 0;
  uint64_t searches_joined_ = 0;
  uint64_t finds_stalled_ = 0;
  uint64_t handed_off_ = 0;
  uint64_t republished_ = 0;
  uint64_t repaired_ = 0;
  uint64_t refused_ = 0;
};

} // namespace colony::dht
