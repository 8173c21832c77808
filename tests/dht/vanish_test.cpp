// Vanishing peers and background joins in one-process swarms: a vanished
// peer still resolves but never answers (requests to it end by their own
// timeout, unlike a killed one, which fails at once), lookups still find a
// record through the replicas left, and peers that replace vanished ones
// join in the background and serve.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <caf/all.hpp>

#include "messages/errc.hpp"
#include "tests/dht/test_support.hpp"

using namespace colony;
using namespace colony::dht;
using namespace colony::dht::testing;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

class DhtVanishTest : public system_fixture {
protected:
  std::unique_ptr<swarm> make_swarm(size_t n, uint64_t seed) {
    auto result = std::make_unique<swarm>(sys_, test_swarm(seed, &clock_));
    auto err = result->grow(n);
    EXPECT_FALSE(err) << describe(err);
    return result;
  }

  /// What the swarm's directory answers for peer `i`.
  static caf::expected<peer_front_actor> resolve(swarm& s, size_t i) {
    caf::expected<peer_front_actor> got{caf::error{}};
    s.directory().resolve(nullptr, swarm::endpoint_of(i), 1s,
                          [&](caf::expected<peer_front_actor> x) { got = std::move(x); });
    return got;
  }

  /// Waits (at most 20 s) until `n` background joins ended.
  static void wait_joins(const swarm& s, uint64_t n) {
    auto deadline = steady::now() + 20s;
    while (s.joins().ok + s.joins().failed < n && steady::now() < deadline)
      std::this_thread::sleep_for(5ms);
  }

  manual_clock clock_;
};

} // namespace

TEST_F(DhtVanishTest, VanishedPeerTimesOutWhereKilledPeerFailsAtOnce) {
  auto s = make_swarm(30, 21);
  s->vanish(7);
  s->kill(8);
  EXPECT_FALSE(s->alive(7));
  EXPECT_TRUE(s->vanished(7));
  EXPECT_FALSE(s->vanished(8));
  auto killed = resolve(*s, 8);
  ASSERT_FALSE(killed);
  EXPECT_EQ(code_of(killed.error()), errc::unreachable);
  auto vanished = resolve(*s, 7);
  ASSERT_TRUE(vanished) << describe(vanished.error());
  client c{sys_, *vanished, 300ms};
  auto start = steady::now();
  auto r = c.get({"any-key"});
  auto took = steady::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(code_of(r.error()), errc::timeout) << describe(r.error());
  EXPECT_GE(took, 300ms);
  auto pinged = client{sys_, *vanished, 200ms}.stats();
  EXPECT_FALSE(pinged);
}

TEST_F(DhtVanishTest, LookupFindsTheRecordThroughTheReplicaLeft) {
  auto s = make_swarm(60, 22);
  ASSERT_EQ(value_or(s->client_of(0).store("kept", "v", clock_.now() + 60), 0u), 5u);
  std::vector<size_t> holders;
  for (size_t i = 0; i < s->size(); ++i)
    if (value_or(s->client_of(i).stats(), dht_peer_stats{}).records > 0)
      holders.push_back(i);
  ASSERT_EQ(holders.size(), 5u);
  for (size_t j = 0; j + 1 < holders.size(); ++j)
    s->vanish(holders[j]);
  uint64_t failed_before = 0;
  uint64_t failed_after = 0;
  size_t found = 0;
  size_t asked = 0;
  for (auto i : s->alive_indices()) {
    if (i == holders.back() || asked == 15)
      continue;
    failed_before += value_or(s->client_of(i).stats(), dht_peer_stats{}).rpcs_failed;
    auto r = s->client_of(i, 10s).get_one("kept");
    ++asked;
    found += r && r->found && r->value.values.at(0).value == "v" ? 1 : 0;
    failed_after += value_or(s->client_of(i).stats(), dht_peer_stats{}).rpcs_failed;
  }
  EXPECT_EQ(found, asked);
  // Some lookups asked a vanished replica, whose request failed by timeout.
  EXPECT_GT(failed_after, failed_before);
}

TEST_F(DhtVanishTest, ReplacedPeersJoinInTheBackgroundAndServe) {
  auto s = make_swarm(50, 23);
  std::vector<size_t> fresh;
  for (size_t i = 0; i < 10; ++i)
    fresh.push_back(s->replace(i * 5));
  wait_joins(*s, 10);
  EXPECT_EQ(s->joins().started.load(), 10u);
  EXPECT_EQ(s->joins().ok.load(), 10u);
  EXPECT_EQ(s->joins().failed.load(), 0u);
  EXPECT_EQ(s->size(), 60u);
  EXPECT_EQ(s->alive_indices().size(), 50u);
  for (size_t i = 0; i < 10; ++i)
    ASSERT_GE(value_or(s->client_of(fresh[i % fresh.size()])
                         .store("k" + std::to_string(i), "v" + std::to_string(i),
                                clock_.now() + 60),
                       0u),
              1u);
  uint64_t records_on_fresh = 0;
  for (auto i : fresh) {
    auto stats = s->client_of(i).stats();
    ASSERT_TRUE(stats);
    EXPECT_GE(stats->contacts.size(), 10u) << "peer " << i;
    records_on_fresh += stats->records;
  }
  EXPECT_GT(records_on_fresh, 0u);
  for (auto reader : {fresh.front(), fresh.back(), size_t{1}, size_t{49}})
    for (size_t i = 0; i < 10; ++i) {
      auto r = s->client_of(reader, 10s).get_one("k" + std::to_string(i));
      ASSERT_TRUE(r);
      EXPECT_TRUE(r->found) << "reader " << reader << " key " << i;
    }
}

TEST(DhtSwarmEndpoints, StayDistinctPastThePortRange) {
  EXPECT_EQ(swarm::endpoint_of(0).to_string(), "sim:1");
  EXPECT_EQ(swarm::endpoint_of(65534).to_string(), "sim:65535");
  EXPECT_EQ(swarm::endpoint_of(65535).to_string(), "sim1:1");
  EXPECT_EQ(swarm::endpoint_of(2 * 65535 + 4).to_string(), "sim2:5");
}
