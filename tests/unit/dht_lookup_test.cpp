#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "actors/dht/lookup.hpp"
#include "actors/dht/routing_table.hpp"
#include "tests/unit/dht_ids.hpp"

using namespace colony::dht;
using namespace colony::dht::test_ids;

namespace {

constexpr size_t k = 20;
constexpr size_t alpha = 3;

/// A simulated network as plain data: every node knows a random 5% of the
/// others plus its own k nearest (what its bootstrap lookup would return).
class network {
public:
  network(size_t size, uint64_t seed) : rng_(seed) {
    for (size_t i = 0; i < size; ++i)
      ids_.push_back(node_id::random(rng_));
    for (const auto& id : ids_)
      tables_.emplace(id, build_table(id));
  }

  const std::vector<node_id>& ids() const { return ids_; }
  const routing_table& table(const node_id& id) const { return tables_.at(id); }
  std::mt19937_64& rng() { return rng_; }

  /// Runs `q` to completion from `origin`, answering in random order;
  /// `dead` nodes fail, `holders` answer with the value.
  void drive(lookup& q, const node_id& origin,
             const std::unordered_set<node_id>& dead,
             const std::unordered_set<node_id>& holders = {}) {
    std::vector<contact> in_flight;
    for (;;) {
      for (const auto& c : q.next_requests())
        in_flight.push_back(c);
      EXPECT_LE(q.pending(), alpha);
      EXPECT_EQ(q.pending(), in_flight.size());
      if (in_flight.empty() || q.done())
        return;
      std::uniform_int_distribution<size_t> pick{0, in_flight.size() - 1};
      auto i = pick(rng_);
      auto peer = in_flight[i].id;
      in_flight.erase(in_flight.begin() + static_cast<ptrdiff_t>(i));
      if (dead.count(peer) > 0)
        q.on_failure(peer);
      else
        q.on_reply(peer, table(peer).closest(q.target(), k, origin),
                   holders.count(peer) > 0);
    }
  }

private:
  routing_table build_table(const node_id& self) {
    routing_table table{self, k, 5};
    std::bernoulli_distribution coin{0.05};
    double now = 0;
    for (const auto& id : brute_force(ids_, self, k + 1))
      table.update(make_contact(id), ++now);
    for (const auto& id : ids_)
      if (coin(rng_))
        table.update(make_contact(id), ++now);
    return table;
  }

  std::mt19937_64 rng_;
  std::vector<node_id> ids_;
  std::unordered_map<node_id, routing_table> tables_;
};

network& shared_network() {
  static network net{1000, 42};
  return net;
}

size_t median(std::vector<size_t> xs) {
  std::nth_element(xs.begin(), xs.begin() + xs.size() / 2, xs.end());
  return xs[xs.size() / 2];
}

} // namespace

TEST(DhtLookupTest, FindsTheKNearestOfAThousandNodes) {
  auto& net = shared_network();
  std::vector<size_t> hops;
  for (int i = 0; i < 200; ++i) {
    auto target = node_id::random(net.rng());
    auto origin = net.ids()[net.rng()() % net.ids().size()];
    lookup q{target, k, alpha, net.table(origin).closest(target, k), origin};
    net.drive(q, origin, {});
    ASSERT_TRUE(q.done());
    auto others = net.ids();
    others.erase(std::find(others.begin(), others.end(), origin));
    EXPECT_EQ(ids_of(q.result()), brute_force(others, target, k));
    hops.push_back(q.hops());
  }
  EXPECT_LE(median(hops), 4u);
  EXPECT_LE(*std::max_element(hops.begin(), hops.end()), 8u);
}

TEST(DhtLookupTest, SkipsFailedNodes) {
  auto& net = shared_network();
  std::unordered_set<node_id> dead;
  for (const auto& id : net.ids())
    if (net.rng()() % 10 == 0)
      dead.insert(id);
  for (int i = 0; i < 100; ++i) {
    auto target = node_id::random(net.rng());
    auto origin = net.ids()[net.rng()() % net.ids().size()];
    if (dead.count(origin) > 0)
      continue;
    lookup q{target, k, alpha, net.table(origin).closest(target, k), origin};
    net.drive(q, origin, dead);
    ASSERT_TRUE(q.done());
    std::vector<node_id> live;
    for (const auto& id : net.ids())
      if (dead.count(id) == 0 && id != origin)
        live.push_back(id);
    // Replies list dead nodes too, so the live node at the boundary (rank
    // k) may stay unknown; every nearer one must be found, in order.
    auto got = ids_of(q.result());
    auto want = brute_force(live, target, k);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_TRUE(std::equal(want.begin(), want.end() - 1, got.begin()));
    for (const auto& id : got)
      EXPECT_EQ(dead.count(id), 0u);
  }
}

/// 50 value lookups wanting `values_wanted` copies of a key held by its 5
/// nearest nodes, each from a random non-holder; `check` sees each finished
/// lookup and the holders.
template <class Check>
void value_lookups(size_t values_wanted, Check check) {
  auto& net = shared_network();
  for (int i = 0; i < 50; ++i) {
    auto key = node_id::random(net.rng());
    auto holders_list = brute_force(net.ids(), key, 5);
    std::unordered_set<node_id> holders(holders_list.begin(), holders_list.end());
    auto origin = net.ids()[net.rng()() % net.ids().size()];
    if (holders.count(origin) > 0)
      continue;
    lookup q{key, k, alpha, net.table(origin).closest(key, k), origin, values_wanted};
    net.drive(q, origin, {}, holders);
    check(q, holders);
  }
}

TEST(DhtLookupTest, ValueLookupStopsAtTheFirstHolder) {
  value_lookups(1, [](lookup& q, const std::unordered_set<node_id>& holders) {
    ASSERT_TRUE(q.found_value());
    EXPECT_TRUE(q.done());
    ASSERT_NE(q.value_source(), nullptr);
    EXPECT_EQ(holders.count(q.value_source()->id), 1u);
    EXPECT_LE(q.hops(), 6u);
    EXPECT_TRUE(q.next_requests().empty());
  });
}

TEST(DhtLookupTest, ValueLookupGathersTheWantedNumberOfHolders) {
  value_lookups(3, [](lookup& q, const std::unordered_set<node_id>&) {
    EXPECT_TRUE(q.done());
    // Three of the five holders answered with the value (replies in flight
    // when the third arrived may add more).
    EXPECT_GE(q.values(), 3u);
    EXPECT_LE(q.values(), 5u);
  });
}

TEST(DhtLookupTest, NeverAsksSelfOrTheSameContactTwice) {
  std::mt19937_64 rng{1};
  auto self = node_id::random(rng);
  auto a = node_id::random(rng);
  auto b = node_id::random(rng);
  auto target = node_id::random(rng);
  lookup q{target, 2, 3, {make_contact(a), make_contact(self)}, self};
  auto first = q.next_requests();
  ASSERT_EQ(ids_of(first), std::vector<node_id>{a});
  q.on_reply(a, {make_contact(self), make_contact(a), make_contact(b)});
  EXPECT_EQ(ids_of(q.next_requests()), std::vector<node_id>{b});
  q.on_reply(b, {make_contact(a)});
  EXPECT_TRUE(q.next_requests().empty());
  EXPECT_TRUE(q.done());
  EXPECT_EQ(ids_of(q.result()), brute_force({a, b}, target, 2));
}

TEST(DhtLookupTest, KeepsAtMostAlphaRequestsInFlight) {
  std::mt19937_64 rng{2};
  auto target = node_id::random(rng);
  std::vector<contact> initial;
  for (int i = 0; i < 10; ++i)
    initial.push_back(make_contact(node_id::random(rng)));
  lookup q{target, 5, 2, initial, node_id::random(rng)};
  auto first = q.next_requests();
  EXPECT_EQ(first.size(), 2u);
  EXPECT_TRUE(q.next_requests().empty());
  EXPECT_EQ(q.pending(), 2u);
  std::vector<node_id> nearest = brute_force(ids_of(initial), target, 2);
  EXPECT_EQ(ids_of(first), nearest);
  q.on_failure(first[0].id);
  EXPECT_EQ(q.next_requests().size(), 1u);
  EXPECT_EQ(q.pending(), 2u);
}

TEST(DhtLookupTest, IgnoresRepliesFromContactsNotInFlight) {
  std::mt19937_64 rng{3};
  auto target = node_id::random(rng);
  auto a = node_id::random(rng);
  auto stranger = node_id::random(rng);
  lookup q{target, 3, 3, {make_contact(a)}, node_id::random(rng)};
  q.on_reply(a, {make_contact(stranger)}); // not asked yet
  q.on_reply(stranger, {});
  EXPECT_EQ(ids_of(q.next_requests()), std::vector<node_id>{a});
  q.on_reply(a, {});
  q.on_reply(a, {make_contact(stranger)}); // duplicate reply
  EXPECT_TRUE(q.done());
  EXPECT_EQ(ids_of(q.result()), std::vector<node_id>{a});
}

TEST(DhtLookupTest, FailedContactsAreLeftOutOfTheResult) {
  std::mt19937_64 rng{4};
  auto target = node_id::random(rng);
  std::vector<contact> initial;
  for (int i = 0; i < 4; ++i)
    initial.push_back(make_contact(node_id::random(rng)));
  lookup q{target, 4, 4, initial, node_id::random(rng)};
  auto asked = q.next_requests();
  ASSERT_EQ(asked.size(), 4u);
  q.on_failure(asked[0].id);
  q.on_failure(asked[2].id);
  EXPECT_FALSE(q.done());
  q.on_reply(asked[1].id, {});
  q.on_reply(asked[3].id, {});
  EXPECT_TRUE(q.done());
  EXPECT_EQ(ids_of(q.result()), (std::vector<node_id>{asked[1].id, asked[3].id}));
}

TEST(DhtLookupTest, EmptyLookupIsDoneAtOnce) {
  std::mt19937_64 rng{5};
  lookup q{node_id::random(rng), k, alpha, {}, node_id::random(rng)};
  EXPECT_TRUE(q.done());
  EXPECT_TRUE(q.next_requests().empty());
  EXPECT_TRUE(q.result().empty());
  EXPECT_EQ(q.hops(), 0u);
}

TEST(DhtLookupTest, HopsCountTheChainOfReferrals) {
  node_id target;
  auto far = target.with_bit(0, true);
  auto mid = target.with_bit(5, true);
  auto near = target.with_bit(20, true);
  lookup q{target, 1, 1, {make_contact(far)}, target.with_bit(1, true)};
  q.next_requests();
  q.on_reply(far, {make_contact(mid)});
  q.next_requests();
  q.on_reply(mid, {make_contact(near), make_contact(far)});
  EXPECT_EQ(ids_of(q.next_requests()), std::vector<node_id>{near});
  q.on_reply(near, {});
  EXPECT_TRUE(q.done());
  EXPECT_EQ(q.hops(), 3u);
}

// Kademlia's stalled-lookup rule: a slow request frees its alpha slot and
// its place among the k nearest, a late reply from it still counts, and
// the lookup ends without it once the others answered.
TEST(DhtLookupTest, ASlowRequestLetsTheNextCandidatesBeAsked) {
  std::mt19937_64 rng{6};
  auto target = node_id::random(rng);
  std::vector<contact> initial;
  for (int i = 0; i < 3; ++i)
    initial.push_back(make_contact(node_id::random(rng)));
  auto order = brute_force(ids_of(initial), target, 3);
  lookup q{target, 2, 1, initial, node_id::random(rng)};
  EXPECT_EQ(ids_of(q.next_requests()), std::vector<node_id>{order[0]});
  EXPECT_TRUE(q.next_requests().empty()); // alpha = 1
  q.on_slow(order[0]);
  EXPECT_EQ(q.pending(), 0u);
  EXPECT_EQ(q.slow(), 1u);
  EXPECT_EQ(ids_of(q.next_requests()), std::vector<node_id>{order[1]});
  q.on_reply(order[1], {});
  EXPECT_FALSE(q.done()); // the third is within the k = 2 not slow
  EXPECT_EQ(ids_of(q.next_requests()), std::vector<node_id>{order[2]});
  q.on_reply(order[2], {});
  EXPECT_TRUE(q.done()); // without the slow one
  EXPECT_EQ(ids_of(q.result()), (std::vector<node_id>{order[1], order[2]}));
}

TEST(DhtLookupTest, ALateReplyOfASlowRequestStillCounts) {
  std::mt19937_64 rng{7};
  auto target = node_id::random(rng);
  std::vector<contact> initial;
  for (int i = 0; i < 2; ++i)
    initial.push_back(make_contact(node_id::random(rng)));
  auto order = brute_force(ids_of(initial), target, 2);
  lookup q{target, 2, 1, initial, node_id::random(rng), 1};
  ASSERT_EQ(ids_of(q.next_requests()), std::vector<node_id>{order[0]});
  q.on_slow(order[0]);
  ASSERT_EQ(ids_of(q.next_requests()), std::vector<node_id>{order[1]});
  EXPECT_TRUE(q.on_reply(order[0], {}, true)); // late, with the value
  EXPECT_EQ(q.slow(), 0u);
  EXPECT_TRUE(q.done()); // one value wanted
  EXPECT_EQ(q.values(), 1u);
  EXPECT_FALSE(q.on_reply(order[0], {})); // a duplicate is ignored
}

TEST(DhtLookupTest, WhileNobodyAnsweredSlowRequestsAreWaitedFor) {
  std::mt19937_64 rng{8};
  auto target = node_id::random(rng);
  auto a = node_id::random(rng);
  lookup q{target, 3, 3, {make_contact(a)}, node_id::random(rng)};
  ASSERT_EQ(q.next_requests().size(), 1u);
  q.on_slow(a);
  EXPECT_FALSE(q.done());
  q.on_failure(a); // its timeout ends it
  EXPECT_TRUE(q.done());
  EXPECT_EQ(q.slow(), 0u);
  EXPECT_TRUE(q.result().empty());
}
