#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/details/log_msg.h>

#include "runtime/log_format.hpp"

using namespace colony::log;
using nlohmann::json;

namespace {

/// kv_to_json with fixed ts/level/component, parsed back.
json convert(std::string_view message) {
  auto line = kv_to_json("2026-12-02T01:02:03.456Z", "info", "supervisor", message);
  try {
    return json::parse(line);
  } catch (const json::exception& e) {
    ADD_FAILURE() << "not JSON: " << e.what() << "\n" << line;
    return json::object();
  }
}

} // namespace

TEST(LogFormatTest, PlainPairsBecomeFieldsAfterTheHeader) {
  auto j = convert("event=child_restarted supervisor=node/experts child=ffn.0.3 "
                   "reason=\"colony:compute_failed boom\" restarts=2");
  EXPECT_EQ(j.size(), 8u);
  EXPECT_EQ(j["ts"], "2026-12-02T01:02:03.456Z");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["component"], "supervisor");
  EXPECT_EQ(j["event"], "child_restarted");
  EXPECT_EQ(j["supervisor"], "node/experts");
  EXPECT_EQ(j["child"], "ffn.0.3");
  EXPECT_EQ(j["reason"], "colony:compute_failed boom");
  ASSERT_TRUE(j["restarts"].is_number_integer());
  EXPECT_EQ(j["restarts"], 2);
  auto line = kv_to_json("t", "info", "supervisor", "event=x");
  EXPECT_EQ(line, R"({"ts":"t","level":"info","component":"supervisor","event":"x"})");
}

TEST(LogFormatTest, QuotedValuesAreUnescaped) {
  auto j = convert(R"(a="say \"hi\"" b="back\\slash" c="two\nlines" d="x=y z" e="\q" f="")");
  EXPECT_EQ(j["a"], "say \"hi\"");
  EXPECT_EQ(j["b"], "back\\slash");
  EXPECT_EQ(j["c"], "two\nlines");
  EXPECT_EQ(j["d"], "x=y z");
  EXPECT_EQ(j["e"], "\\q");
  EXPECT_EQ(j["f"], "");
  EXPECT_FALSE(j.contains("msg"));
}

TEST(LogFormatTest, OnlyShortJsonNumbersBecomeNumbers) {
  auto j = convert("a=1 b=-2 c=3.25 d=0 e=007 f=1e5 g=12345678901234567890123 h=- i=1. "
                   "j=.5 k=\"42\" l=0x10 m=nan n=-0.0");
  EXPECT_EQ(j["a"], 1);
  EXPECT_EQ(j["b"], -2);
  EXPECT_DOUBLE_EQ(j["c"].get<double>(), 3.25);
  EXPECT_EQ(j["d"], 0);
  EXPECT_TRUE(j["n"].is_number());
  for (const char* key : {"e", "f", "g", "h", "i", "j", "k", "l", "m"})
    EXPECT_TRUE(j[key].is_string()) << key;
  EXPECT_EQ(j["g"], "12345678901234567890123");
  EXPECT_EQ(j["k"], "42");
}

TEST(LogFormatTest, EmptyMessageAndEmptyValues) {
  auto j = convert("");
  EXPECT_EQ(j.size(), 4u);
  EXPECT_EQ(j["msg"], "");
  j = convert("k= other=1");
  EXPECT_EQ(j["k"], "");
  EXPECT_EQ(j["other"], 1);
  j = convert("  a=1   b=2  ");
  EXPECT_EQ(j["a"], 1);
  EXPECT_EQ(j["b"], 2);
}

TEST(LogFormatTest, FreeTextAndStrayTokensGoWholeUnderMsg) {
  for (std::string m : {"starting the node", "event=x stray", "=v", "a=\"open", "a=\"x\"y b=1",
                        "shutdown checkpoint: 1 of 5 experts failed"}) {
    auto j = convert(m);
    EXPECT_EQ(j.size(), 4u) << m;
    EXPECT_EQ(j["msg"], m);
  }
}

TEST(LogFormatTest, RepeatedAndReservedKeysGetSuffixes) {
  auto j = convert("ts=1 level=x component=c msg=y a=1 a=2 a=3 a_2=z");
  EXPECT_EQ(j["ts"], "2026-12-02T01:02:03.456Z");
  EXPECT_EQ(j["ts_2"], 1);
  EXPECT_EQ(j["level_2"], "x");
  EXPECT_EQ(j["component_2"], "c");
  EXPECT_EQ(j["msg_2"], "y");
  EXPECT_EQ(j["a"], 1);
  EXPECT_EQ(j["a_2"], 2);
  EXPECT_EQ(j["a_3"], 3);
  EXPECT_EQ(j["a_2_2"], "z");
}

TEST(LogFormatTest, HostileBytesStillGiveValidJson) {
  const std::string replacement = "\xEF\xBF\xBD";
  const char raw[] = "a=x\x01\x1f\x7f\ty b=\"q\0r\"";
  auto j = convert(std::string{raw, sizeof(raw) - 1});
  EXPECT_EQ(j["a"], "x\x01\x1f\x7f\ty");
  EXPECT_EQ(j["b"], std::string("q\0r", 3));
  EXPECT_EQ(convert("a=\"abc\\")["msg"], "a=\"abc\\");  // backslash at the end
  EXPECT_EQ(convert("a=abc\\")["a"], "abc\\");
  EXPECT_EQ(convert("a=x\"y")["a"], "x\"y");            // lone quote inside
  EXPECT_EQ(convert("\"")["msg"], "\"");
  EXPECT_EQ(convert("a=\xff\xfe")["a"], replacement + replacement);
  EXPECT_EQ(convert("a=\xc0\xaf")["a"], replacement + replacement);  // overlong
  EXPECT_EQ(convert("a=\xed\xa0\x80")["a"], replacement + replacement + replacement);
  EXPECT_EQ(convert("a=\xe2\x82")["a"], replacement + replacement);  // cut short
  EXPECT_EQ(convert("a=\xf4\x90\x80\x80")["a"].get<std::string>().size(), 12u);
  EXPECT_EQ(convert("a=\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80")["a"],
            "\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80");  // valid UTF-8 is kept
  std::string all;
  for (int c = 0; c < 256; ++c)
    all += static_cast<char>(c);
  EXPECT_EQ(convert(all)["msg"].get<std::string>().size(), 128u + 128u * 3);
  EXPECT_NO_THROW(json::parse(kv_to_json(all, all, all, "k=" + all)));
}

TEST(LogFormatTest, JsonFormatterWritesUtcTimestampLevelAndComponent) {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 11;
  tm.tm_mday = 2;
  tm.tm_hour = 1;
  tm.tm_min = 2;
  tm.tm_sec = 3;
  auto t = std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds{456};
  spdlog::details::log_msg msg{t, {}, "dht", spdlog::level::warn, "event=x n=3"};
  spdlog::memory_buf_t buf;
  json_formatter{}.format(msg, buf);
  std::string line{buf.data(), buf.size()};
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  auto j = json::parse(line);
  EXPECT_EQ(j["ts"], "2026-12-02T01:02:03.456Z");
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j["component"], "dht");
  EXPECT_EQ(j["n"], 3);
  EXPECT_NE(make_formatter("text"), nullptr);
  EXPECT_NE(make_formatter("json"), nullptr);
  EXPECT_EQ(make_formatter("xml"), nullptr);
}
