// Churn in a 500-peer swarm: peers die abruptly (10%, then 30% in all);
// the owners that survive re-store their values, and lookups from random
// live peers still find >= 99% of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "messages/errc.hpp"
#include "tests/dht/test_support.hpp"

using namespace colony;
using namespace colony::dht;
using namespace colony::dht::testing;

namespace {

class DhtChurnTest : public system_fixture {
protected:
  static constexpr size_t num_peers = 500;
  static constexpr size_t num_keys = 200;

  /// Owner i stores "key-i" -> "value-i" (expiring in 60 s); with
  /// `only_alive`, dead owners are skipped.
  void store_all(swarm& s) {
    for (size_t i = 0; i < num_keys; ++i) {
      if (!s.alive(owner(i)))
        continue;
      auto acks = s.client_of(owner(i)).store(key(i), value(i), clock_.now() + 60);
      ASSERT_TRUE(acks) << describe(acks.error());
      EXPECT_GE(*acks, 1u) << key(i);
    }
  }

  /// Looks every key of a live owner up from 3 random live peers; the
  /// fraction found with the right value.
  double lookup_success(swarm& s) {
    auto live = s.alive_indices();
    size_t ok = 0;
    size_t total = 0;
    for (size_t i = 0; i < num_keys; ++i) {
      if (!s.alive(owner(i)))
        continue;
      for (int j = 0; j < 3; ++j) {
        auto reader = live[rng_() % live.size()];
        auto r = s.client_of(reader).get_one(key(i));
        ++total;
        if (r && r->found && r->value.values.at(0).value == value(i))
          ++ok;
      }
    }
    return total == 0 ? 0.0 : static_cast<double>(ok) / total;
  }

  /// Kills random live peers until `fraction` of all peers are dead.
  void kill_until(swarm& s, double fraction) {
    auto target = static_cast<size_t>(fraction * num_peers);
    auto live = s.alive_indices();
    std::shuffle(live.begin(), live.end(), rng_);
    for (size_t i = 0; num_peers - s.alive_indices().size() < target; ++i)
      s.kill(live[i]);
  }

  static size_t owner(size_t i) { return (i * 7) % num_peers; }
  static std::string key(size_t i) { return "churn-" + std::to_string(i); }
  static std::string value(size_t i) { return "value-" + std::to_string(i); }

  manual_clock clock_;
  std::mt19937_64 rng_{2024};
};

} // namespace

TEST_F(DhtChurnTest, LookupsSucceedAfterTenThenThirtyPercentOfPeersDie) {
  auto opts = test_swarm(31, &clock_);
  opts.peer.rpc_timeout = std::chrono::milliseconds{300};
  swarm s{sys_, opts};
  ASSERT_FALSE(s.grow(num_peers));
  store_all(s);
  EXPECT_GE(lookup_success(s), 0.99);

  kill_until(s, 0.10);
  clock_.advance(1); // the owners' next declaration round
  store_all(s);
  auto after_10 = lookup_success(s);
  EXPECT_GE(after_10, 0.99);

  kill_until(s, 0.30);
  clock_.advance(1);
  store_all(s);
  auto after_30 = lookup_success(s);
  EXPECT_GE(after_30, 0.99);
  RecordProperty("success_10pct_dead", std::to_string(after_10));
  RecordProperty("success_30pct_dead", std::to_string(after_30));
  std::cout << "churn: success " << after_10 << " with 10% dead, " << after_30
            << " with 30% dead\n";
}
