// 200 peers in one process: storing, finding, expiration, subkey merge;
// a get merges the copies of several replicas and the local one.
#include <algorithm>

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "actors/dht/swarm.hpp"
#include "actors/dht/wire.hpp"
#include "messages/errc.hpp"
#include "tests/dht/test_support.hpp"

using namespace colony;
using namespace colony::dht;
using namespace colony::dht::testing;

namespace {

class DhtSwarmTest : public system_fixture {
protected:
  /// A swarm of `n` joined peers on the manual clock.
  std::unique_ptr<swarm> make_swarm(size_t n, uint64_t seed) {
    auto result = std::make_unique<swarm>(sys_, test_swarm(seed, &clock_));
    auto err = result->grow(n);
    EXPECT_FALSE(err) << describe(err);
    return result;
  }

  /// The plain value of a found result.
  static std::string plain_value(const dht_get_result& r) {
    return r.found && !r.value.is_dictionary && !r.value.values.empty()
             ? r.value.values.front().value
             : "<none>";
  }

  /// Stores `value` under `key` (at `subkey`, if any) on peer `i` alone,
  /// as a store RPC from a client-mode sender would.
  void store_on(swarm& s, size_t i, const std::string& key, const std::string& value,
                double expiration, const std::optional<std::string>& subkey = std::nullopt) {
    caf::scoped_actor self{sys_};
    dht_store_request req{dht_peer{}, true,
                          {dht_store_item{to_wire(node_id::of_key(key)), subkey.has_value(),
                                          subkey.value_or(""), value, expiration}}};
    self->request(s.peer(i), std::chrono::seconds{10}, req)
      .receive([](const dht_store_reply& r) { ASSERT_EQ(r.accepted, std::vector<uint8_t>{1}); },
               [](const caf::error& err) { FAIL() << describe(err); });
  }

  manual_clock clock_;
};

} // namespace

TEST_F(DhtSwarmTest, EveryStoredKeyIsFoundFromEveryPeer) {
  auto s = make_swarm(200, 7);
  std::vector<std::string> keys;
  for (size_t i = 0; i < 20; ++i) {
    keys.push_back("key-" + std::to_string(i));
    auto c = s->client_of(i * 9);
    auto acks = c.store(keys.back(), "value-" + std::to_string(i), clock_.now() + 60);
    ASSERT_TRUE(acks) << describe(acks.error());
    EXPECT_EQ(*acks, 5u) << keys.back();
  }
  size_t found = 0;
  for (size_t p = 0; p < s->size(); ++p) {
    auto c = s->client_of(p);
    auto results = c.get(keys);
    ASSERT_TRUE(results) << describe(results.error());
    for (size_t i = 0; i < keys.size(); ++i) {
      EXPECT_EQ(plain_value((*results)[i]), "value-" + std::to_string(i))
        << "peer " << p << " key " << keys[i];
      found += (*results)[i].found ? 1 : 0;
    }
  }
  EXPECT_EQ(found, 200u * 20u);
}

TEST_F(DhtSwarmTest, ExpiredValueIsNotReturned) {
  auto s = make_swarm(200, 8);
  auto writer = s->client_of(3);
  ASSERT_EQ(value_or(writer.store("short", "lived", clock_.now() + 10), 0u), 5u);
  ASSERT_EQ(value_or(writer.store("long", "lived", clock_.now() + 100), 0u), 5u);
  EXPECT_TRUE(s->client_of(150).get_one("short")->found);
  clock_.advance(11);
  for (size_t p = 0; p < s->size(); p += 10) {
    auto results = s->client_of(p).get({"short", "long"});
    ASSERT_TRUE(results);
    EXPECT_FALSE((*results)[0].found) << "peer " << p;
    EXPECT_TRUE((*results)[1].found) << "peer " << p;
  }
}

TEST_F(DhtSwarmTest, LaterExpirationWinsAndAnOlderOneIsRejected) {
  auto s = make_swarm(200, 9);
  auto a = s->client_of(10);
  auto b = s->client_of(120);
  auto t = clock_.now();
  ASSERT_EQ(value_or(a.store("k", "first", t + 20), 9u), 5u);
  EXPECT_EQ(value_or(b.store("k", "older", t + 10), 9u), 0u);
  EXPECT_EQ(plain_value(*s->client_of(60).get_one("k")), "first");
  EXPECT_EQ(value_or(b.store("k", "newer", t + 30), 0u), 5u);
  EXPECT_EQ(plain_value(*s->client_of(61).get_one("k")), "newer");
  clock_.advance(25); // past the rejected value's and the first value's expiry
  EXPECT_EQ(plain_value(*s->client_of(62).get_one("k")), "newer");
}

TEST_F(DhtSwarmTest, SubkeysFromDifferentWritersMergeAndExpireIndependently) {
  auto s = make_swarm(200, 10);
  auto t = clock_.now();
  ASSERT_EQ(value_or(s->client_of(1).store("ffn.", "a:1", t + 10, std::string{"1"}), 0u), 5u);
  ASSERT_EQ(value_or(s->client_of(2).store("ffn.", "b:2", t + 30, std::string{"2"}), 0u), 5u);
  auto r = s->client_of(199).get_one("ffn.");
  ASSERT_TRUE(r && r->found);
  ASSERT_TRUE(r->value.is_dictionary);
  ASSERT_EQ(r->value.values.size(), 2u);
  EXPECT_EQ(r->value.values[0].subkey, "1");
  EXPECT_EQ(r->value.values[0].value, "a:1");
  EXPECT_EQ(r->value.values[1].subkey, "2");
  clock_.advance(15);
  r = s->client_of(150).get_one("ffn.");
  ASSERT_TRUE(r && r->found);
  ASSERT_EQ(r->value.values.size(), 1u);
  EXPECT_EQ(r->value.values[0].subkey, "2");
  EXPECT_EQ(r->value.values[0].value, "b:2");
}

TEST_F(DhtSwarmTest, ClientModePeerAsksButIsNeverStoredInTables) {
  auto s = make_swarm(50, 13);
  ASSERT_EQ(value_or(s->client_of(4).store("seen", "yes", clock_.now() + 60), 0u), 5u);
  peer_config cfg;
  cfg.client_mode = true;
  cfg.rpc_timeout = std::chrono::milliseconds{500};
  cfg.clock = clock_.fn();
  auto peer = spawn_peer(sys_, cfg, s->shared_directory());
  client c{sys_, peer, std::chrono::seconds{10}};
  auto joined = c.bootstrap({swarm::endpoint_of(0).to_string()});
  ASSERT_TRUE(joined) << describe(joined.error());
  EXPECT_TRUE(joined->client_mode);
  EXPECT_GT(joined->contacts.size(), 10u);
  EXPECT_EQ(value_or(c.get_one("seen"), dht_get_result{}).found, true);
  EXPECT_EQ(value_or(c.store("from-client", "x", clock_.now() + 60), 0u), 5u);
  for (size_t p = 0; p < s->size(); ++p) {
    auto stats = s->client_of(p).stats();
    ASSERT_TRUE(stats);
    for (const auto& contact : stats->contacts)
      EXPECT_NE(contact.id, joined->self.id) << "peer " << p << " stored the client";
  }
  caf::anon_send_exit(peer, caf::exit_reason::kill);
}

TEST_F(DhtSwarmTest, BootstrapFailsFastNamingTheInitialPeers) {
  auto directory = std::make_shared<sim_directory>();
  peer_config cfg;
  cfg.self_ep = {"sim", 1};
  cfg.rpc_timeout = std::chrono::milliseconds{300};
  auto peer = spawn_peer(sys_, cfg, directory);
  client c{sys_, peer, std::chrono::seconds{5}};
  auto start = std::chrono::steady_clock::now();
  auto joined = c.bootstrap({"sim:60001", "sim:60002"});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(joined);
  EXPECT_EQ(code_of(joined.error()), errc::bootstrap_failed);
  EXPECT_NE(context_of(joined.error()).find("sim:60001"), std::string::npos);
  EXPECT_NE(context_of(joined.error()).find("sim:60002"), std::string::npos);
  EXPECT_LT(took, std::chrono::milliseconds{1000});
  caf::anon_send_exit(peer, caf::exit_reason::kill);
}

TEST_F(DhtSwarmTest, ConcurrentLookupsOfOneKeyShareOneSearch) {
  swarm s{sys_, test_swarm(11, &clock_)};
  ASSERT_FALSE(s.grow(30));
  ASSERT_EQ(value_or(s.client_of(0).store("shared", "x", clock_.now() + 60), 0u), 5u);
  size_t reader = 0;
  for (; reader < s.size(); ++reader)
    if (s.client_of(reader).stats()->records == 0)
      break;
  ASSERT_LT(reader, s.size());
  auto before = s.client_of(reader).stats();
  ASSERT_TRUE(before);
  // From now on every RPC takes >= 100 ms, so the ten gets overlap.
  s.directory().faults().set(fault_config{fault_config::delay_kind::fixed, 50, 0, 11});
  caf::scoped_actor self{sys_};
  std::vector<std::function<void()>> collect;
  size_t found = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) {
    auto handle = self->request(s.peer(reader), std::chrono::seconds{10},
                                dht_get_request{{"shared"}});
    collect.emplace_back([handle, &found]() mutable {
      handle.receive([&](dht_get_reply& r) { found += r.results.at(0).found ? 1 : 0; },
                     [](caf::error& err) { ADD_FAILURE() << describe(err); });
    });
  }
  for (auto& f : collect)
    f();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(found, 10u);
  EXPECT_GE(took, std::chrono::milliseconds{100}) << "the 50 ms one-way delay was not applied";
  auto after = s.client_of(reader).stats();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->searches_started - before->searches_started, 1u);
  EXPECT_EQ(after->searches_joined - before->searches_joined, 9u);
}

TEST_F(DhtSwarmTest, LookupsSucceedDespiteTenPercentMessageLoss) {
  auto opts = test_swarm(12, &clock_);
  opts.peer.rpc_timeout = std::chrono::milliseconds{100};
  swarm s{sys_, opts};
  ASSERT_FALSE(s.grow(60));
  fault_config lossy;
  lossy.drop_probability = 0.1; // each request and each reply
  lossy.seed = 12;
  s.directory().faults().set(lossy); // only after the swarm formed
  std::vector<std::string> keys;
  for (size_t i = 0; i < 10; ++i) {
    keys.push_back("lossy-" + std::to_string(i));
    ASSERT_GE(value_or(s.client_of(i).store(keys.back(), "v", clock_.now() + 60), 0u), 1u);
  }
  size_t found = 0;
  size_t total = 0;
  for (size_t p = 20; p < 60; p += 2) {
    auto results = s.client_of(p).get(keys);
    ASSERT_TRUE(results);
    for (const auto& r : *results) {
      found += r.found ? 1 : 0;
      ++total;
    }
  }
  EXPECT_GE(static_cast<double>(found) / total, 0.95) << found << "/" << total;
}

TEST_F(DhtSwarmTest, AGetMergesTheCopiesOfSeveralReplicasAndTheLocalOne) {
  // 12 peers: every lookup reaches all of them (k = 20), so whichever
  // replica answers first, the others' copies are asked for too.
  auto s = make_swarm(12, 11);
  auto t = clock_.now();
  // Replicas that missed each other's stores: subkey 1 on peer 2 only,
  // subkey 2 on peer 5 only, subkey 3 on the reading peer 9 itself.
  store_on(*s, 2, "ffn.", "a", t + 30, std::string{"1"});
  store_on(*s, 5, "ffn.", "b", t + 30, std::string{"2"});
  store_on(*s, 9, "ffn.", "c", t + 30, std::string{"3"});
  auto r = s->client_of(9).get_one("ffn.");
  ASSERT_TRUE(r && r->found);
  ASSERT_TRUE(r->value.is_dictionary);
  std::vector<std::string> got;
  for (auto& v : r->value.values)
    got.push_back(v.subkey + "=" + v.value);
  EXPECT_EQ(got, (std::vector<std::string>{"1=a", "2=b", "3=c"}));
  // A plain value: an older copy on one replica, a newer one on another.
  store_on(*s, 3, "plain", "older", t + 20);
  store_on(*s, 7, "plain", "newer", t + 40);
  EXPECT_EQ(plain_value(*s->client_of(0).get_one("plain")), "newer");
  EXPECT_EQ(plain_value(*s->client_of(3).get_one("plain")), "newer"); // held locally: older
}

TEST_F(DhtSwarmTest, AGetWaitsOnlyItsGraceForMoreCopiesOnceOneArrived) {
  auto opts = test_swarm(12, &clock_);
  opts.peer.rpc_timeout = std::chrono::seconds{20}; // a vanished peer costs 20 s
  swarm s{sys_, opts};
  ASSERT_FALSE(s.grow(12));
  // The nearest peer to the key holds its only copy; the next two vanish.
  auto key = node_id::of_key("lonely");
  std::vector<std::pair<node_id, size_t>> by_distance;
  for (size_t i = 0; i < s.size(); ++i) {
    auto st = s.client_of(i).stats();
    ASSERT_TRUE(st) << describe(st.error());
    auto id = id_from_wire(st->self.id);
    ASSERT_TRUE(id);
    by_distance.emplace_back(*id ^ key, i);
  }
  std::sort(by_distance.begin(), by_distance.end());
  store_on(s, by_distance[0].second, "lonely", "only", clock_.now() + 30);
  s.vanish(by_distance[1].second);
  s.vanish(by_distance[2].second);
  auto start = std::chrono::steady_clock::now();
  auto r = s.client_of(by_distance.back().second).get_one("lonely");
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(plain_value(*r), "only");
  // Three copies were wanted and only one exists: the get ends 250 ms after
  // it arrived, not when the vanished replicas' 20 s timeouts run out.
  // Generous for a loaded machine, far below 20 s.
  EXPECT_LT(secs, 10.0);
}
