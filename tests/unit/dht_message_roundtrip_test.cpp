// Every DHT message type registered in messages/registry.cpp survives CAF's
// binary serialization with binary ids, NUL bytes and exact doubles.
#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>
#include <caf/make_message.hpp>

#include "messages/dht_messages.hpp"
#include "runtime/system_config.hpp"

using namespace colony;

namespace {

class DhtMessageRoundTrip : public testing::Test {
protected:
  DhtMessageRoundTrip() : sys_(cfg_) {}

  /// Serializes `x`, reads it back, and checks the rendering is unchanged.
  template <class T>
  T round_trip(T x) {
    caf::binary_serializer::container_type buf;
    caf::binary_serializer sink{sys_, buf};
    auto err = sink(x);
    EXPECT_FALSE(err) << caf::to_string(err);
    T result{};
    caf::binary_deserializer source{sys_, buf};
    err = source(result);
    EXPECT_FALSE(err) << caf::to_string(err);
    EXPECT_EQ(caf::deep_to_string(result), caf::deep_to_string(x));
    return result;
  }

  system_config cfg_;
  caf::actor_system sys_;
};

/// 20 bytes with NUL and high-bit characters, like a SHA-1 id.
std::string raw_id(char seed) {
  std::string out;
  for (int i = 0; i < 20; ++i)
    out.push_back(static_cast<char>(seed * 31 + i * 73));
  out[3] = '\0';
  return out;
}

dht_peer peer(char seed) {
  return dht_peer{raw_id(seed), "127.0.0.1", static_cast<uint16_t>(40000 + seed)};
}

dht_record dictionary() {
  return dht_record{true, {{"3", "127.0.0.1:7000", 1.7e9 + 0.125}, {"12", "h:1", 1.7e9}}};
}

} // namespace

TEST_F(DhtMessageRoundTrip, PeerKeepsItsBinaryId) {
  auto p = round_trip(peer(1));
  EXPECT_EQ(p.id, raw_id(1));
  EXPECT_EQ(p.id.size(), 20u);
  EXPECT_EQ(p.port, 40001);
}

TEST_F(DhtMessageRoundTrip, ValueAndRecordKeepExactExpirations) {
  auto v = round_trip(dht_value{"", "plain", 1.7e9 + 1.0 / 3});
  EXPECT_EQ(v.expiration, 1.7e9 + 1.0 / 3);
  auto r = round_trip(dictionary());
  ASSERT_EQ(r.values.size(), 2u);
  EXPECT_TRUE(r.is_dictionary);
  EXPECT_EQ(r.values[0].expiration, 1.7e9 + 0.125);
}

TEST_F(DhtMessageRoundTrip, PingAndPong) {
  auto ping = round_trip(dht_ping{peer(2), true});
  EXPECT_TRUE(ping.client_mode);
  EXPECT_EQ(round_trip(dht_pong{peer(3)}).responder.id, raw_id(3));
}

TEST_F(DhtMessageRoundTrip, StoreRequestAndReply) {
  dht_store_item item{raw_id(4), true, "7", "127.0.0.1:7000", 1.7e9};
  auto req = round_trip(dht_store_request{peer(4), false, {item, item}});
  ASSERT_EQ(req.items.size(), 2u);
  EXPECT_EQ(req.items[1].key, raw_id(4));
  EXPECT_TRUE(req.items[1].has_subkey);
  auto reply = round_trip(dht_store_reply{peer(5), {1, 0, 1}});
  EXPECT_EQ(reply.accepted, (std::vector<uint8_t>{1, 0, 1}));
}

TEST_F(DhtMessageRoundTrip, FindRequestResultAndReply) {
  auto req = round_trip(dht_find_request{peer(6), true, {raw_id(7), raw_id(8)}});
  EXPECT_EQ(req.keys.at(1), raw_id(8));
  dht_find_result found{true, dictionary(), {peer(9), peer(10)}};
  auto result = round_trip(found);
  EXPECT_EQ(result.nearest.size(), 2u);
  auto reply = round_trip(dht_find_reply{peer(11), {found, dht_find_result{}}});
  ASSERT_EQ(reply.results.size(), 2u);
  EXPECT_FALSE(reply.results[1].found);
}

TEST_F(DhtMessageRoundTrip, LocalApiMessages) {
  auto boot = round_trip(dht_bootstrap_request{"127.0.0.1:5000", {"a:1", "b:2"}});
  EXPECT_EQ(boot.initial_peers.size(), 2u);
  dht_put_item item{"ffn.3.", true, "7", "127.0.0.1:7000", 1.7e9};
  EXPECT_EQ(round_trip(dht_put_request{{item}}).items.at(0).subkey, "7");
  EXPECT_EQ(round_trip(dht_put_reply{{5, 0, 3}}).acks, (std::vector<uint32_t>{5, 0, 3}));
  EXPECT_EQ(round_trip(dht_get_request{{"ffn.", "ffn.3.7"}}).keys.size(), 2u);
  dht_get_result got{true, dictionary(), 3};
  EXPECT_EQ(round_trip(got).hops, 3u);
  EXPECT_EQ(round_trip(dht_get_reply{{got, {}}}).results.size(), 2u);
}

TEST_F(DhtMessageRoundTrip, PeerStats) {
  dht_peer_stats stats{peer(12), false, 42, {peer(13), peer(14)}, 100, 7, 20, 3};
  auto result = round_trip(stats);
  EXPECT_EQ(result.contacts.size(), 2u);
  EXPECT_EQ(result.searches_joined, 3u);
}

TEST_F(DhtMessageRoundTrip, EveryDhtTypeIsRegistered) {
  for (auto name : {"colony.dht_peer", "colony.dht_value", "colony.dht_record",
                    "colony.dht_ping", "colony.dht_pong", "colony.dht_store_item",
                    "colony.dht_store_request", "colony.dht_store_reply",
                    "colony.dht_find_request", "colony.dht_find_result",
                    "colony.dht_find_reply", "colony.dht_bootstrap_request",
                    "colony.dht_put_item", "colony.dht_put_request", "colony.dht_put_reply",
                    "colony.dht_get_request", "colony.dht_get_result",
                    "colony.dht_get_reply", "colony.dht_peer_stats"})
    EXPECT_EQ(cfg_.value_factories_by_name.count(name), 1u) << name;
  auto msg = caf::make_message(dht_find_request{peer(1), false, {raw_id(2)}},
                               dht_get_reply{{dht_get_result{true, dictionary(), 2}}});
  caf::binary_serializer::container_type buf;
  caf::binary_serializer sink{sys_, buf};
  ASSERT_FALSE(sink(msg));
  caf::message copy;
  caf::binary_deserializer source{sys_, buf};
  ASSERT_FALSE(source(copy));
  EXPECT_EQ(caf::to_string(copy), caf::to_string(msg));
}
