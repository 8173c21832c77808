// parse_endpoint and endpoint::to_string: host:port, bracketed IPv6 and the
// round trip that DHT records rely on.
#include <gtest/gtest.h>

#include "messages/errc.hpp"
#include "runtime/endpoint.hpp"

namespace colony {
namespace {

std::string error_of(const std::string& text) {
  auto ep = parse_endpoint(text);
  if (ep)
    return "";
  return describe(ep.error());
}

TEST(EndpointTest, ParsesHostAndPort) {
  auto ep = parse_endpoint("127.0.0.1:4000");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, 4000);
  EXPECT_EQ(ep->to_string(), "127.0.0.1:4000");
}

TEST(EndpointTest, ParsesBracketedIpv6AndStoresHostWithoutBrackets) {
  auto ep = parse_endpoint("[::1]:4000");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->port, 4000);
}

TEST(EndpointTest, ToStringBracketsIpv6Hosts) {
  EXPECT_EQ((endpoint{"::1", 80}).to_string(), "[::1]:80");
  EXPECT_EQ((endpoint{"fd00::2", 65535}).to_string(), "[fd00::2]:65535");
  EXPECT_EQ((endpoint{"node-a.example", 1}).to_string(), "node-a.example:1");
}

TEST(EndpointTest, ToStringRoundTripsThroughParse) {
  for (auto ep : {endpoint{"::1", 4000}, endpoint{"127.0.0.1", 1}, endpoint{"fe80::1", 9},
                  endpoint{"localhost", 65535}}) {
    auto back = parse_endpoint(ep.to_string());
    ASSERT_TRUE(back) << ep.to_string();
    EXPECT_EQ(*back, ep) << ep.to_string();
  }
}

TEST(EndpointTest, UnbracketedIpv6IsRejectedAskingForBrackets) {
  auto err = error_of("::1:80");
  EXPECT_NE(err.find("[ADDR]:PORT"), std::string::npos) << err;
  EXPECT_NE(err.find("'::1:80'"), std::string::npos) << err;
}

TEST(EndpointTest, MalformedBracketsAreRejected) {
  for (auto text : {"[::1", "[::1]", "[::1]80", "[]:80", "[[::1]]:80", "[::1]:", "a]:80"}) {
    auto err = error_of(text);
    EXPECT_FALSE(err.empty()) << text << " was accepted";
    EXPECT_NE(err.find(text), std::string::npos) << err;
  }
  EXPECT_NE(error_of("[::1").find("missing ']'"), std::string::npos) << error_of("[::1");
}

TEST(EndpointTest, BadPortsAreRejected) {
  EXPECT_NE(error_of("h:0").find("out of range"), std::string::npos);
  EXPECT_NE(error_of("h:65536").find("out of range"), std::string::npos);
  EXPECT_NE(error_of("h:x").find("not a number"), std::string::npos);
  EXPECT_NE(error_of("[::1]:99999").find("out of range"), std::string::npos);
  EXPECT_NE(error_of("h").find("HOST:PORT"), std::string::npos);
  EXPECT_NE(error_of(":80").find("HOST:PORT"), std::string::npos);
}

} // namespace
} // namespace colony
