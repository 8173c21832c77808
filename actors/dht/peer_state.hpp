// The state and logic of one peer_actor, split by concern over four files:
//   peer_state.cpp   serving the RPCs, contact bookkeeping, maintenance
//   peer_rpc.cpp     outgoing RPCs: transport, timeouts, delay/drop hook
//   peer_search.cpp  shared iterative lookups, batched find requests
//   peer_ops.cpp     the local API: bootstrap, put, get
// Invariants: every outgoing request ends in exactly one call of its reply
// or failure continuation, never synchronously inside the call that sent it;
// the table never holds a client-mode peer or the peer itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "actors/dht/blacklist.hpp"
#include "actors/dht/peer_config.hpp"
#include "actors/dht/protocol.hpp"
#include "actors/dht/record_store.hpp"
#include "actors/dht/routing_table.hpp"
#include "actors/dht/search.hpp"
#include "actors/dht/transport.hpp"

namespace colony::dht {

struct bootstrap_op;
struct put_op;

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
  void refresh_buckets();

  // -- outgoing RPCs (peer_rpc.cpp) -------------------------------------------

  void send_ping(const endpoint& ep, continuation<dht_pong> ok, failure fail);
  void send_find(const contact& to, std::vector<node_id> targets);
  void send_store(const contact& to, std::vector<dht_store_item> items,
                  continuation<dht_store_reply> ok, failure fail);
  template <class Request, class Reply>
  void call(const endpoint& ep, Request req, continuation<Reply> ok, failure fail);
  template <class Request, class Reply>
  void dispatch(const endpoint& ep, Request req, continuation<Reply> ok,
                failure fail, std::chrono::steady_clock::time_point deadline);
  void later(std::function<void()> fn);
  void after(caf::timespan delay, std::function<void()> fn);

  // -- searches (peer_search.cpp) ---------------------------------------------

  void find(const node_id& target, bool want_value, search::waiter w);
  void flush();
  void collect(search& s, find_batches& batches);
  void finish(const search_key& key);
  /// Ends the value search `key` value_grace from now (it has a value).
  void arm_grace(const search_key& key, const search& s);
  void on_find_reply(const contact& from, const std::vector<node_id>& targets,
                     dht_find_reply& reply);
  void on_find_failure(const contact& from, const std::vector<node_id>& targets);
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
  std::vector<contact> replicas_of(const node_id& key, std::vector<contact> nearest);

  pointer self_;
  peer_config cfg_;
  std::shared_ptr<transport> net_;
  node_id id_;
  routing_table table_;
  record_store store_;
  blacklist bans_;
  std::mt19937_64 rng_;
  std::map<search_key, search> searches_;
  std::set<search_key> dirty_;
  std::unordered_map<uint64_t, std::function<void()>> deferred_;
  uint64_t next_deferred_ = 0;
  uint64_t rpcs_sent_ = 0;
  uint64_t rpcs_failed_ = 0;
  uint64_t searches_started_ = 0;
  uint64_t searches_joined_ = 0;
};

} // namespace colony::dht
