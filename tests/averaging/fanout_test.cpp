// The fan-out of any request (actors/client/fanout.hpp, message_call) on
// CAF's deterministic test scheduler: replies, a target's loss, the
// deadline and quorum + grace, without threads or sleeps.
#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/client/fanout.hpp"
#include "messages/errc.hpp"
#include "messages/registry.hpp"

using namespace colony;
using namespace std::chrono_literals;

struct avg_fanout_test_config : caf::actor_system_config {
  avg_fanout_test_config() {
    register_messages(*this);
    set("scheduler.policy", caf::atom("testing"));
  }
};

namespace {

caf::behavior doubler() {
  return {[](int x) { return 2 * x; }};
}

/// Takes requests and never answers them.
caf::behavior silent(caf::event_based_actor* self) {
  auto held = std::make_shared<std::vector<caf::response_promise>>();
  return {[=](int) { held->push_back(self->make_response_promise()); }};
}

} // namespace

class MessageFanoutTest : public ::testing::Test {
protected:
  MessageFanoutTest() : sys(cfg) {}

  ~MessageFanoutTest() override {
    // A silent actor holds promises that keep it alive: stop it.
    for (auto& a : silents)
      caf::anon_send_exit(a, caf::exit_reason::kill);
    sched.run();
  }

  caf::actor spawn_silent() {
    silents.push_back(sys.spawn(silent));
    return silents.back();
  }

  /// A call of `x` to `target` whose reply lands in replies[i].
  message_call call(caf::actor target, size_t i, int x) {
    message_call c;
    c.target = target;
    c.name = "target " + std::to_string(i);
    auto sink = replies;
    c.send = [target, i, x, sink](caf::event_based_actor* self, caf::timespan left,
                                  std::function<void(caf::error)> done) {
      self->request(target, left, x).then(
        [=](int y) {
          (*sink)[i] = y;
          done(caf::none);
        },
        [=](caf::error& err) { done(err); });
    };
    return c;
  }

  void start(message_fanout_spec spec) {
    auto fan = spawn_fanout(sys, std::move(spec), out);
    auto flag = done;
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(fan, caf::infinite, run_atom::value).then([=](done_atom) { *flag = true; });
    });
    sched.run();
  }

  avg_fanout_test_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::shared_ptr<std::vector<int>> replies = std::make_shared<std::vector<int>>(3, 0);
  std::shared_ptr<message_fanout_result> out = std::make_shared<message_fanout_result>();
  std::shared_ptr<bool> done = std::make_shared<bool>(false);
  std::vector<caf::actor> silents;
};

TEST_F(MessageFanoutTest, CollectsTheRepliesOfAnyRequest) {
  auto a = sys.spawn(doubler);
  message_fanout_spec spec;
  spec.deadline = sys.clock().now() + 10s;
  spec.calls = {call(a, 0, 3), call(a, 1, 5)};
  start(std::move(spec));
  ASSERT_TRUE(*done);
  EXPECT_EQ(out->succeeded, 2u);
  EXPECT_EQ((*replies)[0], 6);
  EXPECT_EQ((*replies)[1], 10);
  EXPECT_FALSE(out->errors[0]);
}

TEST_F(MessageFanoutTest, FailsACallAtOnceWhenItsTargetGoesDown) {
  auto a = sys.spawn(doubler);
  auto b = spawn_silent();
  message_fanout_spec spec;
  spec.deadline = sys.clock().now() + 10s;
  spec.calls = {call(a, 0, 1), call(b, 1, 2)};
  start(std::move(spec));
  EXPECT_FALSE(*done); // waits for b ...
  caf::anon_send_exit(b, caf::exit_reason::kill);
  sched.run(); // ... until it is gone: no virtual time passes
  ASSERT_TRUE(*done);
  EXPECT_EQ(out->succeeded, 1u);
  EXPECT_EQ(code_of(out->errors[1]), errc::unreachable) << describe(out->errors[1]);
  EXPECT_NE(context_of(out->errors[1]).find("target 1 went down"), std::string::npos);
}

TEST_F(MessageFanoutTest, TimesOutUnansweredCallsAtTheDeadline) {
  auto b = spawn_silent();
  message_fanout_spec spec;
  spec.deadline = sys.clock().now() + 10s;
  spec.calls = {call(b, 0, 1)};
  start(std::move(spec));
  sched.advance_time(9s);
  sched.run();
  EXPECT_FALSE(*done);
  sched.advance_time(1s);
  sched.run();
  ASSERT_TRUE(*done);
  EXPECT_EQ(code_of(out->errors[0]), errc::timeout) << describe(out->errors[0]);
}

TEST_F(MessageFanoutTest, EndsAGraceAfterTheQuorum) {
  auto a = sys.spawn(doubler);
  auto b = spawn_silent();
  message_fanout_spec spec;
  spec.deadline = sys.clock().now() + 10s;
  spec.grace = 1s;
  spec.quorum = [](const fanout_state& s, size_t, bool) { return s.succeeded_count() >= 1; };
  spec.calls = {call(a, 0, 1), call(b, 1, 2)};
  start(std::move(spec));
  EXPECT_FALSE(*done);
  sched.advance_time(1s);
  sched.run();
  ASSERT_TRUE(*done);
  EXPECT_EQ(out->succeeded, 1u);
  EXPECT_EQ(code_of(out->errors[1]), errc::timeout);
}
