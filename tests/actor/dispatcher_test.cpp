// The node's dispatcher on CAF's deterministic test scheduler: no threads,
// no sleeps; every step is run explicitly.
#include <memory>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>

#include "actors/expert/expert_actor.hpp"
#include "messages/registry.hpp"
#include "tests/actor/test_config.hpp"

using namespace colony;

namespace {

using actor_test::test_config;

using grant_log = std::shared_ptr<std::vector<std::pair<int, uint8_t>>>;

/// Stands in for an expert: records the grants it receives.
expert_actor::behavior_type fake_expert(expert_actor::pointer, int name, grant_log log) {
  return {
    [](forward_request&) -> caf::result<forward_reply> { return forward_reply{}; },
    [](backward_request&) -> caf::result<backward_reply> { return backward_reply{}; },
    [](forward_request&, uint32_t) -> caf::result<forward_reply> { return forward_reply{}; },
    [](backward_request&, uint32_t) -> caf::result<backward_reply> { return backward_reply{}; },
    [](info_request&) { return expert_info{}; },
    [](save_atom) { return uint64_t{0}; },
    [=](grant_atom, uint8_t kind) { log->emplace_back(name, kind); },
    [](computed_atom) {},
  };
}

struct fixture : ::testing::Test {
  test_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  grant_log log = std::make_shared<std::vector<std::pair<int, uint8_t>>>();

  void ready(const dispatcher_actor& d, const expert_actor& e, uint8_t kind, int64_t t) {
    caf::anon_send(d, ready_atom::value, e, kind, t);
    sched.run();
  }

  void done(const dispatcher_actor& d, const expert_actor& e) {
    caf::anon_send(d, done_atom::value, e->id());
    sched.run();
  }
};

using DispatcherTest = fixture;

} // namespace

TEST_F(DispatcherTest, GrantsTheOldestWaitingQueueWhenASlotFrees) {
  auto d = spawn_dispatcher(sys, 1);
  auto e1 = sys.spawn(fake_expert, 1, log);
  auto e2 = sys.spawn(fake_expert, 2, log);
  auto e3 = sys.spawn(fake_expert, 3, log);
  sched.run();
  ready(d, e1, 0, 300);
  ASSERT_EQ(log->size(), 1u);
  ready(d, e2, 1, 200);
  ready(d, e3, 0, 100);
  EXPECT_EQ(log->size(), 1u) << "one slot: nothing else runs until done";
  done(d, e1);
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ(log->back(), std::make_pair(3, uint8_t{0}));
  done(d, e3);
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ(log->back(), std::make_pair(2, uint8_t{1}));
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  sched.run();
}

TEST_F(DispatcherTest, RunsAsManyBatchesAsItHasSlots) {
  auto d = spawn_dispatcher(sys, 2);
  auto e1 = sys.spawn(fake_expert, 1, log);
  auto e2 = sys.spawn(fake_expert, 2, log);
  auto e3 = sys.spawn(fake_expert, 3, log);
  sched.run();
  ready(d, e1, 0, 10);
  ready(d, e2, 0, 20);
  ready(d, e3, 0, 30);
  EXPECT_EQ(log->size(), 2u);
  done(d, e2);
  EXPECT_EQ(log->size(), 3u);
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  sched.run();
}

TEST_F(DispatcherTest, ADeadExpertReleasesItsSlotAndItsQueues) {
  auto d = spawn_dispatcher(sys, 1);
  auto e1 = sys.spawn(fake_expert, 1, log);
  auto e2 = sys.spawn(fake_expert, 2, log);
  sched.run();
  ready(d, e1, 0, 10);
  ready(d, e1, 1, 11);
  ready(d, e2, 0, 20);
  ASSERT_EQ(log->size(), 1u);
  caf::anon_send_exit(e1, caf::exit_reason::kill);
  sched.run();
  ASSERT_EQ(log->size(), 2u) << "e1's slot went to e2, its backward queue was dropped";
  EXPECT_EQ(log->back().first, 2);
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  sched.run();
}
