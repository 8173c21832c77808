#include <gtest/gtest.h>

#include "actors/dht/expert_directory.hpp"
#include "messages/errc.hpp"

using namespace colony;
using namespace colony::dht;

TEST(DhtExpertDirectoryTest, DeclarationItemsCoverUidsAndEachPrefixEntryOnce) {
  auto items = declaration_items({"ffn.3.7", "ffn.3.12"}, {"10.0.0.1", 7000}, 99);
  ASSERT_TRUE(items);
  std::vector<std::string> got;
  for (const auto& x : *items) {
    EXPECT_EQ(x.value, "10.0.0.1:7000");
    EXPECT_EQ(x.expiration, 99);
    got.push_back(x.key + (x.has_subkey ? "[" + x.subkey + "]" : ""));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"ffn.3.7", "ffn.3.12", "ffn.[3]", "ffn.3.[7]",
                                           "ffn.3.[12]"}));
}

TEST(DhtExpertDirectoryTest, InvalidUidIsBadRequest) {
  auto items = declaration_items({"ffn.3.7", "ffn."}, {"h", 1}, 99);
  ASSERT_FALSE(items);
  EXPECT_EQ(code_of(items.error()), errc::bad_request);
}

TEST(DhtExpertDirectoryTest, SuccessorsSkipMalformedEntries) {
  dht_get_result r{true, dht_record{true, {{"3", "h:1", 9}, {"07", "h:2", 9}, {"4", "nope", 9},
                                           {"12", "h:3", 9}}}, 1};
  auto s = successors(r);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.at(3), (endpoint{"h", 1}));
  EXPECT_EQ(s.at(12), (endpoint{"h", 3}));
  EXPECT_TRUE(successors(dht_get_result{}).empty());
}

TEST(DhtExpertDirectoryTest, ExpertEndpointReadsPlainValuesOnly) {
  dht_get_result r{true, dht_record{false, {{"", "h:5", 9}}}, 2};
  EXPECT_EQ(expert_endpoint(r), (endpoint{"h", 5}));
  r.value.is_dictionary = true;
  EXPECT_FALSE(expert_endpoint(r));
  EXPECT_FALSE(expert_endpoint(dht_get_result{}));
}
