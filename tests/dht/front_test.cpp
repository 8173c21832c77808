// The published face of a DHT peer (actors/dht/front.hpp) over loopback: a
// second actor system connects to the published port (through the
// middleman, as a plain caf::actor) and finds that tick, defer and bootstrap are refused with
// unexpected_message (the peer never sees them), while ping, find, get,
// put and stats still work; a typed connect wants the front's interface.
#include <chrono>
#include <set>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <gtest/gtest.h>

#include "actors/dht/client.hpp"
#include "actors/dht/io_peer.hpp"
#include "actors/dht/node_id.hpp"
#include "actors/dht/wire.hpp"
#include "messages/errc.hpp"
#include "runtime/system_config.hpp"

using namespace colony;
using namespace colony::dht;
using namespace std::chrono_literals;

namespace {

class DhtFrontTest : public ::testing::Test {
protected:
  void SetUp() override {
    peer_config cfg;
    cfg.self_ep = endpoint{"127.0.0.1", 0};
    cfg.rpc_timeout = 1000ms;
    auto p = start_io_peer(server_, cfg, {});
    ASSERT_TRUE(p) << describe(p.error());
    peer_ = *p;
    front_ = untyped_connect(peer_.ep.port);
    ASSERT_TRUE(front_);
  }

  /// What an arbitrary remote sender gets: the published actor as a plain
  /// caf::actor, its interface ignored (caf::io::remote_actor would refuse
  /// the untyped handle with unexpected_actor_messaging_interface).
  caf::actor untyped_connect(uint16_t port) {
    caf::actor result;
    caf::scoped_actor self{remote_};
    self->request(remote_.middleman().actor_handle(), 5s, caf::connect_atom::value,
                  std::string{"127.0.0.1"}, port)
      .receive([&](const caf::node_id&, caf::strong_actor_ptr& ptr,
                   std::set<std::string>&) { result = caf::actor_cast<caf::actor>(ptr); },
               [&](caf::error& err) { ADD_FAILURE() << remote_.render(err); });
    return result;
  }

  void TearDown() override {
    if (peer_.peer)
      stop_io_peer(server_, peer_);
  }

  /// Requests `xs` from the published handle; the reply or the error.
  template <class Reply, class... Ts>
  caf::expected<Reply> ask(Ts... xs) {
    caf::expected<Reply> result{caf::error{}};
    caf::scoped_actor self{remote_};
    self->request(front_, 5s, xs...)
      .receive([&](Reply& r) { result = std::move(r); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  /// Requests a message that has no reply; the error, or none if handled.
  template <class... Ts>
  caf::error ask_no_reply(Ts... xs) {
    caf::error result;
    caf::scoped_actor self{remote_};
    self->request(front_, 5s, xs...)
      .receive([] {}, [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  system_config server_cfg_;
  caf::actor_system server_{server_cfg_};
  system_config remote_cfg_;
  caf::actor_system remote_{remote_cfg_};
  io_peer peer_;
  caf::actor front_;
};

} // namespace

TEST_F(DhtFrontTest, InternalMessagesAreRefusedOverTheNetwork) {
  EXPECT_EQ(ask_no_reply(tick_atom::value), caf::sec::unexpected_message);
  EXPECT_EQ(ask_no_reply(defer_atom::value, uint64_t{0}), caf::sec::unexpected_message);
  auto boot = ask<dht_peer_stats>(dht_bootstrap_request{"10.9.9.9:1", {}});
  ASSERT_FALSE(boot);
  EXPECT_EQ(boot.error(), caf::sec::unexpected_message);
  // The advertised endpoint was not rewritten.
  client local{server_, peer_.peer, 5s};
  auto stats = local.stats();
  ASSERT_TRUE(stats) << describe(stats.error());
  EXPECT_EQ(stats->self.host, "127.0.0.1");
  EXPECT_EQ(stats->self.port, peer_.ep.port);
}

TEST_F(DhtFrontTest, RpcsAndClientApiStillWork) {
  auto pong = ask<dht_pong>(dht_ping{dht_peer{}, true});
  ASSERT_TRUE(pong) << remote_.render(pong.error());
  EXPECT_EQ(pong->responder.port, peer_.ep.port);

  dht_put_item item{"k", false, "", "v", unix_time() + 60};
  auto put = ask<dht_put_reply>(dht_put_request{{item}});
  ASSERT_TRUE(put) << remote_.render(put.error());
  ASSERT_EQ(put->acks.size(), 1u);
  EXPECT_EQ(put->acks[0], 1u); // the only peer stores it itself

  auto got = ask<dht_get_reply>(dht_get_request{{"k"}});
  ASSERT_TRUE(got) << remote_.render(got.error());
  ASSERT_EQ(got->results.size(), 1u);
  EXPECT_TRUE(got->results[0].found);

  auto found = ask<dht_find_reply>(
    dht_find_request{dht_peer{}, true, {to_wire(node_id::of_key("k"))}});
  ASSERT_TRUE(found) << remote_.render(found.error());
  ASSERT_EQ(found->results.size(), 1u);
  EXPECT_TRUE(found->results[0].found);

  auto stats = ask<dht_peer_stats>(stats_atom::value);
  ASSERT_TRUE(stats) << remote_.render(stats.error());
  EXPECT_EQ(stats->records, 1u);
}

TEST_F(DhtFrontTest, TypedConnectNeedsTheFrontInterface) {
  auto full = caf::io::remote_actor<peer_actor>(remote_, "127.0.0.1", peer_.ep.port);
  EXPECT_FALSE(full) << "the full peer interface must not be reachable";
  auto front = caf::io::remote_actor<peer_front_actor>(remote_, "127.0.0.1", peer_.ep.port);
  ASSERT_TRUE(front) << remote_.render(front.error());
  client c{remote_, *front, 5s};
  auto stats = c.stats();
  ASSERT_TRUE(stats) << describe(stats.error());
  EXPECT_EQ(stats->self.port, peer_.ep.port);
  auto boot = c.bootstrap({});
  ASSERT_FALSE(boot);
  EXPECT_EQ(code_of(boot.error()), errc::bad_request);
}
