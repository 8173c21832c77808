// The averager actor's state (internal to actors/averaging). Invariants:
// at most one local round runs at a time; everything held for peers is
// bounded (parked joins <= group_size, parked parts <= parts * (retries+1)
// of the current group, reduce states only for the current or last group,
// each of exactly its part's size); every wait has a timer or a timeout.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/averaging/allreduce_state.hpp"
#include "actors/averaging/averager.hpp"
#include "actors/averaging/matchmaking.hpp"
#include "actors/averaging/reduce_state.hpp"
#include "runtime/logging.hpp"

namespace colony::averaging {

using clock = std::chrono::steady_clock;

/// A join or part waiting for an answer.
template <class T>
struct parked {
  T msg;
  caf::response_promise promise;
  clock::time_point since = clock::now();
};

/// The reducer's view of a group (kept until the next group).
struct reducer_round {
  avg_group group;
  uint32_t self = 0;
  uint64_t layout = 0;
  uint64_t total = 0;
  uint32_t max_retries = 0;
  clock::time_point start;
  double slot_s = 0; ///< time of one attempt
  std::map<std::string, caf::actor> handles; ///< members by endpoint
  std::set<uint32_t> dead;
  std::map<std::pair<uint32_t, uint32_t>, reduce_state> reduce; ///< (part, attempt)
  std::map<std::pair<uint32_t, uint32_t>, std::vector<caf::response_promise>> waiters;
  std::map<std::pair<uint32_t, uint32_t>, avg_part_result> replied; ///< answers given
  std::set<uint32_t> armed; ///< attempts whose wait-end timer is set
};

/// The member's side of the local average() call.
struct member_round {
  caf::response_promise promise;
  std::vector<named_tensor> tensors;
  double weight = 1;
  layout shape;
  uint64_t layout_hash = 0;
  clock::time_point called;
  enum { announcing, leading, following, reducing } phase = announcing;
  std::optional<leader_state> leader;
  std::vector<caf::response_promise> join_promises;
  std::optional<allreduce_state> reduce;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t round = 0;
  caf::error first_error; ///< the first failed part of the round, for the caller
};

struct averager_state {
  averaging_config cfg;
  dht::peer_actor dht;
  std::string self_ep;
  averager_options opts;
  std::optional<member_round> local;          ///< the running average()
  std::optional<reducer_round> group;         ///< the current or last group
  std::vector<parked<avg_join>> parked_joins; ///< joins before we lead
  std::vector<parked<avg_part>> parked_parts; ///< parts before our group
  uint64_t state_version = 0;
  std::optional<layout> state_layout;
  std::string state_bytes; ///< float32 bytes of the held state
  std::mt19937_64 rng{std::random_device{}()};
  std::shared_ptr<spdlog::logger> log = log::get("averaging");
  static inline const char* name = "colony.averager";
};

using averager_pointer = caf::stateful_actor<averager_state>*;

// averager_actor.cpp: matchmaking and state
void start_average(averager_pointer self, std::vector<named_tensor> tensors, double weight);
void on_join(averager_pointer self, avg_join& j);
void fail_local(averager_pointer self, caf::error err);
caf::timespan seconds(double s);
double unix_now();

// averager_fetch.cpp: downloading a peer's state
void fetch_state(averager_pointer self);

// averager_round.cpp: the all-reduce
void start_round(averager_pointer self, const avg_group& g, uint32_t index);
void on_part(averager_pointer self, avg_part& p);
void on_member_down(averager_pointer self, const caf::down_msg& msg);
void end_attempt(averager_pointer self, uint64_t round, uint32_t attempt);
void refuse_parked_parts(averager_pointer self, const std::string& why);

} // namespace colony::averaging
