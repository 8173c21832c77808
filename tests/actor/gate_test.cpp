// The gate actor on CAF's deterministic test scheduler: fake DHT peer and
// fake expert servers, virtual time instead of sleeps. Checks when a
// forward replies (forward_timeout, timeout_after_k_min), the batched DHT
// gets, the prefix cache and the anomaly filter.
#include <algorithm>
#include <map>
#include <memory>
#include <sstream>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <torch/torch.h>

#include "actors/dht/sealed_value.hpp"
#include "actors/client/fanout.hpp"

#include "actors/gate/gate_actor.hpp"
#include "messages/errc.hpp"
#include "messages/registry.hpp"
#include "messages/wire/torch_tensor.hpp"
#include "runtime/logging.hpp"
#include "tests/actor/test_config.hpp"

using namespace colony;
using namespace std::chrono_literals;

namespace {

using actor_test::test_config;

/// A DHT peer that answers gets from a fixed map and counts them.
using dht_table = std::map<std::string, dht_get_result>;

dht::peer_actor::behavior_type fake_dht(dht::peer_actor::pointer,
                                        std::shared_ptr<dht_table> table,
                                        std::shared_ptr<int> gets) {
  return {
    [](dht_ping&) { return dht_pong{}; },
    [](dht_store_request&) { return dht_store_reply{}; },
    [](dht_find_request&) { return dht_find_reply{}; },
    [](dht_bootstrap_request&) { return dht_peer_stats{}; },
    [](dht_put_request&) { return dht_put_reply{}; },
    [=](dht_get_request& req) {
      ++*gets;
      dht_get_reply reply;
      for (auto& k : req.keys) {
        auto i = table->find(k);
        reply.results.push_back(i == table->end() ? dht_get_result{} : i->second);
      }
      return reply;
    },
    [](stats_atom) { return dht_peer_stats{}; },
    [](tick_atom) {},
    [](defer_atom, uint64_t) {},
  };
}

/// How a fake expert answers a forward.
enum class mode { scale, hang, nan, dead, late };

/// How long a `late` fake waits before it answers (virtual time).
constexpr auto late_by = std::chrono::milliseconds{300};

/// Answers one forward as `scale` does, late_by after it arrived.
using late_actor = caf::typed_actor<caf::replies_to<forward_request>::with<forward_reply>>;

struct late_state {
  std::optional<caf::typed_response_promise<forward_reply>> rp;
  forward_reply reply;
};

late_actor::behavior_type late_replier(late_actor::stateful_pointer<late_state> self) {
  return {
    [=](forward_request& req) -> caf::result<forward_reply> {
      auto x = *wire::decode_tensor(req.inputs.at(0).bytes);
      auto y = x * (1.0 + (req.uid.back() - '0'));
      self->state.reply = forward_reply{{tensor_blob{*wire::encode_tensor(y)}}};
      self->state.rp = self->make_response_promise<forward_reply>();
      return *self->state.rp;
    },
    caf::after(late_by) >> [=] {
      if (self->state.rp)
        self->state.rp->deliver(self->state.reply);
      self->quit();
    },
  };
}

/// An expert server whose experts multiply by 1 + their last coordinate
/// (or never answer, answer NaN, or fail as unreachable).
expert_server_actor::behavior_type fake_server(expert_server_actor::pointer self, mode m) {
  return {
    [=](forward_request& req) -> caf::result<forward_reply> {
      if (m == mode::hang)
        return self->make_response_promise<forward_reply>(); // never delivered
      if (m == mode::late) // a one-shot replier answers late_by later
        return self->delegate(self->system().spawn(late_replier), std::move(req));
      if (m == mode::dead) // what the client reports for a node that went away
        return make_error(errc::unreachable, "node gone");
      auto x = *wire::decode_tensor(req.inputs.at(0).bytes);
      auto factor = 1.0 + (req.uid.back() - '0');
      auto y = m == mode::nan ? x * std::nan("") : x * factor;
      return forward_reply{{tensor_blob{*wire::encode_tensor(y)}}};
    },
    [](backward_request&) -> caf::result<backward_reply> { return backward_reply{}; },
    [](info_request&) { return expert_info{}; },
    [](list_atom) { return std::vector<std::string>{}; },
    [](ping_atom) { return uint64_t{1}; },
    [](tensor_chunk&) {},
  };
}

/// The declaration entries of `prefix`, sealed as a node declares them.
dht_get_result dict(const std::string& prefix,
                    std::vector<std::pair<std::string, std::string>> entries,
                    double expiration = 1e12) {
  static const auto owner = identity::node_key::generate();
  dht_get_result r;
  r.found = true;
  r.value.is_dictionary = true;
  for (auto& [sub, value] : entries)
    r.value.values.push_back(dht_value{
      sub, dht::seal(owner, dht::node_id::of_key(prefix), true, sub, value, expiration),
      expiration});
  return r;
}

/// Collects the lines of a logger (e.g. "supervisor") while it lives.
class log_capture {
public:
  explicit log_capture(const std::string& component)
    : log_(log::get(component)), sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    sink_->set_pattern("%v");
    log_->sinks().push_back(sink_);
    level_ = log_->level();
    log_->set_level(spdlog::level::trace);
  }
  ~log_capture() {
    auto& sinks = log_->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
    log_->set_level(level_);
  }
  /// How many captured lines contain `what`.
  size_t count(const std::string& what) const {
    size_t n = 0;
    std::istringstream in{out_.str()};
    for (std::string line; std::getline(in, line);)
      n += line.find(what) != std::string::npos;
    return n;
  }
  std::string text() const { return out_.str(); }

private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  spdlog::level::level_enum level_;
};

struct GateTest : ::testing::Test {
  test_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::shared_ptr<node_connections> conns = std::make_shared<node_connections>(sys);
  std::shared_ptr<int> gets = std::make_shared<int>(0);
  const endpoint fast{"10.0.0.1", 1}, slow{"10.0.0.2", 1};

  ~GateTest() override {
    // Let every pending timeout fire, so that all actors can terminate.
    sched.advance_time(std::chrono::seconds{120});
    sched.run();
    sys.await_actors_before_shutdown(false); // a hung fake's promise is never delivered
  }

  std::shared_ptr<dht_table> table = std::make_shared<dht_table>();

  /// syn.0.0 on `fast`, syn.0.1 on `slow` (behaving as `m1`).
  gate::gate_actor make_gate(gate::gate_config g, mode m1) {
    conns->adopt(fast, sys.spawn(fake_server, mode::scale));
    conns->adopt(slow, sys.spawn(fake_server, m1));
    declare(1e12);
    auto dht = sys.spawn(fake_dht, table, gets);
    return gate::spawn_gate(sys, g, dht, conns);
  }

  /// (Re-)declares both experts with records expiring at `expiration`.
  void declare(double expiration) {
    (*table)["syn."] = dict("syn.", {{"0", fast.to_string()}}, expiration);
    (*table)["syn.0."] =
      dict("syn.0.", {{"0", fast.to_string()}, {"1", slow.to_string()}}, expiration);
  }

  static gate::gate_config config() {
    gate::gate_config g;
    g.grid = {"syn", {1, 2}};
    g.input_dim = 4;
    g.k_best = 2;
    g.k_min = 2;
    g.timeout_after_k_min_s = 0.5;
    g.forward_timeout_s = 2;
    return g;
  }

  struct outcome {
    std::optional<gate_forward_reply> reply;
    std::optional<caf::error> error;
    bool done() const { return reply || error; }
  };

  std::shared_ptr<outcome> forward(const gate::gate_actor& gate, const torch::Tensor& x) {
    auto out = std::make_shared<outcome>();
    gate_forward_request req{tensor_blob{*wire::encode_tensor(x)},
                             std::vector<float>(static_cast<size_t>(x.size(0)) * 3, 0.f)};
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(gate, caf::infinite, req)
        .then([=](gate_forward_reply& r) { out->reply = std::move(r); },
              [=](caf::error& e) { out->error = e; });
    });
    sched.run();
    return out;
  }

  void advance(caf::timespan t) {
    sched.advance_time(t);
    sched.run();
  }
};

torch::Tensor decode(const tensor_blob& b) {
  return *wire::decode_tensor(b.bytes);
}

} // namespace

TEST_F(GateTest, RepliesAtForwardTimeoutWhenOneExpertNeverAnswers) {
  auto g = config();
  g.k_min = 1;
  g.timeout_after_k_min_s = 10; // longer than forward_timeout
  auto gate = make_gate(g, mode::hang);
  auto x = torch::ones({3, 4});
  auto out = forward(gate, x);
  EXPECT_FALSE(out->done()); // waits for the hung expert ...
  advance(1900ms);
  EXPECT_FALSE(out->done());
  advance(100ms); // ... until forward_timeout, not later
  ASSERT_TRUE(out->reply.has_value()) << (out->error ? describe(*out->error) : "no reply");
  auto& r = out->reply->routing;
  EXPECT_EQ(*gets, 1); // a 2-dimensional grid: one probe answers both dimensions
  auto y = decode(out->reply->outputs); // [3, 2, 4]
  for (int b = 0; b < 3; ++b) {
    // Ties broken by uid: slot 0 is syn.0.0 (x1), slot 1 the hung syn.0.1.
    EXPECT_EQ(r.uids[r.slot_expert[b * 2]], "syn.0.0");
    EXPECT_EQ(r.slot_ok[b * 2], 1);
    EXPECT_EQ(r.slot_ok[b * 2 + 1], 0);
    EXPECT_TRUE(torch::allclose(y[b][0], x[b]));
    EXPECT_EQ(y[b][1].abs().sum().item<float>(), 0.f);
  }
  EXPECT_EQ(out->reply->stats.asked, 2u);
  EXPECT_EQ(out->reply->stats.answered, 1u);
  EXPECT_EQ(out->reply->stats.timeouts, 1u);
}

TEST_F(GateTest, SampleBelowKMinGetsZerosAndIsCounted) {
  auto gate = make_gate(config(), mode::hang); // k_min = 2, one expert hangs
  auto out = forward(gate, torch::ones({2, 4}));
  advance(2s);
  ASSERT_TRUE(out->reply.has_value());
  EXPECT_EQ(out->reply->stats.short_samples, 2u);
  EXPECT_EQ(decode(out->reply->outputs).abs().sum().item<float>(), 0.f);
  for (auto ok : out->reply->routing.slot_ok)
    EXPECT_EQ(ok, 0);
}

TEST_F(GateTest, SampleBelowKMinIsAnErrorWithoutAllowZeroOutputs) {
  auto g = config();
  g.allow_zero_outputs = false;
  auto gate = make_gate(g, mode::hang);
  auto out = forward(gate, torch::ones({2, 4}));
  advance(2s);
  // A reply carrying the failure, so that what was asked is still counted.
  ASSERT_TRUE(out->reply.has_value()) << (out->error ? describe(*out->error) : "no reply");
  auto& failure = out->reply->failure;
  EXPECT_EQ(code_of(failure), errc::too_few_experts);
  EXPECT_NE(context_of(failure).find("1 of k_min=2"), std::string::npos) << describe(failure);
  EXPECT_EQ(out->reply->stats.asked, 2u);
  EXPECT_EQ(out->reply->stats.answered, 1u);
  EXPECT_EQ(out->reply->stats.timeouts, 1u);
  EXPECT_TRUE(out->reply->outputs.bytes.empty());
}

TEST_F(GateTest, TimeoutAfterKMinEndsTheForwardEarly) {
  auto g = config();
  g.k_min = 1;
  g.forward_timeout_s = 30;
  auto gate = make_gate(g, mode::hang);
  auto out = forward(gate, torch::ones({2, 4}));
  EXPECT_FALSE(out->done()); // every sample has k_min = 1: grace starts
  advance(400ms);
  EXPECT_FALSE(out->done());
  advance(100ms);
  ASSERT_TRUE(out->reply.has_value());
  EXPECT_EQ(out->reply->stats.answered, 1u);
}

TEST_F(GateTest, ForwardEndsAsSoonAsEveryExpertAnswered) {
  auto gate = make_gate(config(), mode::scale);
  auto x = torch::ones({2, 4});
  auto out = forward(gate, x);
  ASSERT_TRUE(out->reply.has_value()); // no virtual time passed
  auto y = decode(out->reply->outputs);
  EXPECT_TRUE(torch::allclose(y.select(1, 1), x * 2)); // syn.0.1 scales by 2
}

TEST_F(GateTest, PrefixCacheServesRepeatedSearchesUntilItExpires) {
  auto g = config();
  g.cache.expiry_s = 5;
  auto gate = make_gate(g, mode::scale);
  ASSERT_TRUE(forward(gate, torch::ones({1, 4}))->reply);
  EXPECT_EQ(*gets, 1);
  ASSERT_TRUE(forward(gate, torch::ones({1, 4}))->reply);
  EXPECT_EQ(*gets, 1); // the probed prefixes cached
  advance(5s);
  ASSERT_TRUE(forward(gate, torch::ones({1, 4}))->reply);
  EXPECT_EQ(*gets, 2);
}

TEST_F(GateTest, AnswerWithNaNIsDroppedAsAFailure) {
  auto g = config();
  g.k_min = 1;
  auto gate = make_gate(g, mode::nan);
  auto out = forward(gate, torch::ones({2, 4}));
  ASSERT_TRUE(out->reply.has_value());
  auto y = decode(out->reply->outputs);
  EXPECT_FALSE(torch::isnan(y).any().item<bool>());
  EXPECT_EQ(out->reply->stats.anomalies, 1u);
  EXPECT_EQ(out->reply->routing.slot_ok[1], 0);
}

TEST_F(GateTest, UnreachableNodeIsSkippedUntilDeclaredAgain) {
  auto g = config();
  g.k_min = 1;
  g.unreachable_skip_s = 10;
  auto gate = make_gate(g, mode::dead);
  auto first = forward(gate, torch::ones({2, 4}));
  ASSERT_TRUE(first->reply.has_value());
  EXPECT_EQ(first->reply->stats.asked, 2u);
  EXPECT_EQ(first->reply->stats.answered, 1u);
  auto second = forward(gate, torch::ones({2, 4}));
  ASSERT_TRUE(second->reply.has_value());
  EXPECT_EQ(second->reply->stats.asked, 1u); // only the live node
  EXPECT_EQ(second->reply->stats.answered, 1u);
  advance(60s); // its records linger in the DHT, unchanged: still skipped
  auto third = forward(gate, torch::ones({2, 4}));
  ASSERT_TRUE(third->reply.has_value());
  EXPECT_EQ(third->reply->stats.asked, 1u);
  EXPECT_EQ(*gets, 2); // the cache expired: the prefixes fetched again
  declare(2e12); // the node declared itself again
  advance(6s);   // past the prefix cache's expiry
  auto fourth = forward(gate, torch::ones({2, 4}));
  ASSERT_TRUE(fourth->reply.has_value());
  EXPECT_EQ(fourth->reply->stats.asked, 1u); // skipped while its ping runs
  auto fifth = forward(gate, torch::ones({2, 4}));
  ASSERT_TRUE(fifth->reply.has_value());
  EXPECT_EQ(fifth->reply->stats.asked, 2u); // the ping was answered: eligible
}

TEST_F(GateTest, NodeLostByConnectionsIsSkippedByTheNextForward) {
  log_capture sup{"supervisor"};
  auto g = config();
  g.k_min = 1;
  auto gate = make_gate(g, mode::scale);
  ASSERT_EQ(forward(gate, torch::ones({2, 4}))->reply->stats.asked, 2u);
  conns->mark_lost(slow, "hung", 2500);
  conns->mark_lost(slow, "hung", 3000); // the same loss: reported once
  EXPECT_EQ(sup.count("event=node_down endpoint=" + slow.to_string() + " reason=hung"
                      " silent_ms=2500"), 1u) << sup.text();
  EXPECT_EQ(sup.count("event=node_down"), 1u);
  auto next = forward(gate, torch::ones({2, 4}));
  ASSERT_TRUE(next->reply.has_value());
  EXPECT_EQ(next->reply->stats.asked, 1u);
  EXPECT_EQ(next->reply->stats.answered, 1u);
  // Connected again (by anyone): eligible at once, and reported as up.
  conns->adopt(slow, sys.spawn(fake_server, mode::scale));
  EXPECT_EQ(sup.count("event=node_up endpoint=" + slow.to_string()), 1u) << sup.text();
  EXPECT_EQ(forward(gate, torch::ones({2, 4}))->reply->stats.asked, 2u);
}

/// A fan-out of one forward to `fast` and one to `slow`, deadline 10 s.
struct fanout_run {
  std::shared_ptr<fanout_result> out = std::make_shared<fanout_result>();
  std::shared_ptr<bool> done = std::make_shared<bool>(false);
};

fanout_run start_fanout(caf::actor_system& sys, node_connections& conns, const endpoint& a,
                        const endpoint& b) {
  fanout_run run;
  fanout_spec spec;
  auto x = tensor_blob{*wire::encode_tensor(torch::ones({1, 4}))};
  spec.calls.push_back({a, forward_request{"syn.0.0", {x}}});
  spec.calls.push_back({b, forward_request{"syn.0.1", {x}}});
  spec.deadline = sys.clock().now() + 10s;
  auto fan = spawn_fanout(sys, conns, std::move(spec), run.out);
  auto done = run.done;
  sys.spawn([=](caf::event_based_actor* self) {
    self->request(fan, caf::infinite, run_atom::value).then([=](done_atom) { *done = true; });
  });
  return run;
}

TEST_F(GateTest, FanoutFailsCallsToAHungNodeAtOnce) {
  log_capture sup{"supervisor"};
  conns->adopt(fast, sys.spawn(fake_server, mode::scale));
  auto server = sys.spawn(fake_server, mode::hang); // held: a hung node's proxy lives on
  conns->adopt(slow, server);
  auto run = start_fanout(sys, *conns, fast, slow);
  sched.run();
  EXPECT_FALSE(*run.done); // waits for the hung node ...
  conns->mark_lost(slow, "hung", 2500); // ... until liveness gives up on it
  sched.run();             // no virtual time passes
  ASSERT_TRUE(*run.done);
  EXPECT_TRUE(run.out->answers[0]);
  ASSERT_FALSE(run.out->answers[1]);
  auto& err = run.out->answers[1].error();
  EXPECT_EQ(code_of(err), errc::unreachable);
  EXPECT_NE(context_of(err).find("node " + slow.to_string() + " unreachable (hung"),
            std::string::npos)
    << describe(err);
  EXPECT_EQ(sup.count("event=node_down endpoint=" + slow.to_string() + " reason=hung"), 1u)
    << sup.text();
}

TEST_F(GateTest, FanoutFailsCallsToANodeWhoseProxyDiedAtOnce) {
  log_capture sup{"supervisor"};
  conns->adopt(fast, sys.spawn(fake_server, mode::scale));
  auto server = sys.spawn(fake_server, mode::hang);
  conns->adopt(slow, server);
  auto run = start_fanout(sys, *conns, fast, slow);
  sched.run();
  EXPECT_FALSE(*run.done);
  // What CAF does to a proxy when the connection drops (here a local fake).
  caf::anon_send_exit(server, caf::exit_reason::kill);
  sched.run();
  ASSERT_TRUE(*run.done);
  EXPECT_TRUE(run.out->answers[0]);
  ASSERT_FALSE(run.out->answers[1]);
  EXPECT_EQ(code_of(run.out->answers[1].error()), errc::unreachable)
    << describe(run.out->answers[1].error());
  EXPECT_TRUE(conns->lost(slow));
  EXPECT_EQ(sup.count("event=node_down endpoint=" + slow.to_string()
                      + " reason=connection_lost"), 1u) << sup.text();
}

TEST_F(GateTest, AutoGraceWaitsForAnswersAtTheMeasuredLatency) {
  auto g = config();
  g.k_min = 1;
  g.forward_timeout_s = 30;
  g.timeout_after_k_min_s = 0.1; // until 8 answers were measured
  g.grace_auto = true;
  g.grace_probe_every = 1000;
  auto gate = make_gate(g, mode::late);
  // Probes (4 x 0.1 s grace) measure the fast (0 ms) and late (300 ms) answers.
  for (int i = 0; i < 4; ++i) {
    auto probe = forward(gate, torch::ones({2, 4}));
    advance(late_by);
    ASSERT_TRUE(probe->reply.has_value()) << i;
    EXPECT_EQ(probe->reply->stats.answered, 2u) << i;
  }
  // Learned grace = the 95th percentile, 300 ms: the fixed 100 ms would
  // have abandoned the late expert.
  auto out = forward(gate, torch::ones({2, 4}));
  advance(late_by - 10ms);
  EXPECT_FALSE(out->done());
  advance(10ms);
  ASSERT_TRUE(out->reply.has_value());
  EXPECT_EQ(out->reply->stats.answered, 2u);
  EXPECT_EQ(out->reply->stats.timeouts, 0u);
}

TEST_F(GateTest, AutoGraceEndsAForwardWhoseExpertHangsAtTheMeasuredLatency) {
  auto g = config();
  g.k_min = 1;
  g.forward_timeout_s = 30;
  g.timeout_after_k_min_s = 5;
  g.grace_auto = true;
  g.grace_probe_every = 1000;
  auto gate = make_gate(g, mode::hang);
  // Probes wait 4 x 5 s = 20 s each; each measures one 0 ms answer.
  for (int i = 0; i < 8; ++i) {
    auto probe = forward(gate, torch::ones({1, 4}));
    advance(19s);
    EXPECT_FALSE(probe->done()) << i;
    advance(1s);
    ASSERT_TRUE(probe->reply.has_value()) << i;
  }
  // Measured latency 0 ms: the grace is its floor (10 ms), not 5 s.
  auto out = forward(gate, torch::ones({1, 4}));
  advance(10ms);
  ASSERT_TRUE(out->reply.has_value());
  EXPECT_EQ(out->reply->stats.answered, 1u);
  EXPECT_EQ(out->reply->stats.timeouts, 1u);
}
