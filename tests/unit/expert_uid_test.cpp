#include <gtest/gtest.h>

#include "messages/errc.hpp"
#include "messages/expert_uid.hpp"

using namespace colony;

TEST(ExpertUidTest, AcceptsWellFormedUids) {
  for (auto uid : {"ffn.0", "ffn.3.7", "_x.10.0.255", "Expert_2.1", "a.9223372036854775807"})
    EXPECT_TRUE(is_valid_uid(uid)) << uid;
}

TEST(ExpertUidTest, RejectsMalformedUids) {
  for (auto uid : {"", "ffn", "ffn.", "ffn.3.", ".3", "3ffn.1", "ffn.07", "ffn.-1",
                   "ffn.1a", "ffn..1", "f-n.1", "ffn.1 ", "ffn.9223372036854775808"})
    EXPECT_FALSE(is_valid_uid(uid)) << uid;
}

TEST(ExpertUidTest, PrefixKeysEndWithDot) {
  for (auto key : {"ffn.", "ffn.3.", "ffn.0.12."})
    EXPECT_TRUE(is_valid_prefix(key)) << key;
  for (auto key : {"", ".", "ffn", "ffn.3", "ffn..", "ffn.03.", "9.", "ffn.3.."})
    EXPECT_FALSE(is_valid_prefix(key)) << key;
}

TEST(ExpertUidTest, ParseUidReturnsPrefixAndCoordinates) {
  auto parsed = parse_uid("ffn.3.70.0");
  ASSERT_TRUE(parsed) << describe(parsed.error());
  EXPECT_EQ(parsed->prefix, "ffn");
  EXPECT_EQ(parsed->coords, (std::vector<int64_t>{3, 70, 0}));
}

TEST(ExpertUidTest, ParseUidErrorNamesUidAndReason) {
  auto parsed = parse_uid("ffn.07");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(code_of(parsed.error()), errc::bad_request);
  auto context = context_of(parsed.error());
  EXPECT_NE(context.find("ffn.07"), std::string::npos) << context;
  EXPECT_NE(context.find("leading zeros"), std::string::npos) << context;
  auto no_coords = parse_uid("ffn");
  ASSERT_FALSE(no_coords);
  EXPECT_NE(context_of(no_coords.error()).find("coordinate"), std::string::npos);
}

TEST(ExpertUidTest, MakeUidRoundTripsThroughParse) {
  std::vector<int64_t> coords{0, 12, 345};
  auto uid = make_uid("layer_1", coords);
  EXPECT_EQ(uid, "layer_1.0.12.345");
  auto parsed = parse_uid(uid);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->prefix, "layer_1");
  EXPECT_EQ(parsed->coords, coords);
  EXPECT_EQ(make_prefix_key("layer_1", {0, 12}), "layer_1.0.12.");
  EXPECT_EQ(make_prefix_key("layer_1", {}), "layer_1.");
}

TEST(ExpertUidTest, ParseCoordinateRejectsLeadingZerosAndOverflow) {
  EXPECT_EQ(parse_coordinate("0"), 0);
  EXPECT_EQ(parse_coordinate("42"), 42);
  EXPECT_FALSE(parse_coordinate(""));
  EXPECT_FALSE(parse_coordinate("007"));
  EXPECT_FALSE(parse_coordinate("+1"));
  EXPECT_FALSE(parse_coordinate("99999999999999999999"));
}

TEST(ExpertUidTest, DeclarationEntriesCoverEveryShorterPrefix) {
  EXPECT_EQ(declaration_entries("ffn.3.7"),
            (std::vector<uid_declaration>{{"ffn.", "3"}, {"ffn.3.", "7"}}));
  EXPECT_EQ(declaration_entries("ffn.5"),
            (std::vector<uid_declaration>{{"ffn.", "5"}}));
  for (const auto& entry : declaration_entries("a.1.2.3"))
    EXPECT_TRUE(is_valid_prefix(entry.prefix_key)) << entry.prefix_key;
  EXPECT_TRUE(declaration_entries("ffn.07").empty());
}
