// The crash injector (runtime/supervision/crash_injector.hpp) on CAF's
// deterministic test scheduler: the kill rate over virtual time, that each
// victim receives the exit with the injected reason, that a fixed seed
// repeats the sequence, and that no victims means no kills and no error.
#include <chrono>
#include <memory>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>

#include "messages/errc.hpp"
#include "messages/registry.hpp"
#include "runtime/supervision/crash_injector.hpp"
#include "tests/actor/test_config.hpp"

using namespace colony;
using namespace std::chrono_literals;

namespace {

using actor_test::test_config;

/// Virtual seconds at which one victim received an injected exit.
using kill_log = std::vector<double>;

/// A victim that survives exits and records when each injected one came.
caf::behavior victim(caf::event_based_actor* self, std::shared_ptr<kill_log> kills,
                     std::shared_ptr<int> other_exits, caf::actor_clock::time_point t0) {
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (code_of(msg.reason) == errc::compute_failed
        && context_of(msg.reason) == "injected crash (faults.crash_rate_per_min)")
      kills->push_back(std::chrono::duration<double>(self->clock().now() - t0).count());
    else
      ++*other_exits;
  });
  return {[](int) {}};
}

/// One run: `n` victims and an injector, `minutes` of virtual time in 1 s
/// steps; the kill times per victim.
struct run_result {
  std::vector<kill_log> per_victim;
  int other_exits = 0;
  size_t victims_asked = 0;
  bool injector_alive = false;
};

run_result run(size_t n, double rate, uint64_t seed, int minutes) {
  test_config cfg;
  caf::actor_system sys{cfg};
  auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  auto t0 = sched.clock().now();
  std::vector<std::shared_ptr<kill_log>> logs;
  auto others = std::make_shared<int>(0);
  std::vector<caf::actor> victims;
  for (size_t i = 0; i < n; ++i) {
    logs.push_back(std::make_shared<kill_log>());
    victims.push_back(sys.spawn(victim, logs.back(), others, t0));
  }
  auto asked = std::make_shared<size_t>(0);
  auto injector = supervision::spawn_crash_injector(sys, rate, seed, [=] {
    ++*asked;
    return victims;
  });
  sched.run();
  for (int s = 0; s < minutes * 60; ++s) {
    sched.advance_time(1s);
    sched.run();
  }
  run_result result;
  for (auto& l : logs)
    result.per_victim.push_back(*l);
  result.other_exits = *others;
  result.victims_asked = *asked;
  // Still alive: a request to it would be answered with an error only if dead.
  result.injector_alive = caf::actor_cast<caf::strong_actor_ptr>(injector)
                            ->get()->getf(caf::abstract_actor::is_terminated_flag) == false;
  caf::anon_send_exit(injector, caf::exit_reason::user_shutdown);
  for (auto& v : victims)
    caf::anon_send_exit(v, caf::exit_reason::kill);
  sched.run();
  return result;
}

size_t total(const run_result& r) {
  size_t n = 0;
  for (auto& l : r.per_victim)
    n += l.size();
  return n;
}

} // namespace

TEST(CrashInjectorTest, KillsAtTheConfiguredRateAndEachVictimGetsTheExit) {
  auto r = run(4, 6.0, 7, 10); // 6/min over 10 virtual minutes: 60 expected
  auto kills = total(r);
  EXPECT_GE(kills, 35u);
  EXPECT_LE(kills, 85u);
  EXPECT_EQ(r.victims_asked, kills); // every timer fired found a victim
  EXPECT_EQ(r.other_exits, 0);
  for (size_t i = 0; i < r.per_victim.size(); ++i)
    EXPECT_GE(r.per_victim[i].size(), 3u) << "victim " << i << " was never picked";
  for (auto& l : r.per_victim)
    for (double t : l)
      EXPECT_LE(t, 600.0);
  EXPECT_TRUE(r.injector_alive);
}

TEST(CrashInjectorTest, AFixedSeedRepeatsTheSequence) {
  auto a = run(3, 6.0, 42, 5);
  auto b = run(3, 6.0, 42, 5);
  auto c = run(3, 6.0, 43, 5);
  ASSERT_GT(total(a), 0u);
  EXPECT_EQ(a.per_victim, b.per_victim);
  EXPECT_NE(a.per_victim, c.per_victim);
}

TEST(CrashInjectorTest, NoVictimsMeansNoCrashAndNoError) {
  auto r = run(0, 6.0, 7, 10);
  EXPECT_EQ(total(r), 0u);
  EXPECT_GE(r.victims_asked, 35u); // the timer kept running
  EXPECT_TRUE(r.injector_alive);
}

TEST(CrashInjectorTest, ZeroRateNeverFires) {
  auto r = run(2, 0.0, 7, 10);
  EXPECT_EQ(total(r), 0u);
  EXPECT_EQ(r.victims_asked, 0u);
}
