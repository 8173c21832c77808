// The control token file (runtime/control_config.hpp) and the `control:`
// section of the node config.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "messages/errc.hpp"
#include "runtime/control_config.hpp"
#include "runtime/node_config.hpp"

using namespace colony;

namespace {

struct ControlConfigTest : ::testing::Test {
  std::string path = (std::filesystem::temp_directory_path()
                      / ("colony_token_" + std::to_string(::getpid()) + "_"
                         + ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                       .string();

  ~ControlConfigTest() override {
    std::remove(path.c_str());
  }

  void write(const std::string& text, mode_t mode) {
    { std::ofstream{path, std::ios::binary} << text; }
    ::chmod(path.c_str(), mode);
  }

  /// Asserts that loading fails with bad_config, naming the path and `what`.
  void expect_refused(const std::string& what) {
    auto token = load_token(path);
    ASSERT_FALSE(token) << *token;
    EXPECT_EQ(code_of(token.error()), errc::bad_config);
    auto ctx = context_of(token.error());
    EXPECT_NE(ctx.find(path), std::string::npos) << ctx;
    EXPECT_NE(ctx.find(what), std::string::npos) << ctx;
  }
};

} // namespace

TEST_F(ControlConfigTest, MissingFileIsRefusedNamingIt) {
  expect_refused("cannot read");
}

TEST_F(ControlConfigTest, EmptyTokenIsRefused) {
  write(" \n\t\n", 0600);
  expect_refused("empty");
}

TEST_F(ControlConfigTest, ShortTokenIsRefusedWithItsLength) {
  write("abcdefghijklmno\n", 0600); // 15 characters
  expect_refused("15 characters, want at least 16");
}

TEST_F(ControlConfigTest, FileReadableByOthersIsRefusedWithTheChmod) {
  write("0123456789abcdef0123", 0644);
  expect_refused("chmod 600 " + path);
  write("0123456789abcdef0123", 0640);
  expect_refused("chmod 600 " + path);
}

TEST_F(ControlConfigTest, PrivateFileLoadsWithWhitespaceTrimmed) {
  write("  \n0123456789abcdef \t\r\n\n", 0600);
  auto token = load_token(path);
  ASSERT_TRUE(token) << describe(token.error());
  EXPECT_EQ(*token, "0123456789abcdef");
  write("0123456789abcdef", 0400);
  ASSERT_TRUE(load_token(path));
}

TEST_F(ControlConfigTest, TokensCompareByWholeContent) {
  EXPECT_TRUE(tokens_equal("0123456789abcdef", "0123456789abcdef"));
  EXPECT_FALSE(tokens_equal("0123456789abcdef", "0123456789abcdeF"));
  EXPECT_FALSE(tokens_equal("0123456789abcdef", "0123456789abcde"));
  EXPECT_FALSE(tokens_equal("", "0123456789abcdef"));
  EXPECT_TRUE(tokens_equal("", ""));
}

TEST(ControlSection, AbsentMeansDisabled) {
  auto cfg = parse_node_config("experts:\n  - uid: a.0\n    module: {type: ffn}\n");
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_FALSE(cfg->control.enabled);
  EXPECT_EQ(cfg->control.host, "127.0.0.1");
}

TEST(ControlSection, PresentIsEnabledWithItsKeys) {
  auto cfg = parse_node_config("experts:\n  - uid: a.0\n    module: {type: ffn}\n"
                               "control:\n  host: 0.0.0.0\n  port: 7100\n"
                               "  token_file: /etc/colony/ctl.token\n");
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_TRUE(cfg->control.enabled);
  EXPECT_EQ(cfg->control.host, "0.0.0.0");
  EXPECT_EQ(cfg->control.port, 7100);
  EXPECT_EQ(cfg->control.token_file, "/etc/colony/ctl.token");
}

TEST(ControlSection, TokenFileIsRequiredAndUnknownKeysRefused) {
  auto base = std::string{"experts:\n  - uid: a.0\n    module: {type: ffn}\n"};
  auto cfg = parse_node_config(base + "control:\n  port: 7100\n");
  ASSERT_FALSE(cfg);
  EXPECT_EQ(context_of(cfg.error()), "control.token_file: required");
  cfg = parse_node_config(base + "control:\n  token_file: t\n  tokn: x\n");
  ASSERT_FALSE(cfg);
  EXPECT_NE(context_of(cfg.error()).find("unknown key 'tokn' in control"), std::string::npos)
    << context_of(cfg.error());
  cfg = parse_node_config(base + "control:\n  token_file: t\n  port: 70000\n");
  ASSERT_FALSE(cfg);
  EXPECT_NE(context_of(cfg.error()).find("control.port: 70000 out of range"), std::string::npos)
    << context_of(cfg.error());
}
