// Work nobody waits for: requests carry their client's remaining time
// (budget_ms) and an expert drops queued rows once it passed, so a live
// client is not stuck behind a straggler that gave up; and a request whose
// chunks were refused learns the real reason at once.
#include "messages/chunking.hpp"
#include "tests/integration/integration_support.hpp"

namespace colony::it {
namespace {

/// 200 ms per batch of at most 4 rows.
constexpr const char* slow_yaml = R"(node:
  host: 127.0.0.1
  port: 0
  scheduler_threads: 2
  torch_threads: 1
  compute_slots: 1
  max_message_bytes: 1048576
log:
  level: warn
experts:
  - uid: slow.0.0
    max_batch_size: 4
    module:
      type: nop_delay
      dim: 8
      delay_ms: 200
)";

TEST(AbandonedWorkTest, ExpiredRowsAreDroppedAndTheLiveClientIsServed) {
  in_process_node node{parse_or_throw(slow_yaml)};
  client c;
  auto straggler = c.expert(node.where(), "slow.0.0", 500ms);
  auto live = c.expert(node.where(), "slow.0.0", 20s);
  ASSERT_TRUE(ok(live.info()));
  // 40 rows = 10 batches = 2 s of compute; the client gives up at 0.5 s.
  auto big = seeded_randn({40, 8}, 1);
  EXPECT_TRUE(fails_with(straggler.forward(blobs({big})), errc::timeout));
  auto x = seeded_randn({4, 8}, 2);
  auto out = live.forward(blobs({x}));
  ASSERT_TRUE(ok(out));
  EXPECT_TRUE(near(to_tensor((*out)[0]), x, 0));
  auto info = live.info();
  ASSERT_TRUE(ok(info));
  EXPECT_EQ(info->expired_requests, 1u);
  EXPECT_GT(info->expired_rows, 0u);
  // Computed: the rows before the deadline plus the live client's 4, never
  // all 44.
  EXPECT_EQ(info->forward_samples + info->expired_rows, 44u);
  EXPECT_LT(info->forward_samples, 44u);
  // `colony expert info` shows the counters.
  temp_dir dir;
  auto cli = run_command({COLONY_CLI_BIN, "expert", "info", "--node", node.where().to_string(),
                          "--uid", "slow.0.0"},
                         dir);
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("expired_requests: 1\n"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("expired_rows: " + std::to_string(info->expired_rows)),
            std::string::npos)
    << cli.out;
}

/// A throttled client: the budget is set when the upload starts, the first
/// chunk leaves, and the rest follow only after the budget has passed. The
/// node counts the budget from that first chunk, so the request is expired
/// on arrival with all its rows and none is computed (issue 15: a 500,000
/// row upload used to be computed after its client had given up).
TEST(AbandonedWorkTest, DeadlineCountsFromTheFirstChunkOfASlowUpload) {
  in_process_node node{parse_or_throw(slow_yaml)};
  client c;
  auto server = c.conns().get(node.where());
  ASSERT_TRUE(server);
  // 400 rows: 100 batches, 20 s of compute if anything computed them.
  forward_request req{"slow.0.0", {tensor_blob{*wire::encode_tensor(seeded_randn({400, 8}, 3))}},
                      200};
  uint64_t transfer = 77;
  auto chunks = split_request({&req.inputs}, 1024, [&] { return transfer++; });
  ASSERT_GT(chunks.size(), 2u);
  caf::scoped_actor self{c.system()};
  self->send(*server, chunks[0]);
  std::this_thread::sleep_for(2s); // the slow link: 10x the budget
  for (size_t i = 1; i < chunks.size(); ++i)
    self->send(*server, chunks[i]);
  caf::error err;
  self->request(*server, 20s, std::move(req))
    .receive([](forward_reply&) {}, [&](caf::error& e) { err = e; });
  EXPECT_EQ(code_of(err), errc::timeout) << describe(err);
  EXPECT_NE(context_of(err).find("arrived after its deadline"), std::string::npos)
    << describe(err);
  auto live = c.expert(node.where(), "slow.0.0", 20s);
  auto start = steady::now();
  auto x = seeded_randn({4, 8}, 4);
  auto out = live.forward(blobs({x}));
  ASSERT_TRUE(ok(out));
  EXPECT_TRUE(near(to_tensor((*out)[0]), x, 0));
  std::cout << "the live call after the expired upload took " << ms_since(start) << " ms"
            << std::endl;
  auto info = live.info();
  ASSERT_TRUE(ok(info));
  EXPECT_EQ(info->expired_requests, 1u);
  EXPECT_EQ(info->expired_rows, 400u);
  EXPECT_EQ(info->forward_samples, 4u) << "a row of the expired upload was computed";
}

TEST(AbandonedWorkTest, RefusedChunksReportTheLimitPromptly) {
  in_process_node node{parse_or_throw(slow_yaml)};
  client c;
  auto e = c.expert(node.where(), "slow.0.0", 60s);
  ASSERT_TRUE(ok(e.info()));
  // 262144 x 8 float32 = 8 MiB, over the node's 1 MiB limit.
  auto x = torch::zeros({262144, 8});
  auto start = steady::now();
  auto out = e.forward(blobs({x}));
  auto took = ms_since(start);
  ASSERT_TRUE(fails_with(out, errc::payload_too_large));
  EXPECT_NE(context_of(out.error()).find("over the limit of 1048576 bytes"), std::string::npos)
    << context_of(out.error());
  EXPECT_LT(took, 30000.0) << "answered when the request arrived, not at the timeout";
}

} // namespace
} // namespace colony::it

namespace colony::it {
namespace {

TEST(AbandonedWorkTest, LiveClientIsServedWhileStragglersKeepGivingUp) {
  in_process_node node{parse_or_throw(slow_yaml)};
  client c;
  auto server = c.conns().get(node.where());
  ASSERT_TRUE(server);
  auto big = *wire::encode_tensor(seeded_randn({4, 8}, 1));
  std::atomic<bool> stop{false};
  std::vector<std::thread> stragglers;
  for (int s = 0; s < 4; ++s)
    stragglers.emplace_back([&] {
      caf::scoped_actor self{c.system()};
      while (!stop) {
        forward_request req{"slow.0.0", {tensor_blob{big}}, 100};
        self->request(*server, 100ms, std::move(req))
          .receive([](forward_reply&) {}, [](caf::error&) {});
      }
    });
  auto live = c.expert(node.where(), "slow.0.0", 20s);
  int served = 0;
  auto start = steady::now();
  for (int i = 0; i < 5; ++i)
    served += ok(live.forward(blobs({seeded_randn({4, 8}, 2)})));
  auto took = ms_since(start);
  stop = true;
  for (auto& t : stragglers)
    t.join();
  EXPECT_EQ(served, 5);
  std::cout << "5 live calls among stragglers took " << took << " ms" << std::endl;
  auto info = live.info();
  ASSERT_TRUE(ok(info));
  EXPECT_GT(info->expired_requests, 0u);
}

} // namespace
} // namespace colony::it
