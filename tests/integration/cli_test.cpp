// The `colony` CLI end to end against a colony-node process: exit codes and
// the lines it prints.
#include <algorithm>

#include "tests/integration/integration_support.hpp"

namespace colony::it {
namespace {

class CliTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<temp_dir>();
    write_file(dir_->file("node.yaml"), ffn_node_yaml());
    node_ = std::make_unique<node_process>(*dir_, dir_->file("node.yaml"), "cli");
  }

  static void TearDownTestSuite() {
    node_.reset();
    dir_.reset();
  }

  void SetUp() override { ASSERT_TRUE(node_->ready()) << node_->error(); }

  static command_result run_cli(std::vector<std::string> args) {
    args.insert(args.begin(), COLONY_CLI_BIN);
    return run_command(args, *dir_);
  }

  static std::string node_arg() { return node_->where().to_string(); }

  static inline std::unique_ptr<temp_dir> dir_;
  static inline std::unique_ptr<node_process> node_;
};

bool has_line(const std::string& text, const std::string& line) {
  auto ls = lines_of(text);
  return std::find(ls.begin(), ls.end(), line) != ls.end();
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

TEST_F(CliTest, ExpertInfoPrintsSchemaAndExitsZero) {
  auto r = run_cli({"expert", "info", "--node", node_arg(), "--uid", "ffn.0.1"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has_line(r.out, "uid: ffn.0.1")) << r.out;
  EXPECT_TRUE(has_line(r.out, "module: ffn")) << r.out;
  EXPECT_TRUE(has_line(r.out, "input[0]: [B, 8] float32")) << r.out;
  EXPECT_TRUE(has_line(r.out, "output[0]: [B, 8] float32")) << r.out;
  EXPECT_TRUE(has_line(r.out, "max_batch_size: 64")) << r.out;
  EXPECT_TRUE(has_line(r.out, "parameters: " + std::to_string(8 * 16 + 16 + 16 * 8 + 8)))
    << r.out;
}

TEST_F(CliTest, ExpertForwardPrintsOutputShapeAndExitsZero) {
  auto r = run_cli({"expert", "forward", "--node", node_arg(), "--uid", "ffn.0.2", "--batch",
                   "4"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has_line(r.out, "output[0]: [4, 8] float32")) << r.out;
  EXPECT_NE(r.out.find("round_trip_ms:"), std::string::npos) << r.out;
}

TEST_F(CliTest, ExpertListPrintsEveryUid) {
  auto r = run_cli({"expert", "list", "--node", node_arg()});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines_of(r.out),
            (std::vector<std::string>{"ffn.0.0", "ffn.0.1", "ffn.0.2", "ffn.0.3"}));
}

TEST_F(CliTest, UnknownUidExitsTwoWithOneErrorLine) {
  auto r = run_cli({"expert", "info", "--node", node_arg(), "--uid", "ffn.7.7"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2);
  auto ls = lines_of(r.err);
  ASSERT_EQ(ls.size(), 1u) << r.err;
  EXPECT_TRUE(starts_with(ls[0], "colony: error:")) << ls[0];
  EXPECT_NE(ls[0].find("unknown_expert"), std::string::npos) << ls[0];
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(CliTest, DeadPortExitsTwoMentioningUnreachable) {
  auto port = dead_port();
  auto r = run_cli({"expert", "forward", "--node", "127.0.0.1:" + std::to_string(port), "--uid",
                   "ffn.0.0", "--batch", "4", "--timeout-ms", "2000"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2);
  auto ls = lines_of(r.err);
  ASSERT_EQ(ls.size(), 1u) << r.err;
  EXPECT_TRUE(starts_with(ls[0], "colony: error:")) << ls[0];
  EXPECT_NE(ls[0].find("unreachable"), std::string::npos) << ls[0];
  EXPECT_LT(r.took_ms, 10000);
}

} // namespace
} // namespace colony::it
