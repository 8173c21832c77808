// Supervised experts in one node (in-process, requests over loopback TCP):
// an expert whose forward throws is restarted from its checkpoint, each
// restart logged once with its reason; a crash answers the waiting
// requests at once with errors, never with silence; over the group's
// restart intensity the group escalates and is rebuilt while the node
// keeps serving its other experts. The "poison" spec (poison_spec.cpp)
// throws on inputs above 1e6.
#include <gtest/gtest.h>

#include "integration_support.hpp"
#include "log_capture.hpp"
#include "nodes/node/node_manager.hpp"
#include "runtime/supervision/supervisor.hpp"

using namespace colony;
using namespace colony::it;

namespace {

std::string node_yaml(const std::string& dir) {
  return test_node_header() + R"(  - uid: poison.0.*
    count: 1
    module: {type: poison, dim: 4, seed: 3}
    optimizer: {type: sgd, lr: 0.1}
    checkpoint: {dir: )" + dir + R"(, every_updates: 1}
  - uid: ffn.1.*
    count: 1
    module: {type: ffn, input_dim: 8, hidden_dim: 16, output_dim: 8}
)";
}

struct SupervisionTest : ::testing::Test {
  scoped_capture capture{{"supervisor"}};
  std::shared_ptr<log_capture> sink = capture.sink;
};

} // namespace

TEST_F(SupervisionTest, ThrowingForwardRestartsFromCheckpointThenEscalatesAndNodeServesOn) {
  temp_dir dir;
  in_process_node node{parse_or_throw(node_yaml(dir.path()))};
  client c;
  auto poison = c.expert(node.where(), "poison.0.0", std::chrono::seconds{10});
  auto healthy = c.expert(node.where(), "ffn.1.0", std::chrono::seconds{10});
  auto x = seeded_randn({3, 4}, 1);
  auto bad = x * 1e7;
  auto& registry = *node.host().registry;
  auto running = [&] { return static_cast<bool>(registry.find("poison.0.0")); };

  // Three updates, each checkpointed.
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(poison.backward(blobs({x}), blobs({torch::ones({3, 4})})));
  ASSERT_TRUE(eventually([&] { return poison.info() && poison.info()->updates == 3; }));
  auto before = poison.forward(blobs({x}));
  ASSERT_TRUE(before) << describe(before.error());

  // A poisoned batch: its request fails at once with the module's error.
  auto t0 = steady::now();
  auto crashed = poison.forward(blobs({bad}));
  ASSERT_FALSE(crashed);
  EXPECT_EQ(code_of(crashed.error()), errc::compute_failed) << describe(crashed.error());
  EXPECT_NE(describe(crashed.error()).find("poisoned input"), std::string::npos);
  EXPECT_LT(ms_since(t0), 5000);

  // Restarted once, from the checkpoint: same parameters, same update count.
  ASSERT_TRUE(eventually([&] { return sink->count("event=child_restarted", "poison.0.0") == 1; }));
  ASSERT_TRUE(eventually(running));
  auto restarted = sink->lines();
  auto line = *std::find_if(restarted.begin(), restarted.end(), [](auto& l) {
    return l.find("event=child_restarted") != std::string::npos;
  });
  EXPECT_NE(line.find("restarts=1"), std::string::npos) << line;
  EXPECT_NE(line.find("restored_updates=3"), std::string::npos) << line;
  EXPECT_NE(line.find("updates_lost=0"), std::string::npos) << line;
  EXPECT_EQ(sink->count("event=child_exited", "poisoned input"), 1u)
    << ::testing::PrintToString(sink->lines());
  auto after = poison.forward(blobs({x}));
  ASSERT_TRUE(after) << describe(after.error());
  EXPECT_TRUE(near(to_tensor(after->at(0)), to_tensor(before->at(0)), 1e-6));
  ASSERT_TRUE(poison.info());
  EXPECT_EQ(poison.info()->updates, 3u);
  // The crash did not cost the client its connection to the node.
  EXPECT_FALSE(c.conns().lost(node.where()));

  // Three more crashes within the 10 s window: the fourth in all is over the
  // group's intensity (3), so the group escalates and is rebuilt.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(eventually(running));
    EXPECT_FALSE(poison.forward(blobs({bad})));
    auto h = healthy.forward(blobs({seeded_randn({2, 8}, 2)}));
    EXPECT_TRUE(h) << describe(h.error());
  }
  ASSERT_TRUE(eventually([&] { return sink->count("event=escalated", "experts/poison.0") == 1; }));
  ASSERT_TRUE(eventually(
    [&] { return sink->count("event=child_restarted", "child=poison.0 ") == 1; }));
  ASSERT_TRUE(eventually(running));
  EXPECT_EQ(poison.info()->updates, 3u);
  // Each crash was logged exactly once.
  EXPECT_EQ(sink->count("event=child_exited", "child=poison.0.0 reason=\"compute_failed"), 4u)
    << ::testing::PrintToString(sink->lines());
  auto h = healthy.forward(blobs({seeded_randn({2, 8}, 3)}));
  EXPECT_TRUE(h) << describe(h.error());
}

TEST_F(SupervisionTest, RequestsQueuedBehindACrashGetAnErrorAtOnce) {
  temp_dir dir;
  in_process_node node{parse_or_throw(node_yaml(dir.path()))};
  client c;
  auto x = seeded_randn({3, 4}, 1);
  // One poisoned request and 8 good ones sent together: the good ones
  // waiting behind the crash get expert_restarting (or are computed before
  // it), never a timeout.
  std::vector<expert_call> calls;
  calls.push_back({node.where(), forward_request{"poison.0.0", blobs({x * 1e7})}});
  for (int i = 0; i < 8; ++i)
    calls.push_back({node.where(), forward_request{"poison.0.0", blobs({x})}});
  auto t0 = steady::now();
  auto answers = call_many(c.conns(), std::move(calls), std::chrono::seconds{20});
  EXPECT_LT(ms_since(t0), 10000);
  ASSERT_FALSE(answers[0]);
  EXPECT_EQ(code_of(answers[0].error()), errc::compute_failed);
  for (size_t i = 1; i < answers.size(); ++i)
    if (!answers[i]) {
      auto code = code_of(answers[i].error());
      EXPECT_TRUE(code == errc::expert_restarting || code == errc::compute_failed)
        << describe(answers[i].error());
    }
  // While it restarts, new requests are answered (expert_restarting or
  // served), not left to CAF's request_receiver_down.
  auto again = c.expert(node.where(), "poison.0.0").forward(blobs({x}));
  if (!again)
    EXPECT_EQ(code_of(again.error()), errc::expert_restarting) << describe(again.error());
  EXPECT_FALSE(c.conns().lost(node.where()));
}

// Issue 15: once the experts supervisor gives a group up, its expert says
// so (expert_unavailable, with the reason and since when) instead of
// "restarting" forever, leaves the node's declarations at once, is a
// failed row of the node's status, and ctl spawn's path brings it back.
TEST_F(SupervisionTest, AGivenUpExpertIsUnavailableWithdrawnFailedAndCanBeSpawnedAgain) {
  temp_dir dir;
  expert_supervision sup;
  sup.group.max_restarts = 0; // the first crash escalates the group ...
  sup.group.backoff.initial_ms = 0;
  sup.top.max_restarts = 0;   // ... and the experts supervisor gives it up
  auto changes = std::make_shared<std::atomic<int>>(0);
  in_process_node node{parse_or_throw(node_yaml(dir.path())), [changes] { ++*changes; }, sup};
  client c;
  auto poison = c.expert(node.where(), "poison.0.0", std::chrono::seconds{10});
  auto healthy = c.expert(node.where(), "ffn.1.0", std::chrono::seconds{10});
  auto& registry = *node.host().registry;
  auto x = seeded_randn({3, 4}, 1);
  ASSERT_TRUE(poison.forward(blobs({x})));
  auto changes_before = changes->load();
  EXPECT_FALSE(poison.forward(blobs({x * 1e7})));
  ASSERT_TRUE(eventually([&] { return registry.unavailable("poison.0.0"); }));
  EXPECT_EQ(sink->count("event=gave_up", "child=poison.0 "), 1u)
    << ::testing::PrintToString(sink->lines());
  EXPECT_GT(changes->load(), changes_before) << "the node was not told to re-declare";
  // Every request, and info, gets the distinct code with reason and time.
  for (int i = 0; i < 20; ++i) {
    auto r = poison.forward(blobs({x}));
    ASSERT_FALSE(r);
    ASSERT_EQ(code_of(r.error()), errc::expert_unavailable) << describe(r.error());
  }
  auto info = poison.info();
  ASSERT_FALSE(info);
  EXPECT_EQ(code_of(info.error()), errc::expert_unavailable);
  auto why = context_of(info.error());
  EXPECT_NE(why.find("unavailable since 20"), std::string::npos) << why;
  EXPECT_NE(why.find("poisoned input"), std::string::npos) << why;
  // Not declared any more; the other group is, and still serves.
  auto declared = registry.declarable();
  EXPECT_EQ(declared, std::vector<std::string>{"ffn.1.0"});
  EXPECT_TRUE(healthy.forward(blobs({seeded_randn({2, 8}, 2)})));
  // The node's status lists it failed under its group.
  node_status status;
  caf::scoped_actor self{node.system()};
  self->request(experts_supervisor(node.host()), std::chrono::seconds{10},
                supervision::which_atom::value)
    .receive([&](std::vector<tree_entry>& tree) { status.tree = std::move(tree); },
             [](caf::error& err) { FAIL() << describe(err); });
  node::add_unavailable(status, registry);
  auto row = std::find_if(status.tree.begin(), status.tree.end(), [](const tree_entry& e) {
    return e.path == "experts/poison.0/poison.0.0";
  });
  ASSERT_NE(row, status.tree.end()) << ::testing::PrintToString(status.tree.size());
  EXPECT_EQ(row->state, "failed");
  EXPECT_NE(row->last_exit.find("poisoned input"), std::string::npos) << row->last_exit;
  EXPECT_EQ(row->details.count("unavailable_since"), 1u);
  // ctl spawn's path brings it back under a new group.
  auto spec = group_spec_of(node.host(), "poison.0");
  ASSERT_TRUE(spec) << describe(spec.error());
  auto back = add_expert_group(node.system(), node.host(), "poison.0", 1, *spec);
  ASSERT_TRUE(back) << describe(back.error());
  EXPECT_EQ(*back, std::vector<std::string>{"poison.0.0"});
  EXPECT_FALSE(registry.unavailable("poison.0.0"));
  EXPECT_TRUE(poison.forward(blobs({x})));
  EXPECT_EQ(registry.declarable(), (std::vector<std::string>{"ffn.1.0", "poison.0.0"}));
}
