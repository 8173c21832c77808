// Pure logic of actors/averaging (no actor system): the config parser, the
// tensor layout and part codec, a reducer's bounded sum, a member's
// attempts and re-reduction, and matchmaking; plus a serialization round
// trip of every averaging message type.
#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>

#include "actors/averaging/allreduce_state.hpp"
#include "actors/averaging/averaging_config.hpp"
#include "actors/averaging/matchmaking.hpp"
#include "actors/averaging/reduce_state.hpp"
#include "actors/averaging/tensors.hpp"
#include "messages/errc.hpp"
#include "runtime/system_config.hpp"

using namespace colony;
using namespace colony::averaging;

namespace {

std::vector<named_tensor> two_tensors(float base) {
  return {{"w", {2, 3}, {base, base + 1, base + 2, base + 3, base + 4, base + 5}},
          {"b", {3}, {-base, 0.5f * base, 7}}};
}

} // namespace

TEST(AveragingConfigTest, ParsesEveryKeyAndDefaults) {
  auto cfg = parse_averaging_config("run: mnist\nevery_steps: 50\nevery_s: 2.5\ngroup_size: 4\n"
                                    "join_window_s: 1\nround_timeout_s: 10\n"
                                    "compression: float16\nmin_group: 3\n");
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->run, "mnist");
  EXPECT_EQ(cfg->every_steps, 50u);
  EXPECT_DOUBLE_EQ(cfg->every_s, 2.5);
  EXPECT_EQ(cfg->group_size, 4u);
  EXPECT_EQ(cfg->compression, wire::compression::float16);
  EXPECT_EQ(cfg->min_group, 3u);
  auto defaults = parse_averaging_config("run: x");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->group_size, 16u);
  EXPECT_DOUBLE_EQ(defaults->join_window_s, 2);
  EXPECT_DOUBLE_EQ(defaults->round_timeout_s, 30);
  EXPECT_EQ(defaults->compression, wire::compression::none);
  EXPECT_EQ(defaults->min_group, 2u);
}

TEST(AveragingConfigTest, NamesTheKeyOfABadValue) {
  auto expect_bad = [](const std::string& text, const std::string& key) {
    auto cfg = parse_averaging_config(text);
    ASSERT_FALSE(cfg) << text;
    EXPECT_EQ(code_of(cfg.error()), errc::bad_config);
    EXPECT_NE(context_of(cfg.error()).find("averaging." + key), std::string::npos)
      << describe(cfg.error());
  };
  expect_bad("every_steps: 3", "run");
  expect_bad("run: x\ngroup_size: 0", "group_size");
  expect_bad("run: x\ncompression: zip", "compression");
  expect_bad("run: x\nevery_s: -1", "every_s");
  expect_bad("run: x\njoin_window_s: soon", "join_window_s");
  expect_bad("run: x\ngroup_size: 2\nmin_group: 3", "min_group");
  auto unknown = parse_averaging_config("run: x\ncolour: red");
  ASSERT_FALSE(unknown);
  EXPECT_NE(context_of(unknown.error()).find("unknown key 'colour' in averaging"),
            std::string::npos) << describe(unknown.error());
  EXPECT_FALSE(parse_averaging_config("run: [unclosed"));
}

TEST(AveragingConfigTest, DueByStepsOrSeconds) {
  averaging_config cfg;
  cfg.run = "x";
  EXPECT_FALSE(due(cfg, 1000, 1000)); // both off
  cfg.every_steps = 10;
  EXPECT_FALSE(due(cfg, 9, 1000));
  EXPECT_TRUE(due(cfg, 10, 0));
  cfg.every_s = 5;
  EXPECT_TRUE(due(cfg, 0, 5));
  EXPECT_FALSE(due(cfg, 3, 4.9));
}

TEST(AveragingTensorsTest, FlattensSplitsAndRestores) {
  auto xs = two_tensors(1);
  auto l = layout_of(xs);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->total, 9u);
  EXPECT_EQ(l->to_string(), "w[2, 3], b[3]");
  auto flat = flatten(xs, l->total);
  auto back = unflatten(*l, flat);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].values, xs[0].values);
  EXPECT_EQ(back[1].shape, xs[1].shape);
  uint64_t covered = 0;
  for (uint32_t i = 0; i < 4; ++i) {
    auto r = part_of(9, 4, i);
    EXPECT_EQ(r.begin, covered);
    covered = r.end;
  }
  EXPECT_EQ(covered, 9u);
  EXPECT_EQ(part_count(9, 3, 4 << 20), 3u);
  EXPECT_EQ(part_count(3000, 3, 4000), 3u);  // 1000 floats per part
  EXPECT_EQ(part_count(3001, 3, 4000), 6u);  // a second round of parts
}

TEST(AveragingTensorsTest, LayoutDependsOnNamesAndShapes) {
  auto a = layout_of(two_tensors(1));
  auto renamed = two_tensors(2);
  renamed[1].name = "bias";
  auto reshaped = two_tensors(3);
  reshaped[0].shape = {3, 2};
  EXPECT_EQ(a->hash(), layout_of(two_tensors(5))->hash());
  EXPECT_NE(a->hash(), layout_of(renamed)->hash());
  EXPECT_NE(a->hash(), layout_of(reshaped)->hash());
  auto wrong = two_tensors(1);
  wrong[0].values.pop_back();
  EXPECT_EQ(code_of(layout_of(wrong).error()), errc::bad_shape);
  auto twice = two_tensors(1);
  twice[1].name = "w";
  EXPECT_EQ(code_of(layout_of(twice).error()), errc::bad_request);
}

TEST(AveragingTensorsTest, PartCodecRefusesWrongSizes) {
  std::vector<float> xs{1.5f, -2, 3.25f, 4};
  auto bytes = encode_part(xs.data(), xs.size(), wire::compression::none);
  ASSERT_TRUE(bytes);
  auto ok = decode_part(*bytes, 4);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, xs);
  auto small = decode_part(*bytes, 3);
  ASSERT_FALSE(small);
  EXPECT_EQ(code_of(small.error()), errc::bad_shape) << describe(small.error());
  auto big = decode_part(*bytes, 5);
  ASSERT_FALSE(big);
  EXPECT_EQ(code_of(big.error()), errc::bad_shape) << describe(big.error());
  EXPECT_FALSE(decode_part("garbage bytes", 4));
  auto half = encode_part(xs.data(), xs.size(), wire::compression::float16);
  auto back = decode_part(*half, 4);
  ASSERT_TRUE(back);
  for (size_t i = 0; i < xs.size(); ++i)
    EXPECT_NEAR((*back)[i], xs[i], 1e-3);
  auto q = encode_part(xs.data(), xs.size(), wire::compression::uint8);
  auto qb = decode_part(*q, 4);
  ASSERT_TRUE(qb);
  for (size_t i = 0; i < xs.size(); ++i)
    EXPECT_NEAR((*qb)[i], xs[i], 6.25 / 255 + 1e-6);
}

TEST(ReduceStateTest, WeightsContributionsAndCompletes) {
  reduce_state rs{0, 2, 3};
  EXPECT_FALSE(rs.add(0, 1, {1, 2}));
  EXPECT_FALSE(rs.complete());
  EXPECT_FALSE(rs.add(2, 3, {5, 6}));
  rs.drop(1);
  EXPECT_TRUE(rs.complete());
  auto m = rs.mean();
  EXPECT_FLOAT_EQ(m[0], (1 + 15) / 4.0f);
  EXPECT_FLOAT_EQ(m[1], (2 + 18) / 4.0f);
  EXPECT_EQ(rs.contributors(), (std::vector<uint32_t>{0, 2}));
}

TEST(ReduceStateTest, RefusesWrongSizesRepeatsAndStrangers) {
  reduce_state rs{1, 2, 2};
  auto wrong = rs.add(0, 1, {1, 2, 3});
  EXPECT_EQ(code_of(wrong), errc::bad_shape);
  EXPECT_NE(context_of(wrong).find("want 2 values, got 3"), std::string::npos);
  EXPECT_FALSE(rs.waits_for(0)); // refused: no longer waited for
  EXPECT_EQ(code_of(rs.add(0, 1, {1, 2})), errc::bad_request);
  EXPECT_EQ(code_of(rs.add(7, 1, {1, 2})), errc::bad_request);
  EXPECT_EQ(code_of(rs.add(1, -1, {1, 2})), errc::bad_request);
  EXPECT_TRUE(rs.complete());
  EXPECT_TRUE(rs.contributors().empty());
}

TEST(AllreduceStateTest, ReReducesOrphanedPartsAtTheNextMember) {
  allreduce_state ar{{1, 2, 3, 4, 5, 6}, 3, 3, 1, 2};
  EXPECT_EQ(ar.reducer_of(2, 0), 2u);
  EXPECT_EQ(ar.reducer_of(2, 1), 0u);
  EXPECT_EQ(ar.reducer_of(2, 2), 1u);
  EXPECT_FALSE(ar.accept(0, {10, 20}, {0, 1}));
  EXPECT_FALSE(ar.accept(1, {30, 40}, {0, 1}));
  EXPECT_EQ(code_of(ar.accept(2, {1}, {0, 1})), errc::bad_shape);
  EXPECT_EQ(ar.missing(), (std::vector<uint32_t>{2}));
  ASSERT_TRUE(ar.next_attempt());
  EXPECT_EQ(ar.attempt(), 1u);
  EXPECT_FALSE(ar.accept(2, {50, 60}, {0, 1}));
  EXPECT_TRUE(ar.done());
  EXPECT_EQ(ar.result(), (std::vector<float>{10, 20, 30, 40, 50, 60}));
  EXPECT_EQ(ar.delivered(), (std::vector<uint32_t>{0, 1}));
  EXPECT_FALSE(ar.next_attempt());
}

TEST(AllreduceStateTest, RetriesAreBounded) {
  allreduce_state ar{{1, 2}, 2, 2, 0, 5};
  EXPECT_TRUE(ar.next_attempt());
  EXPECT_FALSE(ar.next_attempt()); // only 2 members: no third reducer
  allreduce_state none{{1, 2, 3}, 3, 3, 0, 0};
  EXPECT_FALSE(none.next_attempt());
}

TEST(MatchmakingTest, LeaderIsTheSmallestReadyEndpoint) {
  EXPECT_EQ(choose_leader({"127.0.0.1:5002", "127.0.0.1:5001"}, "127.0.0.1:5003"),
            "127.0.0.1:5001");
  EXPECT_EQ(choose_leader({}, "127.0.0.1:5003"), "127.0.0.1:5003");
  EXPECT_EQ(choose_leader({"", "b"}, "a"), "a");
}

TEST(MatchmakingTest, LeaderFormsABoundedGroupOfTheSameLayout) {
  leader_state l{"b:1", "run", 42, 3, 2};
  EXPECT_EQ(code_of(l.close(1, 1).error()), errc::timeout);
  EXPECT_FALSE(l.join({"run", "c:1", 42}));
  EXPECT_FALSE(l.join({"run", "c:1", 42})); // repeated: once
  EXPECT_EQ(code_of(l.join({"run", "d:1", 41})), errc::bad_shape);
  EXPECT_EQ(code_of(l.join({"other", "d:1", 42})), errc::bad_request);
  EXPECT_FALSE(l.join({"run", "a:1", 42}));
  EXPECT_EQ(code_of(l.join({"run", "e:1", 42})), errc::bad_request); // full
  auto g = l.close(99, 6);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->members, (std::vector<std::string>{"a:1", "b:1", "c:1"}));
  EXPECT_EQ(*check_group(*g, "c:1", 3), 2u);
  EXPECT_FALSE(check_group(*g, "z:1", 3));
  EXPECT_FALSE(check_group(*g, "c:1", 2));
  auto odd = *g;
  odd.parts = 4;
  EXPECT_FALSE(check_group(odd, "c:1", 3));
}

class AveragingMessageRoundTrip : public ::testing::Test {
protected:
  AveragingMessageRoundTrip() : sys_(cfg_) {}

  template <class T>
  void round_trip(T x, const std::string& name) {
    caf::binary_serializer::container_type buf;
    caf::binary_serializer sink{sys_, buf};
    EXPECT_FALSE(sink(x));
    T result{};
    caf::binary_deserializer source{sys_, buf};
    EXPECT_FALSE(source(result));
    EXPECT_EQ(caf::deep_to_string(result), caf::deep_to_string(x));
    // registered: the type can travel inside a message between nodes
    EXPECT_TRUE(sys_.types().make_value(name)) << name;
  }

  system_config cfg_;
  caf::actor_system sys_;
};

TEST_F(AveragingMessageRoundTrip, EveryTypeSurvives) {
  std::string bin{"\0\x01\xff bytes", 9};
  round_trip(avg_join{"run", "127.0.0.1:4000", 0xdeadbeefcafeull}, "colony.avg_join");
  round_trip(avg_group{7, {"a:1", "b:2"}, 4}, "colony.avg_group");
  round_trip(avg_part{7, 3, 1, 2, 0.125, 99, bin}, "colony.avg_part");
  round_trip(avg_part_result{7, 3, 1, {0, 2}, bin}, "colony.avg_part_result");
  round_trip(avg_state_request{"run", 5}, "colony.avg_state_request");
  round_trip(avg_state_chunk{9, {"w", "b"}, {{2, 3}, {3}}, 1, 2, 4096, bin},
             "colony.avg_state_chunk");
}
