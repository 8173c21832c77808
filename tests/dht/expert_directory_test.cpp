// Expert declaration on a 40-peer swarm: declare, resolve, list, and
// expiry of the experts of a node that stopped declaring.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include <caf/all.hpp>

#include "actors/dht/declarer.hpp"
#include "actors/dht/expert_directory.hpp"
#include "messages/errc.hpp"
#include "tests/dht/test_support.hpp"

using namespace colony;
using namespace colony::dht;
using namespace colony::dht::testing;

namespace {

const endpoint node_a{"127.0.0.1", 7000};
const endpoint node_b{"127.0.0.1", 7001};

class ExpertDirectoryTest : public system_fixture {
protected:
  ExpertDirectoryTest() : swarm_(sys_, test_swarm(41, &clock_)) {
    auto err = swarm_.grow(40);
    EXPECT_FALSE(err) << describe(err);
  }

  /// Node A serves ffn.0.0-3 and ffn.1.5, node B ffn.1.2; both declare.
  void declare_both(double ttl) {
    auto a = swarm_.client_of(3);
    auto b = swarm_.client_of(7);
    auto ra = declare_experts(a, {"ffn.0.0", "ffn.0.1", "ffn.0.2", "ffn.0.3", "ffn.1.5"},
                              node_a, clock_.now() + ttl, key_a_);
    ASSERT_TRUE(ra) << describe(ra.error());
    EXPECT_EQ(ra->items, 5u + 5u); // uids, ffn.0.[0-3] + ffn.1.5 (nothing under ffn.)
    EXPECT_EQ(ra->min_acks, 5u);
    auto rb = declare_experts(b, {"ffn.1.2"}, node_b, clock_.now() + ttl, key_b_);
    ASSERT_TRUE(rb) << describe(rb.error());
  }

  manual_clock clock_;
  swarm swarm_;
  identity::node_key key_a_ = identity::node_key::generate();
  identity::node_key key_b_ = identity::node_key::generate();
};

} // namespace

TEST_F(ExpertDirectoryTest, DeclaredExpertsResolveToTheirEndpoints) {
  declare_both(60);
  auto reader = swarm_.client_of(30);
  auto eps = get_experts(reader, {"ffn.0.1", "ffn.1.2", "ffn.9.9"});
  ASSERT_TRUE(eps) << describe(eps.error());
  ASSERT_EQ(eps->size(), 3u);
  EXPECT_EQ((*eps)[0], node_a);
  EXPECT_EQ((*eps)[1], node_b);
  EXPECT_FALSE((*eps)[2].has_value());
}

TEST_F(ExpertDirectoryTest, ActiveSuccessorsListTheLiveNextCoordinates) {
  declare_both(60);
  auto reader = swarm_.client_of(31);
  // Two-dimensional uids declare nothing under the grid's root: searches
  // probe "ffn.0.", "ffn.1.", ... (no key every declarer writes).
  auto top = get_active_successors(reader, "ffn.");
  ASSERT_TRUE(top) << describe(top.error());
  EXPECT_TRUE(top->empty());
  auto first = get_active_successors(reader, "ffn.0.");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->size(), 4u); // ffn.0.0-3
  auto row = get_active_successors(reader, "ffn.1.");
  ASSERT_TRUE(row);
  ASSERT_EQ(row->size(), 2u);
  EXPECT_EQ(row->at(2), node_b);
  EXPECT_EQ(row->at(5), node_a);
  EXPECT_TRUE(get_active_successors(reader, "ffn.2.")->empty());
  EXPECT_EQ(code_of(get_active_successors(reader, "ffn.1").error()), errc::bad_request);
}

TEST_F(ExpertDirectoryTest, FirstKActiveKeepsThePrefixOrder) {
  declare_both(60);
  auto reader = swarm_.client_of(32);
  std::vector<std::string> prefixes{"ffn.3.", "ffn.1.", "ffn.2.", "ffn.0."};
  auto one = first_k_active(reader, prefixes, 1);
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, std::vector<std::string>{"ffn.1."});
  auto all = first_k_active(reader, prefixes, 5);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, (std::vector<std::string>{"ffn.1.", "ffn.0."}));
}

TEST_F(ExpertDirectoryTest, ListExpertsWalksThePrefixTree) {
  declare_both(60);
  auto reader = swarm_.client_of(33);
  auto all = list_experts(reader, "ffn.");
  ASSERT_TRUE(all) << describe(all.error());
  ASSERT_EQ(all->size(), 6u);
  EXPECT_EQ((*all)[0].first, "ffn.0.0");
  EXPECT_EQ((*all)[4].first, "ffn.1.2");
  EXPECT_EQ((*all)[4].second, node_b);
  EXPECT_EQ((*all)[5].first, "ffn.1.5");
}

TEST_F(ExpertDirectoryTest, ExpertsOfANodeThatStopsDeclaringVanishAfterExpiration) {
  declare_both(30);
  clock_.advance(20);
  auto b = swarm_.client_of(7);
  ASSERT_TRUE(declare_experts(b, {"ffn.1.2"}, node_b, clock_.now() + 30, key_b_)); // A died
  clock_.advance(15); // A's declarations expired, B's renewed ones did not
  auto reader = swarm_.client_of(34);
  auto eps = get_experts(reader, {"ffn.0.1", "ffn.1.5", "ffn.1.2"});
  ASSERT_TRUE(eps);
  EXPECT_FALSE((*eps)[0].has_value());
  EXPECT_FALSE((*eps)[1].has_value());
  EXPECT_EQ((*eps)[2], node_b);
  auto gone = get_active_successors(reader, "ffn.0.");
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->empty());
  auto row = get_active_successors(reader, "ffn.1.");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->size(), 1u);
}

TEST_F(ExpertDirectoryTest, InvalidUidIsRejectedBeforeAnythingIsStored) {
  auto a = swarm_.client_of(3);
  auto r = declare_experts(a, {"ffn.0.1", "ffn.07"}, node_a, clock_.now() + 60, key_a_);
  ASSERT_FALSE(r);
  EXPECT_EQ(code_of(r.error()), errc::bad_request);
  EXPECT_FALSE(get_experts(a, {"ffn.0.1"})->at(0).has_value());
}

TEST_F(ExpertDirectoryTest, DeclarerRedeclaresEveryUpdatePeriod) {
  declarer_config cfg;
  cfg.uids = {"ffn.4.0", "ffn.4.1"};
  cfg.expert_ep = node_a;
  cfg.expiration_s = 30;
  cfg.update_period_s = 0.05;
  cfg.clock = clock_.fn();
  auto d = spawn_declarer(sys_, swarm_.peer(5), cfg);
  caf::scoped_actor self{sys_};
  uint64_t rounds = 0;
  for (int i = 0; i < 100 && rounds < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    self->request(d, std::chrono::seconds{1}, stats_atom::value)
      .receive([&](uint64_t n) { rounds = n; }, [](caf::error&) {});
  }
  EXPECT_GE(rounds, 3u);
  auto reader = swarm_.client_of(35);
  auto eps = get_experts(reader, {"ffn.4.0", "ffn.4.1"});
  ASSERT_TRUE(eps);
  EXPECT_EQ((*eps)[0], node_a);
  EXPECT_EQ((*eps)[1], node_a);
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
}

namespace {

/// Polls the declarer until it completed `n` rounds (bounded: ~5 s).
uint64_t wait_rounds(caf::actor_system& sys, const declarer_actor& d, uint64_t n) {
  caf::scoped_actor self{sys};
  uint64_t rounds = 0;
  for (int i = 0; i < 250 && rounds < n; ++i) {
    self->request(d, std::chrono::seconds{1}, stats_atom::value)
      .receive([&](uint64_t r) { rounds = r; }, [](caf::error&) {});
    if (rounds < n)
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return rounds;
}

} // namespace

// A uid that leaves the declarer's source (an expert stopped or given up)
// is gone from the DHT after the next round, long before its declaration
// would expire; declared again, it is back.
TEST_F(ExpertDirectoryTest, DeclarerWithdrawsAUidThatLeftItsSourceAtOnce) {
  auto mx = std::make_shared<std::mutex>();
  auto uids = std::make_shared<std::vector<std::string>>(
    std::vector<std::string>{"ffn.5.0", "ffn.5.1"});
  declarer_config cfg;
  cfg.uids_source = [mx, uids] {
    std::lock_guard<std::mutex> guard{*mx};
    return *uids;
  };
  cfg.expert_ep = node_a;
  cfg.expiration_s = 600;
  cfg.update_period_s = 3600; // only wakes drive the rounds below
  cfg.clock = clock_.fn();
  auto d = spawn_declarer(sys_, swarm_.peer(5), cfg);
  ASSERT_EQ(wait_rounds(sys_, d, 1), 1u);
  auto reader = swarm_.client_of(36);
  auto eps = get_experts(reader, {"ffn.5.0", "ffn.5.1"});
  ASSERT_TRUE(eps);
  EXPECT_EQ((*eps)[1], node_a);
  auto set = [&](std::vector<std::string> now) {
    std::lock_guard<std::mutex> guard{*mx};
    *uids = std::move(now);
  };
  set({"ffn.5.0"});
  clock_.advance(1); // the withdrawal is newer than the declaration
  caf::anon_send(d, wake_atom::value);
  ASSERT_EQ(wait_rounds(sys_, d, 2), 2u);
  eps = get_experts(reader, {"ffn.5.0", "ffn.5.1"});
  ASSERT_TRUE(eps);
  EXPECT_EQ((*eps)[0], node_a);
  EXPECT_FALSE((*eps)[1].has_value()) << "ffn.5.1 is still declared after its withdrawal";
  auto row = get_active_successors(reader, "ffn.5.");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->size(), 1u);
  EXPECT_EQ(row->count(0), 1u);
  set({"ffn.5.0", "ffn.5.1"});
  clock_.advance(1); // the new declaration expires after the withdrawal
  caf::anon_send(d, wake_atom::value);
  ASSERT_EQ(wait_rounds(sys_, d, 3), 3u);
  eps = get_experts(reader, {"ffn.5.1"});
  ASSERT_TRUE(eps);
  EXPECT_EQ((*eps)[0], node_a);
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
}

// Graceful leave: a declarer asked to leave withdraws every uid it declared
// (records newer than the declarations), so readers stop seeing them at
// once, long before the 600 s expiration; after it, a wake declares nothing.
TEST_F(ExpertDirectoryTest, ALeavingDeclarerWithdrawsItsExpertsAtOnce) {
  declarer_config cfg;
  cfg.uids = {"ffn.6.0", "ffn.6.1"};
  cfg.expert_ep = node_a;
  cfg.expiration_s = 600;
  cfg.update_period_s = 3600;
  cfg.clock = clock_.fn(); // not advanced: the withdrawal must still win
  auto d = spawn_declarer(sys_, swarm_.peer(9), cfg);
  ASSERT_EQ(wait_rounds(sys_, d, 1), 1u);
  auto reader = swarm_.client_of(30);
  auto eps = get_experts(reader, {"ffn.6.0", "ffn.6.1"});
  ASSERT_TRUE(eps);
  EXPECT_EQ((*eps)[0], node_a);
  EXPECT_EQ((*eps)[1], node_a);
  caf::scoped_actor self{sys_};
  uint64_t withdrawn = 0;
  self->request(d, std::chrono::seconds{10}, leave_atom::value)
    .receive([&](uint64_t n) { withdrawn = n; },
             [](caf::error& err) { FAIL() << describe(err); });
  EXPECT_EQ(withdrawn, 2u);
  eps = get_experts(reader, {"ffn.6.0", "ffn.6.1"});
  ASSERT_TRUE(eps);
  EXPECT_FALSE((*eps)[0].has_value()) << "ffn.6.0 is still declared after the leave";
  EXPECT_FALSE((*eps)[1].has_value()) << "ffn.6.1 is still declared after the leave";
  auto row = get_active_successors(reader, "ffn.6.");
  ASSERT_TRUE(row);
  EXPECT_TRUE(row->empty());
  caf::anon_send(d, wake_atom::value); // must not declare again
  EXPECT_EQ(wait_rounds(sys_, d, 1), 1u);
  eps = get_experts(reader, {"ffn.6.0"});
  ASSERT_TRUE(eps);
  EXPECT_FALSE((*eps)[0].has_value());
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
}
