// The supervisor (runtime/supervision/supervisor.hpp) on CAF's deterministic
// test scheduler: strategies, restart policies, intensity and escalation,
// backoff in virtual time, start failures, add/remove/lookup/which and
// ordered shutdown. Children are tiny actors that record their starts and
// exits in a shared journal; report lines are captured from the
// "supervisor" logger.
#include <algorithm>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "messages/errc.hpp"
#include "messages/registry.hpp"
#include "runtime/logging.hpp"
#include "runtime/supervision/supervisor.hpp"
#include "tests/actor/test_config.hpp"

using namespace colony;
using namespace colony::supervision;
using namespace std::chrono_literals;

namespace {

using t_crash_atom = caf::atom_constant<caf::atom("tcrash")>;
using t_quit_atom = caf::atom_constant<caf::atom("tquit")>;
using t_ping_atom = caf::atom_constant<caf::atom("tping")>;

using actor_test::test_config;

/// What the children did, in order: "start:a", "exit:a", ...
struct journal {
  std::vector<std::string> events;
  int starts(const std::string& id) const { return count("start:" + id); }
  int exits(const std::string& id) const { return count("exit:" + id); }
  int count(const std::string& e) const {
    return static_cast<int>(std::count(events.begin(), events.end(), e));
  }
  /// Events from index `from` on.
  std::vector<std::string> since(size_t from) const {
    return {events.begin() + static_cast<long>(std::min(from, events.size())), events.end()};
  }
};

/// A worker: crashes with compute_failed on tcrash, exits normally on
/// tquit, answers tping with its id; a stubborn one ignores exit messages.
caf::behavior worker(caf::event_based_actor* self, std::string id,
                     std::shared_ptr<journal> j, bool stubborn) {
  j->events.push_back("start:" + id);
  self->attach_functor([id, j](const caf::error&) { j->events.push_back("exit:" + id); });
  if (stubborn)
    self->set_exit_handler([](caf::exit_msg&) {});
  return {
    [self](t_crash_atom) { self->quit(make_error(errc::compute_failed, "boom")); },
    [self](t_quit_atom) { self->quit(); },
    [id](t_ping_atom) { return id; },
  };
}

child_spec worker_spec(const std::string& id, std::shared_ptr<journal> j,
                       restart_policy r = restart_policy::permanent, bool stubborn = false) {
  child_spec s;
  s.id = id;
  s.restart = r;
  s.start = [id, j, stubborn](caf::actor_system& sys, const start_context&)
    -> caf::expected<started> { return started{sys.spawn(worker, id, j, stubborn), {}}; };
  return s;
}

template <class T>
struct outcome {
  std::optional<T> value;
  std::optional<caf::error> error;
};

struct SupervisorTest : ::testing::Test {
  test_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::shared_ptr<journal> j = std::make_shared<journal>();
  std::shared_ptr<std::ostringstream> out = std::make_shared<std::ostringstream>();
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*out);
  std::vector<caf::actor> sups;

  SupervisorTest() {
    sink->set_pattern("%v");
    log::get("supervisor")->sinks().push_back(sink);
  }

  ~SupervisorTest() override {
    for (auto& s : sups)
      caf::anon_send_exit(s, caf::exit_reason::kill);
    sched.run();
    sched.advance_time(std::chrono::seconds{600});
    sched.run();
    auto& sinks = log::get("supervisor")->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  }

  caf::actor spawn(supervisor_config c, std::vector<child_spec> children) {
    auto s = spawn_supervisor(sys, std::move(c), std::move(children));
    sups.push_back(s);
    sched.run();
    return s;
  }

  /// Report lines of `event` that contain every string of `parts`.
  std::vector<std::string> lines(const std::string& event,
                                 std::vector<std::string> parts = {}) const {
    std::vector<std::string> result;
    std::istringstream in{out->str()};
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("event=" + event + " ", 0) != 0)
        continue;
      bool all = true;
      for (auto& p : parts)
        all = all && line.find(p) != std::string::npos;
      if (all)
        result.push_back(line);
    }
    return result;
  }

  template <class T, class... Ts>
  std::shared_ptr<outcome<T>> ask(const caf::actor& dest, Ts... xs) {
    auto res = std::make_shared<outcome<T>>();
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(dest, caf::infinite, xs...)
        .then([=](T& v) { res->value = std::move(v); },
              [=](caf::error& e) { res->error = e; });
    });
    sched.run();
    return res;
  }

  caf::actor child(const caf::actor& sup, const std::string& id) {
    auto r = ask<caf::actor>(sup, lookup_atom::value, id);
    EXPECT_TRUE(r->value.has_value()) << id << ": "
                                      << (r->error ? describe(*r->error) : "no reply");
    return r->value ? *r->value : caf::actor{};
  }

  void crash(const caf::actor& sup, const std::string& id) {
    caf::anon_send(child(sup, id), t_crash_atom::value);
    sched.run();
  }

  void advance(caf::timespan t) {
    sched.advance_time(t);
    sched.run();
  }

  /// Records the exit reason of `a` in the returned slot.
  std::shared_ptr<std::optional<caf::error>> watch(const caf::actor& a) {
    auto slot = std::make_shared<std::optional<caf::error>>();
    a->attach_functor([slot](const caf::error& e) { *slot = e; });
    return slot;
  }

  std::vector<child_spec> abc() {
    return {worker_spec("a", j), worker_spec("b", j), worker_spec("c", j)};
  }

  static supervisor_config with(strategy how, uint32_t max_restarts = 3, double window_s = 10) {
    supervisor_config c;
    c.how = how;
    c.max_restarts = max_restarts;
    c.window_s = window_s;
    return c;
  }
};

using events = std::vector<std::string>;

} // namespace

TEST_F(SupervisorTest, StartsChildrenInOrder) {
  spawn(with(strategy::one_for_one), abc());
  EXPECT_EQ(j->events, (events{"start:a", "start:b", "start:c"}));
  EXPECT_EQ(lines("child_started", {"supervisor=root", "restarts=0"}).size(), 3u);
}

TEST_F(SupervisorTest, OneForOneRestartsOnlyTheCrashedChild) {
  auto sup = spawn(with(strategy::one_for_one), abc());
  crash(sup, "b");
  EXPECT_EQ(j->since(3), (events{"exit:b", "start:b"}));
  EXPECT_EQ(lines("child_exited", {"child=b", "reason=\"compute_failed: boom\"",
                                   "restart=permanent"}).size(), 1u);
  auto restarted = lines("child_restarted");
  ASSERT_EQ(restarted.size(), 1u);
  EXPECT_NE(restarted[0].find("child=b restarts=1 backoff_ms=0 intensity=3 window_s=10"),
            std::string::npos) << restarted[0];
  EXPECT_EQ(*ask<std::string>(child(sup, "b"), t_ping_atom::value)->value, "b");
}

TEST_F(SupervisorTest, OneForAllStopsTheOthersInReverseAndRestartsAllInOrder) {
  auto sup = spawn(with(strategy::one_for_all), abc());
  crash(sup, "b");
  EXPECT_EQ(j->since(3),
            (events{"exit:b", "exit:c", "exit:a", "start:a", "start:b", "start:c"}));
  EXPECT_EQ(lines("child_restarted").size(), 3u);
  for (auto id : {"a", "b", "c"})
    EXPECT_EQ(lines("child_restarted", {std::string{"child="} + id + " restarts=1"}).size(), 1u);
  EXPECT_EQ(lines("child_stopped", {"reason=user_shutdown"}).size(), 2u);
  EXPECT_EQ(lines("child_exited").size(), 1u); // only b crashed
}

TEST_F(SupervisorTest, RestForOneRestartsTheCrashedAndLaterChildren) {
  auto sup = spawn(with(strategy::rest_for_one), abc());
  crash(sup, "b");
  EXPECT_EQ(j->since(3), (events{"exit:b", "exit:c", "start:b", "start:c"}));
  EXPECT_EQ(j->starts("a"), 1);
  EXPECT_EQ(lines("child_restarted").size(), 2u);
}

TEST_F(SupervisorTest, RestartPoliciesAfterNormalAndAbnormalExits) {
  auto sup = spawn(with(strategy::one_for_one, 10),
                   {worker_spec("p", j, restart_policy::permanent),
                    worker_spec("t", j, restart_policy::transient),
                    worker_spec("u", j, restart_policy::transient),
                    worker_spec("o", j, restart_policy::temporary)});
  caf::anon_send(child(sup, "p"), t_quit_atom::value); // normal: permanent restarts
  caf::anon_send(child(sup, "t"), t_quit_atom::value); // normal: transient stays stopped
  caf::anon_send(child(sup, "u"), t_crash_atom::value); // abnormal: transient restarts
  caf::anon_send(child(sup, "o"), t_crash_atom::value); // temporary never restarts
  sched.run();
  EXPECT_EQ(j->starts("p"), 2);
  EXPECT_EQ(j->starts("t"), 1);
  EXPECT_EQ(j->starts("u"), 2);
  EXPECT_EQ(j->starts("o"), 1);
  EXPECT_EQ(lines("child_restarted").size(), 2u);
  auto tree = ask<std::vector<tree_entry>>(sup, which_atom::value)->value;
  ASSERT_TRUE(tree);
  ASSERT_EQ(tree->size(), 5u);
  EXPECT_EQ((*tree)[1].state, "running");
  EXPECT_EQ((*tree)[2].state, "stopped");
  EXPECT_EQ((*tree)[3].state, "running");
  EXPECT_EQ((*tree)[3].last_exit, "compute_failed: boom");
  EXPECT_EQ((*tree)[4].state, "stopped");
  EXPECT_EQ((*tree)[4].restart, "temporary");
  EXPECT_EQ(ask<caf::actor>(sup, lookup_atom::value, std::string{"t"})->error->code(),
            static_cast<uint8_t>(errc::not_found));
}

TEST_F(SupervisorTest, OneRestartOverTheIntensityEscalates) {
  auto sup = spawn(with(strategy::one_for_one, 3, 10), abc());
  auto reason = watch(sup);
  for (int i = 0; i < 3; ++i)
    crash(sup, "a");
  EXPECT_EQ(j->starts("a"), 4); // three restarts are fine
  EXPECT_FALSE(reason->has_value());
  crash(sup, "a"); // the fourth within 10 s escalates
  ASSERT_TRUE(reason->has_value());
  EXPECT_EQ(code_of(**reason), errc::gave_up) << describe(**reason);
  EXPECT_EQ(j->starts("a"), 4);
  for (auto id : {"a", "b", "c"})
    EXPECT_EQ(j->exits(id), j->starts(id)) << id; // no child left
  EXPECT_EQ(j->since(j->events.size() - 3), (events{"exit:a", "exit:c", "exit:b"}));
  auto esc = lines("escalated", {"supervisor=root", "restarts=3", "intensity=3", "window_s=10"});
  EXPECT_EQ(esc.size(), 1u) << out->str();
  EXPECT_EQ(lines("child_restarted").size(), 3u);
}

TEST_F(SupervisorTest, RestartsSpreadBeyondTheWindowNeverEscalate) {
  auto sup = spawn(with(strategy::one_for_one, 2, 10), abc());
  auto reason = watch(sup);
  for (int i = 0; i < 8; ++i) {
    crash(sup, "a");
    advance(6s); // at most two restarts in any 10 s
  }
  EXPECT_FALSE(reason->has_value());
  EXPECT_EQ(j->starts("a"), 9);
  EXPECT_EQ(lines("child_restarted").size(), 8u);
  EXPECT_TRUE(lines("escalated").empty());
}

TEST_F(SupervisorTest, BackoffDoublesUpToTheCapWithoutJitter) {
  auto c = with(strategy::one_for_one, 10, 100);
  c.backoff = {100, 400, 2, 0, 1};
  auto sup = spawn(c, abc());
  int starts = 1;
  for (double delay : {100, 200, 400, 400}) {
    crash(sup, "b");
    advance(std::chrono::duration_cast<caf::timespan>(
      std::chrono::duration<double, std::milli>(delay - 1)));
    EXPECT_EQ(j->starts("b"), starts) << "restarted before " << delay << " ms";
    EXPECT_EQ(ask<std::vector<tree_entry>>(sup, which_atom::value)->value->at(2).state,
              "restarting");
    advance(1ms);
    EXPECT_EQ(j->starts("b"), ++starts) << "not restarted at " << delay << " ms";
    EXPECT_EQ(lines("child_restarted", {"child=b restarts=" + std::to_string(starts - 1)
                                        + " backoff_ms=" + std::to_string(int(delay)) + " "})
                .size(),
              1u)
      << out->str();
  }
}

/// The backoff_ms values of the child_restarted lines of `text`.
static std::vector<double> backoffs(const std::string& text, const std::string& sup) {
  std::vector<double> result;
  std::regex re{"event=child_restarted supervisor=" + sup + " .* backoff_ms=([0-9.]+)"};
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, re))
      result.push_back(std::stod(m[1]));
  }
  return result;
}

TEST_F(SupervisorTest, JitteredBackoffStaysInBoundsAndRepeatsWithTheSeed) {
  auto c = with(strategy::one_for_one, 10, 1000);
  c.backoff = {100, 1000, 2, 0.5, 42};
  auto c2 = c;
  c.id = "s1";
  c2.id = "s2";
  auto s1 = spawn(c, {worker_spec("a", j)});
  auto s2 = spawn(c2, {worker_spec("b", j)});
  for (int i = 0; i < 5; ++i) {
    crash(s1, "a");
    crash(s2, "b");
    advance(2s); // above every delay
  }
  EXPECT_EQ(j->starts("a"), 6);
  auto d1 = backoffs(out->str(), "s1");
  auto d2 = backoffs(out->str(), "s2");
  ASSERT_EQ(d1.size(), 5u);
  EXPECT_EQ(d1, d2); // same seed, same delays
  double base[] = {100, 200, 400, 800, 1000};
  bool any_jitter = false;
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_GE(d1[i], base[i] * 0.5);
    EXPECT_LE(d1[i], base[i] * 1.5);
    any_jitter = any_jitter || d1[i] != base[i];
  }
  EXPECT_TRUE(any_jitter);
}

TEST_F(SupervisorTest, NestedSupervisorOverItsIntensityIsRestartedWithFreshChildren) {
  auto jj = j;
  auto sub_cfg = with(strategy::one_for_one, 1, 10);
  sub_cfg.id = "sub";
  auto root = spawn(with(strategy::one_for_one), {
    worker_spec("a", j),
    supervisor_child(sub_cfg, [jj] {
      return std::vector<child_spec>{worker_spec("x", jj), worker_spec("y", jj)};
    })});
  auto sub1 = child(root, "sub");
  crash(sub1, "x"); // restart 1 of 1: fine
  EXPECT_EQ(j->starts("x"), 2);
  crash(sub1, "x"); // over: sub escalates, root restarts it
  EXPECT_EQ(lines("escalated", {"supervisor=root/sub"}).size(), 1u) << out->str();
  EXPECT_EQ(lines("child_exited", {"supervisor=root child=sub", "gave_up"}).size(), 1u);
  EXPECT_EQ(lines("child_restarted", {"supervisor=root child=sub restarts=1"}).size(), 1u);
  EXPECT_EQ(j->starts("x"), 3);
  EXPECT_EQ(j->starts("y"), 2);
  EXPECT_EQ(j->exits("y"), 1);
  EXPECT_EQ(j->starts("a"), 1);
  auto sub2 = child(root, "sub");
  EXPECT_NE(sub1, sub2);
  EXPECT_EQ(*ask<std::string>(child(sub2, "x"), t_ping_atom::value)->value, "x");
  // The fresh subtree starts its own count: x is at restart 0 again.
  EXPECT_EQ(lines("child_started", {"supervisor=root/sub child=x restarts=0"}).size(), 2u);
}

TEST_F(SupervisorTest, RootThatDoesNotEscalateGivesTheChildUpAndKeepsTheOthers) {
  auto c = with(strategy::one_for_one, 1, 10);
  c.escalate = false;
  auto given_up = std::make_shared<std::vector<std::pair<std::string, std::string>>>();
  c.on_gave_up = [given_up](const std::string& child, const std::string& why) {
    given_up->emplace_back(child, why);
  };
  auto sup = spawn(c, abc());
  auto reason = watch(sup);
  crash(sup, "a");
  crash(sup, "a");
  EXPECT_FALSE(reason->has_value());
  ASSERT_EQ(given_up->size(), 1u);
  EXPECT_EQ(given_up->at(0).first, "a");
  EXPECT_NE(given_up->at(0).second.find("boom"), std::string::npos) << given_up->at(0).second;
  EXPECT_EQ(j->starts("a"), 2);
  EXPECT_EQ(lines("gave_up", {"supervisor=root child=a reason=\"compute_failed: boom\""}).size(),
            1u);
  auto tree = ask<std::vector<tree_entry>>(sup, which_atom::value)->value;
  ASSERT_TRUE(tree);
  EXPECT_EQ(tree->at(1).state, "failed");
  EXPECT_EQ(tree->at(2).state, "running");
  EXPECT_EQ(*ask<std::string>(child(sup, "b"), t_ping_atom::value)->value, "b");
  EXPECT_EQ(*ask<std::string>(child(sup, "c"), t_ping_atom::value)->value, "c");
  crash(sup, "b"); // the window is used up: b is given up too, the rest stays
  tree = ask<std::vector<tree_entry>>(sup, which_atom::value)->value;
  ASSERT_TRUE(tree);
  EXPECT_EQ(tree->at(2).state, "failed");
  EXPECT_EQ(lines("gave_up").size(), 2u);
  ASSERT_EQ(given_up->size(), 2u);
  EXPECT_EQ(given_up->at(1).first, "b");
  EXPECT_EQ(*ask<std::string>(child(sup, "c"), t_ping_atom::value)->value, "c");
}

TEST_F(SupervisorTest, StartFailureCountsAsARestartAttempt) {
  auto attempts = std::make_shared<int>(0);
  child_spec flaky = worker_spec("f", j);
  auto inner = flaky.start;
  flaky.start = [inner, attempts](caf::actor_system& sys,
                                  const start_context& ctx) -> caf::expected<started> {
    if (++*attempts == 2)
      return make_error(errc::io_failed, "checkpoint unreadable");
    return inner(sys, ctx);
  };
  auto c = with(strategy::one_for_one, 2, 10);
  c.backoff = {50, 1000, 2, 0, 0};
  auto sup = spawn(c, {flaky});
  auto reason = watch(sup);
  crash(sup, "f");
  advance(50ms); // restart 1 fails ...
  EXPECT_EQ(lines("restart_failed",
                  {"child=f restarts=1 reason=\"io_failed: checkpoint unreadable\""}).size(), 1u);
  EXPECT_EQ(j->starts("f"), 1);
  advance(99ms);
  EXPECT_EQ(j->starts("f"), 1);
  advance(1ms); // ... and is retried after the next backoff step (100 ms)
  EXPECT_EQ(j->starts("f"), 2);
  EXPECT_EQ(lines("child_restarted", {"child=f restarts=2 backoff_ms=100"}).size(), 1u);
  EXPECT_FALSE(reason->has_value());
  crash(sup, "f"); // a third attempt within 10 s is over the intensity of 2
  ASSERT_TRUE(reason->has_value());
  EXPECT_EQ(code_of(**reason), errc::gave_up);
}

TEST_F(SupervisorTest, AddRemoveAndLookupChildren) {
  auto sup = spawn(with(strategy::one_for_one), {worker_spec("a", j)});
  auto id = ask<std::string>(sup, add_child_atom::value, worker_spec("n", j));
  ASSERT_TRUE(id->value);
  EXPECT_EQ(*id->value, "n");
  EXPECT_EQ(*ask<std::string>(child(sup, "n"), t_ping_atom::value)->value, "n");
  auto dup = ask<std::string>(sup, add_child_atom::value, worker_spec("n", j));
  ASSERT_TRUE(dup->error);
  EXPECT_EQ(code_of(*dup->error), errc::bad_request);
  auto removed = ask<bool>(sup, remove_child_atom::value, std::string{"n"});
  ASSERT_TRUE(removed->value);
  EXPECT_TRUE(*removed->value);
  EXPECT_EQ(j->exits("n"), 1);
  EXPECT_EQ(j->starts("n"), 1); // stopped on request: not a crash
  EXPECT_EQ(lines("child_stopped", {"child=n reason=user_shutdown"}).size(), 1u);
  EXPECT_TRUE(lines("child_exited").empty());
  auto gone = ask<caf::actor>(sup, lookup_atom::value, std::string{"n"});
  ASSERT_TRUE(gone->error);
  EXPECT_EQ(code_of(*gone->error), errc::not_found);
  EXPECT_FALSE(*ask<bool>(sup, remove_child_atom::value, std::string{"zz"})->value);
}

TEST_F(SupervisorTest, LookupDuringBackoffSaysRestarting) {
  auto c = with(strategy::one_for_one);
  c.backoff = {500, 1000, 2, 0, 0};
  auto sup = spawn(c, {worker_spec("a", j)});
  crash(sup, "a");
  auto r = ask<caf::actor>(sup, lookup_atom::value, std::string{"a"});
  ASSERT_TRUE(r->error);
  EXPECT_EQ(code_of(*r->error), errc::expert_restarting);
  advance(500ms);
  EXPECT_TRUE(static_cast<bool>(child(sup, "a")));
}

TEST_F(SupervisorTest, WhichListsTheNestedTree) {
  auto jj = j;
  auto sub_cfg = with(strategy::rest_for_one);
  sub_cfg.id = "sub";
  auto root = spawn(with(strategy::one_for_one), {
    worker_spec("a", j),
    supervisor_child(sub_cfg, [jj] {
      return std::vector<child_spec>{worker_spec("x", jj), worker_spec("y", jj)};
    })});
  crash(root, "a");
  advance(3s);
  auto tree = ask<std::vector<tree_entry>>(root, which_atom::value)->value;
  ASSERT_TRUE(tree);
  std::vector<std::string> paths, kinds;
  for (auto& e : *tree) {
    paths.push_back(e.path);
    kinds.push_back(e.kind);
    EXPECT_EQ(e.state, "running") << e.path;
  }
  EXPECT_EQ(paths, (events{"root", "root/a", "root/sub", "root/sub/x", "root/sub/y"}));
  EXPECT_EQ(kinds, (events{"supervisor", "worker", "supervisor", "worker", "worker"}));
  EXPECT_EQ(tree->at(1).restarts, 1u);
  EXPECT_DOUBLE_EQ(tree->at(1).uptime_s, 3.0);
  EXPECT_EQ(tree->at(1).last_exit, "compute_failed: boom");
  EXPECT_EQ(tree->at(3).restart, "permanent");
}

TEST_F(SupervisorTest, ShutdownStopsInReverseOrderAndKillsAStubbornChild) {
  auto stubborn = worker_spec("b", j, restart_policy::permanent, true);
  stubborn.shutdown = 3s;
  auto sup = spawn(with(strategy::one_for_one),
                   {worker_spec("a", j), stubborn, worker_spec("c", j)});
  auto reason = watch(sup);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched.run();
  EXPECT_EQ(j->since(3), (events{"exit:c"})); // b ignores user_shutdown ...
  advance(2999ms);
  EXPECT_EQ(j->since(3), (events{"exit:c"}));
  EXPECT_FALSE(reason->has_value());
  advance(1ms); // ... until its shutdown timeout
  EXPECT_EQ(j->since(3), (events{"exit:c", "exit:b", "exit:a"}));
  ASSERT_TRUE(reason->has_value());
  EXPECT_EQ(**reason, caf::exit_reason::user_shutdown);
  EXPECT_EQ(lines("child_stopped", {"child=b reason=kill"}).size(), 1u);
  EXPECT_EQ(lines("child_stopped").size(), 3u);
  EXPECT_TRUE(lines("child_restarted").empty());
}

TEST_F(SupervisorTest, ChildrenDoNotOutliveAKilledSupervisor) {
  auto sup = spawn(with(strategy::one_for_one), abc());
  caf::anon_send_exit(sup, caf::exit_reason::kill);
  sched.run();
  for (auto id : {"a", "b", "c"})
    EXPECT_EQ(j->exits(id), 1) << id;
}

TEST_F(SupervisorTest, FailingFirstStartOverTheIntensityEscalatesAtOnce) {
  child_spec broken = worker_spec("z", j);
  broken.start = [](caf::actor_system&, const start_context&) -> caf::expected<started> {
    return make_error(errc::bad_config, "no module");
  };
  auto sup = spawn_supervisor(sys, with(strategy::one_for_one, 0, 10),
                              {worker_spec("a", j), broken});
  auto reason = watch(sup);
  sched.run();
  ASSERT_TRUE(reason->has_value());
  EXPECT_EQ(code_of(**reason), errc::gave_up);
  EXPECT_EQ(j->events, (events{"start:a", "exit:a"}));
  EXPECT_EQ(lines("restart_failed", {"child=z restarts=0"}).size(), 1u);
}
