// Records follow the peers that should hold them (Kademlia's upkeep), in
// one-process swarms: a newly joined nearer peer receives the keys it is a
// replica of (hand-off), holders re-store keys nobody stored for a while
// (republish), a get repairs the replicas that returned an older copy, and
// a vanished peer costs its own RTT-based timeout, not the maximum.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <caf/all.hpp>

#include "actors/dht/wire.hpp"
#include "messages/errc.hpp"
#include "tests/dht/test_support.hpp"

using namespace colony;
using namespace colony::dht;
using namespace colony::dht::testing;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

class DhtUpkeepTest : public system_fixture {
protected:
  std::unique_ptr<swarm> make_swarm(swarm_options opts, size_t n) {
    auto result = std::make_unique<swarm>(sys_, std::move(opts));
    auto err = result->grow(n);
    EXPECT_FALSE(err) << describe(err);
    return result;
  }

  /// What peer `i` itself holds under `key` (a find RPC, no lookup).
  std::optional<dht_record> held(swarm& s, size_t i, const std::string& key) {
    caf::scoped_actor self{sys_};
    std::optional<dht_record> result;
    dht_find_request req{dht_peer{}, true, {to_wire(node_id::of_key(key))}};
    self->request(s.peer(i), 10s, req)
      .receive(
        [&](const dht_find_reply& r) {
          if (r.results.size() == 1 && r.results[0].found)
            result = r.results[0].value;
        },
        [](const caf::error& err) { FAIL() << describe(err); });
    return result;
  }

  /// The plain value peer `i` holds under `key`, or "".
  std::string held_value(swarm& s, size_t i, const std::string& key) {
    auto r = held(s, i, key);
    return r && !r->is_dictionary && !r->values.empty() ? r->values.front().value : "";
  }

  /// The peer ids, by index.
  std::vector<node_id> ids(swarm& s) {
    std::vector<node_id> result;
    for (size_t i = 0; i < s.size(); ++i) {
      auto st = s.client_of(i).stats();
      EXPECT_TRUE(st);
      result.push_back(st ? *id_from_wire(st->self.id) : node_id{});
    }
    return result;
  }

  /// The indices of the `n` live peers nearest to `key`.
  static std::vector<size_t> nearest(swarm& s, const std::vector<node_id>& ids,
                                     const std::string& key, size_t n) {
    auto target = node_id::of_key(key);
    auto idx = s.alive_indices();
    std::sort(idx.begin(), idx.end(),
              [&](size_t a, size_t b) { return nearer(target, ids[a], ids[b]); });
    idx.resize(std::min(n, idx.size()));
    return idx;
  }

  /// A key "<prefix>N" whose nearest live peer is not peer 0, and that peer.
  static std::pair<std::string, size_t> key_near_other_than_0(swarm& s,
                                                              const std::vector<node_id>& ids,
                                                              const std::string& prefix) {
    for (int i = 0; i < 1000; ++i) {
      auto key = prefix + std::to_string(i);
      if (auto first = nearest(s, ids, key, 1).front(); first != 0)
        return {key, first};
    }
    return {prefix, 0};
  }

  /// Runs one maintenance tick on every live peer, one after another.
  void tick_all(swarm& s) {
    caf::scoped_actor self{sys_};
    for (auto i : s.alive_indices()) {
      self->send(s.peer(i), tick_atom::value);
      self->request(s.peer(i), 10s, stats_atom::value) // after the tick
        .receive([](const dht_peer_stats&) {}, [](const caf::error& err) { FAIL() << describe(err); });
    }
  }

  /// Polls `pred` every 20 ms for at most `limit`; whether it held.
  template <class Pred>
  static bool eventually(Pred pred, std::chrono::seconds limit = 20s) {
    auto deadline = steady::now() + limit;
    while (!pred()) {
      if (steady::now() > deadline)
        return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }

  manual_clock clock_;
};

} // namespace

TEST_F(DhtUpkeepTest, ANewlyJoinedNearerPeerReceivesTheKeysItIsAReplicaOf) {
  auto opts = test_swarm(51, &clock_);
  opts.peer.republish_s = 0;
  auto s = make_swarm(opts, 40);
  std::vector<std::string> keys;
  for (int i = 0; i < 80; ++i) {
    keys.push_back("handed-" + std::to_string(i));
    ASSERT_EQ(value_or(s->client_of(0).store(keys.back(), "v" + std::to_string(i),
                                             clock_.now() + 600),
                       0u),
              5u);
  }
  ASSERT_FALSE(s->grow(1));
  size_t newcomer = s->size() - 1;
  auto all = ids(*s);
  std::vector<size_t> expected; // keys whose 5 nearest peers now include the newcomer
  for (size_t k = 0; k < keys.size(); ++k) {
    auto near = nearest(*s, all, keys[k], 5);
    if (std::find(near.begin(), near.end(), newcomer) != near.end())
      expected.push_back(k);
  }
  ASSERT_GT(expected.size(), 0u) << "the seed gives the newcomer no key to hold";
  auto holds_all = [&] {
    for (auto k : expected)
      if (held_value(*s, newcomer, keys[k]) != "v" + std::to_string(k))
        return false;
    return true;
  };
  EXPECT_TRUE(eventually(holds_all)) << "the newcomer lacks keys it is a replica of";
  uint64_t handed = 0;
  for (size_t i = 0; i < newcomer; ++i)
    handed += value_or(s->client_of(i).stats(), dht_peer_stats{}).handed_off;
  EXPECT_GE(handed, expected.size());
}

TEST_F(DhtUpkeepTest, HoldersRepublishOnlyTheKeysNobodyStoredForRepublishSeconds) {
  auto opts = test_swarm(52, &clock_);
  opts.peer.hand_off = false; // only the republish can move the keys
  opts.peer.republish_s = 30; // due after 30-37.5 s
  opts.peer.maintenance_period = std::chrono::hours{1}; // ticks sent below
  auto s = make_swarm(opts, 30);
  std::vector<std::string> keys;
  auto store_all = [&] {
    for (size_t k = 0; k < keys.size(); ++k)
      ASSERT_EQ(value_or(s->client_of(0).store(keys[k], "v", clock_.now() + 600), 0u), 5u);
  };
  for (int i = 0; i < 60; ++i)
    keys.push_back("kept-" + std::to_string(i));
  store_all();
  auto republished = [&] {
    uint64_t count = 0;
    for (size_t i = 0; i < s->size(); ++i)
      count += value_or(s->client_of(i).stats(), dht_peer_stats{}).republished;
    return count;
  };
  // Stored again (the owner re-declared) just before they were due: no
  // holder republishes.
  clock_.advance(40);
  store_all();
  tick_all(*s);
  EXPECT_EQ(republished(), 0u);
  // Newcomers join; nobody stores for 40 s: the holders republish, and the
  // newcomers that are now replicas receive the keys.
  ASSERT_FALSE(s->grow(10));
  auto all = ids(*s);
  std::vector<std::pair<size_t, size_t>> expected; // (key, newcomer among its 5 nearest)
  for (size_t k = 0; k < keys.size(); ++k)
    for (auto i : nearest(*s, all, keys[k], 5))
      if (i >= 30)
        expected.emplace_back(k, i);
  ASSERT_GT(expected.size(), 0u);
  for (auto [k, i] : expected)
    EXPECT_EQ(held_value(*s, i, keys[k]), "") << "held before any republish";
  clock_.advance(40);
  tick_all(*s);
  auto moved = [&] {
    for (auto [k, i] : expected)
      if (held_value(*s, i, keys[k]) != "v")
        return false;
    return true;
  };
  EXPECT_TRUE(eventually(moved)) << "a newcomer did not receive a republished key";
  EXPECT_GE(republished(), keys.size());
}

TEST_F(DhtUpkeepTest, AGetRepairsTheReplicasThatReturnedAnOlderCopy) {
  auto opts = test_swarm(53, &clock_);
  opts.peer.values_wanted = 5; // read every replica
  opts.peer.value_grace = 5s;
  opts.peer.republish_s = 0;
  auto s = make_swarm(opts, 40);
  const std::string key = "repaired";
  ASSERT_EQ(value_or(s->client_of(0).store(key, "old", clock_.now() + 60), 0u), 5u);
  auto replicas = nearest(*s, ids(*s), key, 5);
  for (auto i : replicas)
    ASSERT_EQ(held_value(*s, i, key), "old");
  { // a newer value reaches one replica only
    caf::scoped_actor self{sys_};
    dht_store_request req{dht_peer{}, true,
                          {dht_store_item{to_wire(node_id::of_key(key)), false, "", "new",
                                          clock_.now() + 120}}};
    self->request(s->peer(replicas[0]), 10s, req)
      .receive([](const dht_store_reply& r) { EXPECT_EQ(r.accepted.size(), 1u); },
               [](const caf::error& err) { FAIL() << describe(err); });
  }
  size_t reader = 0;
  while (std::find(replicas.begin(), replicas.end(), reader) != replicas.end())
    ++reader;
  auto got = s->client_of(reader).get_one(key);
  ASSERT_TRUE(got) << describe(got.error());
  ASSERT_TRUE(got->found);
  EXPECT_EQ(got->value.values.front().value, "new");
  auto repaired = [&] {
    for (auto i : replicas)
      if (held_value(*s, i, key) != "new")
        return false;
    return true;
  };
  EXPECT_TRUE(eventually(repaired)) << "a replica still holds the older copy";
  EXPECT_GE(value_or(s->client_of(reader).stats(), dht_peer_stats{}).repaired, 4u);
}

TEST_F(DhtUpkeepTest, AVanishedPeerCostsItsOwnRttBasedTimeoutNotTheMaximum) {
  auto opts = test_swarm(54, &clock_);
  opts.peer.rpc_timeout = 3s; // the maximum, for peers never measured
  opts.peer.rpc_timeout_min = 100ms;
  opts.peer.replica_cache_s = 0; // each put looks its replicas up
  auto s = make_swarm(opts, 30);
  auto all = ids(*s);
  // A key whose nearest peer (not 0) is then made to vanish.
  auto [key, victim] = key_near_other_than_0(*s, all, "probe-");
  ASSERT_NE(victim, 0u);
  // Peer 0 measures the victim's round trips (a store reaches it).
  ASSERT_EQ(value_or(s->client_of(0).store(key, "a", clock_.now() + 60), 0u), 5u);
  s->vanish(victim);
  auto start = steady::now();
  auto acks = s->client_of(0).store(key, "b", clock_.now() + 61);
  auto took = steady::now() - start;
  ASSERT_TRUE(acks) << describe(acks.error());
  EXPECT_EQ(*acks, 5u); // the next nearest live peer took the victim's place
  EXPECT_LT(took, 1500ms) << "the vanished peer cost more than its own RTT-based timeout";
  EXPECT_GE(value_or(s->client_of(0).stats(), dht_peer_stats{}).rpcs_failed, 1u);
}

TEST_F(DhtUpkeepTest, APutGoesStraightToTheReplicasFoundLatelyAndLooksUpAgainAfterAFailure) {
  auto opts = test_swarm(55, &clock_);
  opts.peer.rpc_timeout = 3s;
  opts.peer.rpc_timeout_min = 100ms;
  opts.peer.replica_cache_s = 60;
  auto s = make_swarm(opts, 30);
  auto all = ids(*s);
  auto [key, victim] = key_near_other_than_0(*s, all, "cached-");
  ASSERT_NE(victim, 0u);
  auto sent = [&] { return value_or(s->client_of(0).stats(), dht_peer_stats{}).rpcs_sent; };
  ASSERT_EQ(value_or(s->client_of(0).store(key, "a", clock_.now() + 60), 0u), 5u);
  // Within replica_cache_s the next put sends the stores and nothing else
  // (peer 0 stores its own copy without an RPC).
  auto replicas = nearest(*s, all, key, 5);
  auto stores = 5u - static_cast<unsigned>(std::count(replicas.begin(), replicas.end(), size_t{0}));
  auto before = sent();
  ASSERT_EQ(value_or(s->client_of(0).store(key, "b", clock_.now() + 61), 0u), 5u);
  EXPECT_EQ(sent() - before, stores);
  // A cached replica vanished: that put reaches the other 4, and the next
  // one looks up again and finds the live peer that took its place.
  s->vanish(victim);
  EXPECT_EQ(value_or(s->client_of(0).store(key, "c", clock_.now() + 62), 0u), 4u);
  before = sent();
  EXPECT_EQ(value_or(s->client_of(0).store(key, "d", clock_.now() + 63), 0u), 5u);
  EXPECT_GT(sent() - before, stores); // a lookup, then the stores
}
