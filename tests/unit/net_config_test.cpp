// The guard: and liveness: sections of a node config.
#include <gtest/gtest.h>

#include "messages/errc.hpp"
#include "runtime/node_config.hpp"

using namespace colony;

namespace {

constexpr const char* experts = R"(
experts:
  - uid: ffn.0.0
    module: {type: ffn, input_dim: 4, hidden_dim: 4, output_dim: 4}
)";

caf::expected<node_config> parse_with(const std::string& extra) {
  return parse_node_config(std::string{experts} + extra);
}

} // namespace

TEST(NetConfigTest, DefaultsWhenAbsent) {
  auto cfg = parse_with("");
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->guard.max_message_bytes, uint64_t{5} << 20);
  EXPECT_EQ(cfg->guard.max_connections_per_source, 32u);
  EXPECT_EQ(cfg->liveness.interval_ms, 500u);
  EXPECT_EQ(cfg->liveness.timeout_ms, 2000u);
}

TEST(NetConfigTest, SectionsParse) {
  auto cfg = parse_with(R"(guard:
  max_message_bytes: 8388608
  max_connections_per_source: 4
  max_connections: 100
  first_message_timeout_s: 2.5
liveness:
  interval_ms: 250
  timeout_ms: 2000
  first_reply_ms: 6000
)");
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->guard.max_message_bytes, 8388608u);
  EXPECT_EQ(cfg->guard.max_connections_per_source, 4u);
  EXPECT_EQ(cfg->guard.max_connections, 100u);
  EXPECT_DOUBLE_EQ(cfg->guard.first_message_timeout_s, 2.5);
  EXPECT_EQ(cfg->liveness.interval_ms, 250u);
  EXPECT_EQ(cfg->liveness.timeout_ms, 2000u);
  EXPECT_EQ(cfg->liveness.first_reply_ms, 6000u);
}

TEST(NetConfigTest, BadValuesNameTheKey) {
  struct bad_case {
    const char* yaml;
    const char* key;
  };
  for (auto [yaml, key] : {
         bad_case{"guard: {max_message_bytes: 10}\n", "guard.max_message_bytes"},
         bad_case{"guard: {max_connections_per_source: 0}\n", "guard.max_connections_per_source"},
         bad_case{"guard: {first_message_timeout_s: -1}\n", "guard.first_message_timeout_s"},
         bad_case{"guard: {bogus: 1}\n", "bogus"},
         bad_case{"liveness: {interval_ms: 500, timeout_ms: 400}\n", "liveness.timeout_ms"},
         bad_case{"liveness: {heartbeat: 1}\n", "heartbeat"},
       }) {
    auto cfg = parse_with(yaml);
    ASSERT_FALSE(cfg) << yaml;
    EXPECT_EQ(code_of(cfg.error()), errc::bad_config);
    EXPECT_NE(context_of(cfg.error()).find(key), std::string::npos)
      << yaml << " -> " << context_of(cfg.error());
  }
}
