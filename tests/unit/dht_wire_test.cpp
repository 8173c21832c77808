#include <random>

#include <gtest/gtest.h>

#include "actors/dht/search.hpp"
#include "actors/dht/wire.hpp"

using namespace colony;
using namespace colony::dht;

namespace {

record dictionary(std::map<std::string, timed_value> entries) {
  record r;
  r.is_dictionary = true;
  r.subkeys = std::move(entries);
  return r;
}

/// `n` contacts with random ids at endpoints h:1 ... h:n.
std::vector<contact> some_contacts(std::mt19937_64& rng, int n) {
  std::vector<contact> out;
  for (int i = 0; i < n; ++i)
    out.push_back(contact{node_id::random(rng), {"h", static_cast<uint16_t>(i + 1)}, 0});
  return out;
}

record plain(std::string value, double expiration) {
  record r;
  r.plain = {std::move(value), expiration};
  return r;
}

} // namespace

TEST(DhtWireTest, IdsRoundTripAsTwentyBytes) {
  auto id = node_id::of_key("ffn.3.7");
  auto bytes = to_wire(id);
  EXPECT_EQ(bytes.size(), 20u);
  EXPECT_EQ(id_from_wire(bytes), id);
  EXPECT_FALSE(id_from_wire(bytes.substr(1)));
  EXPECT_FALSE(id_from_wire(""));
}

TEST(DhtWireTest, ContactsWithoutEndpointAreNotContacts) {
  contact c{node_id::of_key("x"), {"10.0.0.1", 4000}, 12};
  auto back = contact_from_wire(to_wire(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, c.id);
  EXPECT_EQ(back->ep, c.ep);
  EXPECT_FALSE(contact_from_wire(dht_peer{to_wire(c.id), "", 0})); // client mode
  EXPECT_FALSE(contact_from_wire(dht_peer{"short", "10.0.0.1", 4000}));
}

TEST(DhtWireTest, RecordsRoundTrip) {
  auto d = dictionary({{"3", {"a", 10}}, {"7", {"b", 20}}});
  EXPECT_EQ(record_from_wire(to_wire(d)), d);
  auto p = plain("v", 5);
  EXPECT_EQ(record_from_wire(to_wire(p)), p);
}

TEST(DhtWireTest, MergeKeepsTheLaterExpirationPerSubkey) {
  auto into = dictionary({{"3", {"old", 10}}, {"7", {"b", 20}}});
  merge_into(into, dictionary({{"3", {"new", 15}}, {"7", {"stale", 5}}, {"9", {"c", 1}}}));
  EXPECT_EQ(into, dictionary({{"3", {"new", 15}}, {"7", {"b", 20}}, {"9", {"c", 1}}}));
}

TEST(DhtWireTest, MergeOfPlainValuesKeepsTheLaterOne) {
  auto into = plain("a", 10);
  merge_into(into, plain("b", 5));
  EXPECT_EQ(into, plain("a", 10));
  merge_into(into, plain("c", 11));
  EXPECT_EQ(into, plain("c", 11));
  merge_into(into, dictionary({{"1", {"d", 12}}}));
  EXPECT_TRUE(into.is_dictionary);
}

TEST(DhtSearchTest, MergesValuesOfRepliesInFlightOnly) {
  std::mt19937_64 rng{5};
  auto target = node_id::random(rng);
  search s{target, 1, 20, 3, some_contacts(rng, 3), node_id::random(rng)};
  auto asked = s.next_requests();
  ASSERT_EQ(asked.size(), 3u);
  s.on_reply(asked[0].id, {}, dictionary({{"1", {"a", 10}}}));
  EXPECT_TRUE(s.done());
  s.on_reply(asked[1].id, {}, dictionary({{"2", {"b", 10}}})); // still in flight: merged
  s.on_reply(asked[0].id, {}, dictionary({{"3", {"c", 10}}})); // answered already: ignored
  auto out = s.outcome();
  ASSERT_TRUE(out.value);
  EXPECT_EQ(out.value->subkeys.size(), 2u);
  EXPECT_EQ(out.hops, 1u);
}

TEST(DhtSearchTest, GathersTheWantedCopiesOrWhatItHasWhenExpired) {
  std::mt19937_64 rng{6};
  auto target = node_id::random(rng);
  search s{target, 3, 20, 4, some_contacts(rng, 4), node_id::random(rng)};
  auto asked = s.next_requests();
  ASSERT_EQ(asked.size(), 4u);
  s.on_reply(asked[0].id, {}, dictionary({{"1", {"a", 10}}, {"2", {"old", 10}}}));
  s.on_reply(asked[1].id, {}, dictionary({{"2", {"new", 20}}}));
  EXPECT_FALSE(s.done()); // two of the three copies wanted
  EXPECT_EQ(s.values(), 2u);
  s.on_reply(asked[2].id, {}, std::nullopt);
  EXPECT_FALSE(s.done());
  s.expire(); // the owner's grace after the first copy ran out
  EXPECT_TRUE(s.done());
  EXPECT_TRUE(s.next_requests().empty());
  auto out = s.outcome();
  ASSERT_TRUE(out.value);
  ASSERT_EQ(out.value->subkeys.size(), 2u); // the union of both copies...
  EXPECT_EQ(out.value->subkeys.at("1").value, "a");
  EXPECT_EQ(out.value->subkeys.at("2").value, "new"); // ...the later expiration winning
}

TEST(DhtWireTest, NewerItemsAreWhatAReplicaLacksOrHoldsOlder) {
  node_id key;
  auto merged = dictionary({{"a", {"x", 20}}, {"b", {"y", 20}}, {"c", {"z", 20}}});
  auto copy = dictionary({{"a", {"x", 20}}, {"b", {"old", 10}}});
  auto items = newer_items(key, merged, copy);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].subkey, "b");
  EXPECT_EQ(items[0].value, "y");
  EXPECT_EQ(items[1].subkey, "c");
  EXPECT_TRUE(items[1].has_subkey);
  EXPECT_EQ(items[1].key, to_wire(key));
  EXPECT_EQ(newer_items(key, merged, std::nullopt).size(), 3u);
  EXPECT_TRUE(newer_items(key, merged, merged).empty());
  auto p = newer_items(key, plain("v", 30), plain("u", 10));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_FALSE(p[0].has_subkey);
  EXPECT_EQ(p[0].value, "v");
  EXPECT_TRUE(newer_items(key, plain("v", 30), plain("v", 30)).empty());
}
