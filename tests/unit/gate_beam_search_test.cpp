#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "actors/gate/beam_search.hpp"
#include "messages/errc.hpp"
#include "messages/expert_uid.hpp"

using namespace colony;
using namespace colony::gate;

namespace {

using alive_map = std::map<std::string, endpoint>;
using directory = std::map<std::string, successor_map>;
using results = std::vector<std::vector<expert_choice>>;

/// A distinct endpoint per expert index.
endpoint endpoint_of(size_t index) {
  return {"10.0." + std::to_string(index / 200) + "." + std::to_string(index % 200),
          static_cast<uint16_t>(7000 + index % 1000)};
}

/// The DHT a node would hold for `alive`: each prefix key -> its live next
/// coordinates, each with the endpoint of an expert below. The root holds
/// entries only for one-dimensional uids (as dht::declaration_items).
directory directory_of(const alive_map& alive) {
  directory dir;
  for (const auto& [uid, ep] : alive) {
    auto parsed = parse_uid(uid);
    if (!parsed)
      continue;
    std::vector<int64_t> head;
    for (auto c : parsed->coords) {
      if (!head.empty() || parsed->coords.size() == 1)
        dir[make_prefix_key(parsed->prefix, head)][c] = ep;
      head.push_back(c);
    }
  }
  return dir;
}

/// The prefix keys of the `n` best first coordinates of `row` (ties by
/// decimal text), sorted as pending_keys() sorts.
std::vector<std::string> best_first_level(const grid_spec& grid, const std::vector<float>& row,
                                          size_t n) {
  std::vector<int64_t> coords(grid.dims[0]);
  std::iota(coords.begin(), coords.end(), 0);
  std::stable_sort(coords.begin(), coords.end(), [&](int64_t a, int64_t b) {
    return row[static_cast<size_t>(a)] > row[static_cast<size_t>(b)];
  });
  std::vector<std::string> keys;
  for (size_t i = 0; i < n; ++i)
    keys.push_back(prefix_key(grid, {coords[i]}));
  std::sort(keys.begin(), keys.end());
  return keys;
}

/// Every expert of the product sets[0] x sets[1] x ... of `grid`.
alive_map product(const grid_spec& grid, const std::vector<std::vector<int64_t>>& sets) {
  alive_map alive;
  std::vector<std::vector<int64_t>> partial{{}};
  for (const auto& set : sets) {
    std::vector<std::vector<int64_t>> next;
    for (const auto& head : partial)
      for (auto c : set) {
        next.push_back(head);
        next.back().push_back(c);
      }
    partial = std::move(next);
  }
  for (const auto& coords : partial)
    alive.emplace(uid_of(grid, coords), endpoint_of(alive.size()));
  return alive;
}

/// `n` rows of seeded uniform scores in [-1, 1).
std::vector<std::vector<float>> random_scores(const grid_spec& grid, size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1, 1);
  auto row_size = std::accumulate(grid.dims.begin(), grid.dims.end(), size_t{0});
  std::vector<std::vector<float>> rows(n, std::vector<float>(row_size));
  for (auto& row : rows)
    for (auto& x : row)
      x = dist(gen);
  return rows;
}

/// `n` distinct coordinates of [0, size), seeded.
std::vector<int64_t> random_subset(int64_t size, size_t n, uint32_t seed) {
  std::vector<int64_t> all(static_cast<size_t>(size));
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), std::mt19937(seed));
  all.resize(n);
  return all;
}

/// Runs `search` to the end, answering each round's keys from `dir` with one
/// batched get; returns the keys of each get.
std::vector<std::vector<std::string>> run(beam_search& search, const directory& dir) {
  std::vector<std::vector<std::string>> gets;
  while (!search.done() && gets.size() < 100) {
    auto keys = search.pending_keys();
    directory found;
    for (const auto& key : keys)
      if (auto it = dir.find(key); it != dir.end())
        found.emplace(key, it->second);
    gets.push_back(keys);
    search.feed(found);
  }
  return gets;
}

void expect_same(const results& got, const results& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t b = 0; b < got.size(); ++b) {
    ASSERT_EQ(got[b].size(), want[b].size()) << "sample " << b;
    for (size_t i = 0; i < got[b].size(); ++i) {
      EXPECT_EQ(got[b][i].uid, want[b][i].uid) << "sample " << b << " rank " << i;
      EXPECT_EQ(got[b][i].ep, want[b][i].ep) << got[b][i].uid;
      EXPECT_EQ(got[b][i].coords, want[b][i].coords) << got[b][i].uid;
      EXPECT_NEAR(got[b][i].score, want[b][i].score, 1e-6) << got[b][i].uid;
    }
  }
}

std::vector<std::string> uids_of(const std::vector<expert_choice>& xs) {
  std::vector<std::string> out;
  for (const auto& x : xs)
    out.push_back(x.uid);
  return out;
}

} // namespace

TEST(BeamSearchTest, UidAndPrefixKeyFollowTheUidGrammar) {
  grid_spec grid{"ffn", {8, 8}};
  EXPECT_EQ(uid_of(grid, {3, 7}), "ffn.3.7");
  EXPECT_EQ(prefix_key(grid, {}), "ffn.");
  EXPECT_EQ(prefix_key(grid, {3}), "ffn.3.");
}

TEST(BeamSearchTest, EqualsExhaustiveOnDenseSubGridOfLargerGrid) {
  grid_spec grid{"ffn", {32, 32, 32}};
  auto alive = product(grid, {random_subset(32, 10, 1), random_subset(32, 10, 2),
                              random_subset(32, 10, 3)});
  ASSERT_EQ(alive.size(), 1000u);
  auto scores = random_scores(grid, 20, 42);
  beam_search search(grid, scores, 4, 4);
  auto gets = run(search, directory_of(alive));
  // The probe of the first dimension (4, 8, 16, 32 prefixes at most), then
  // one get for the third; the second comes with the probe's answers.
  EXPECT_GE(gets.size(), 2u);
  EXPECT_LE(gets.size(), 5u);
  auto got = search.result();
  for (const auto& xs : got)
    EXPECT_EQ(xs.size(), 4u);
  expect_same(got, exhaustive_top_k(grid, scores, alive, 4));
}

TEST(BeamSearchTest, EqualsExhaustiveWhenMissingExpertsFormDenseSubGrid) {
  grid_spec grid{"ffn", {8, 8}};
  auto alive = product(grid, {{1, 3, 4}, {0, 2, 5}});
  auto scores = random_scores(grid, 16, 7);
  for (size_t k : {1, 4, 9}) {
    beam_search search(grid, scores, k, k);
    run(search, directory_of(alive));
    expect_same(search.result(), exhaustive_top_k(grid, scores, alive, k));
  }
}

TEST(BeamSearchTest, EqualsExhaustiveOnFullGridWithLargeBatch) {
  grid_spec grid{"ffn", {64, 64}};
  std::vector<int64_t> all(64);
  std::iota(all.begin(), all.end(), 0);
  auto alive = product(grid, {all, all});
  auto scores = random_scores(grid, 256, 11);
  beam_search search(grid, scores, 4, 8);
  EXPECT_EQ(run(search, directory_of(alive)).size(), 1u); // the probe answers both dims
  expect_same(search.result(), exhaustive_top_k(grid, scores, alive, 4));
}

TEST(BeamSearchTest, TiesAreBrokenByUidAscendingLikeExhaustive) {
  grid_spec grid{"ffn", {16, 16}};
  auto alive = product(grid, {{2, 9, 10, 11, 12}, {1, 3, 10}});
  std::vector<std::vector<float>> scores(2, std::vector<float>(32, 0.f));
  beam_search search(grid, scores, 5, 5);
  run(search, directory_of(alive));
  auto got = search.result();
  EXPECT_EQ(uids_of(got[0]), (std::vector<std::string>{"ffn.10.1", "ffn.10.10", "ffn.10.3",
                                                       "ffn.11.1", "ffn.11.10"}));
  expect_same(got, exhaustive_top_k(grid, scores, alive, 5));
}

TEST(BeamSearchTest, ProbesTheBestFirstLevelPrefixesThenOneBatchedGetPerLaterDimension) {
  grid_spec grid{"ffn", {6, 6, 6}};
  std::vector<int64_t> all{0, 1, 2, 3, 4, 5};
  auto alive = product(grid, {all, all, all});
  auto row = random_scores(grid, 1, 5).front();
  beam_search search(grid, {row, row}, 4, 4);
  auto gets = run(search, directory_of(alive));
  // No root: the first get asks for the 4 best first coordinates' prefixes,
  // whose answers are also the second dimension's; the third takes one more.
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_EQ(search.round(), 3u);
  EXPECT_TRUE(search.done());
  EXPECT_EQ(gets[0], best_first_level(grid, row, 4));
  for (const auto& keys : gets) {
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
    EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
  }
  // Both samples share their beams: the later get holds one beam's keys.
  EXPECT_EQ(gets[1].size(), 4u);
  auto got = search.result();
  EXPECT_EQ(uids_of(got[0]), uids_of(got[1]));
  expect_same(got, exhaustive_top_k(grid, {row, row}, alive, 4));
  EXPECT_TRUE(search.pending_keys().empty());
}

TEST(BeamSearchTest, ASparseFirstDimensionDoublesTheProbeUntilTheBeamIsFull) {
  // Only 5 of 256 first coordinates are live, and the sample scores them
  // worst: the probe asks for 4, 8, 16, ... prefixes, never more rounds
  // than doublings to cover the dimension, and finds the exact top-k.
  grid_spec grid{"ffn", {256, 8}};
  std::vector<int64_t> rows{250, 251, 252, 253, 254};
  auto alive = product(grid, {rows, {0, 1, 2, 3, 4, 5, 6, 7}});
  std::vector<float> row(256 + 8);
  for (size_t c = 0; c < 256; ++c)
    row[c] = 1.f - static_cast<float>(c) / 256.f;
  for (size_t c = 0; c < 8; ++c)
    row[256 + c] = static_cast<float>(c % 3);
  beam_search search(grid, {row}, 4, 4);
  auto gets = run(search, directory_of(alive));
  ASSERT_TRUE(search.done());
  EXPECT_LE(gets.size(), 7u); // 4 + 8 + ... + 128 < 256 <= 4 + ... + 256
  EXPECT_GE(gets.size(), 6u);
  for (size_t i = 0; i + 1 < gets.size(); ++i)
    EXPECT_EQ(gets[i].size(), 4u << i) << "get " << i;
  expect_same(search.result(), exhaustive_top_k(grid, {row}, alive, 4));
}

TEST(BeamSearchTest, OneDimensionalGridNeedsOneRound) {
  grid_spec grid{"expert", {16}};
  auto alive = product(grid, {{0, 3, 7, 8, 15}});
  auto scores = random_scores(grid, 4, 9);
  beam_search search(grid, scores, 3, 3);
  auto gets = run(search, directory_of(alive));
  EXPECT_EQ(gets, (std::vector<std::vector<std::string>>{{"expert."}}));
  EXPECT_EQ(search.round(), 1u);
  expect_same(search.result(), exhaustive_top_k(grid, scores, alive, 3));
}

TEST(BeamSearchTest, IgnoresOutOfRangeAndNegativeCoordinatesInAnswers) {
  grid_spec grid{"ffn", {4, 4}};
  endpoint ep{"h", 1};
  beam_search search(grid, {std::vector<float>(8, 1.f)}, 4, 4);
  EXPECT_EQ(search.pending_keys(),
            (std::vector<std::string>{"ffn.0.", "ffn.1.", "ffn.2.", "ffn.3."}));
  // ffn.1. names only coordinates outside [0, 4): not live.
  search.feed({{"ffn.1.", {{-1, ep}, {4, ep}, {100, ep}}},
               {"ffn.2.", {{-3, ep}, {1, {"h", 2}}, {7, ep}}},
               {"other.", {{1, ep}}}});
  ASSERT_TRUE(search.done());
  auto got = search.result();
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].size(), 1u);
  EXPECT_EQ(got[0][0].uid, "ffn.2.1");
  EXPECT_EQ(got[0][0].ep, (endpoint{"h", 2}));
  EXPECT_FLOAT_EQ(got[0][0].score, 2.f);
}

TEST(BeamSearchTest, AGridWithNoExpertsIsDoneOnceEveryFirstLevelPrefixWasProbed) {
  grid_spec grid{"ffn", {8, 8, 8}};
  auto scores = random_scores(grid, 3, 1);
  for (const auto& answer : {directory{}, directory{{"ffn.", {{1, {"h", 1}}}}}}) {
    beam_search search(grid, scores, 4, 4);
    auto gets = run(search, answer);
    EXPECT_TRUE(search.done());
    EXPECT_LE(gets.size(), 2u);
    std::set<std::string> asked;
    for (const auto& keys : gets)
      asked.insert(keys.begin(), keys.end());
    EXPECT_EQ(asked.size(), 8u); // every ffn.c., never the root
    EXPECT_EQ(asked.count("ffn."), 0u);
    EXPECT_EQ(search.round(), 1u);
    EXPECT_TRUE(search.pending_keys().empty());
    auto got = search.result();
    ASSERT_EQ(got.size(), 3u);
    for (const auto& xs : got)
      EXPECT_TRUE(xs.empty());
  }
}

TEST(BeamSearchTest, ReturnsAllAliveWhenFewerThanK) {
  grid_spec grid{"ffn", {8, 8}};
  alive_map alive{{"ffn.0.1", {"a", 1}}, {"ffn.5.5", {"b", 2}}, {"ffn.7.2", {"c", 3}}};
  auto scores = random_scores(grid, 5, 3);
  beam_search search(grid, scores, 8, 8);
  run(search, directory_of(alive));
  auto got = search.result();
  for (const auto& xs : got)
    EXPECT_EQ(xs.size(), 3u);
  expect_same(got, exhaustive_top_k(grid, scores, alive, 8));
}

TEST(BeamSearchTest, EmptyBatchIsDoneAtOnce) {
  beam_search search({"ffn", {4, 4}}, {}, 4, 4);
  EXPECT_TRUE(search.done());
  EXPECT_TRUE(search.pending_keys().empty());
  EXPECT_TRUE(search.result().empty());
}

TEST(BeamSearchTest, ExhaustiveIgnoresForeignMalformedAndOutOfRangeUids) {
  grid_spec grid{"ffn", {8, 8}};
  alive_map alive{{"ffn.1.2", {"a", 1}}, {"att.1.1", {"b", 1}}, {"ffn.1", {"c", 1}},
                  {"ffn.9.1", {"d", 1}}, {"ffn.1.2.3", {"e", 1}}, {"ffn.01.2", {"f", 1}},
                  {"ffn.1.8", {"g", 1}}};
  auto got = exhaustive_top_k(grid, random_scores(grid, 2, 4), alive, 10);
  ASSERT_EQ(got.size(), 2u);
  for (const auto& xs : got)
    EXPECT_EQ(uids_of(xs), (std::vector<std::string>{"ffn.1.2"}));
}

TEST(BeamSearchTest, ValidateGridRejectsBadPrefixNoDimsAndZeroSizeDim) {
  EXPECT_FALSE(validate_grid({"ffn", {64, 64}}));
  EXPECT_FALSE(validate_grid({"_x9", {1}}));
  EXPECT_FALSE(validate_grid({"ffn", std::vector<uint32_t>(8, 65536)}));
  for (const auto& prefix : {"", "3ffn", "ffn.", "ffn.3", "ff n", "ffn-1"}) {
    auto err = validate_grid({prefix, {4}});
    EXPECT_EQ(code_of(err), errc::bad_config) << prefix;
    EXPECT_NE(context_of(err).find("prefix"), std::string::npos) << prefix;
  }
  auto no_dims = validate_grid({"ffn", {}});
  EXPECT_EQ(code_of(no_dims), errc::bad_config);
  EXPECT_NE(context_of(no_dims).find("got 0"), std::string::npos);
  auto zero_dim = validate_grid({"ffn", {4, 0}});
  EXPECT_EQ(code_of(zero_dim), errc::bad_config);
  EXPECT_NE(context_of(zero_dim).find("dim 1"), std::string::npos);
  EXPECT_EQ(code_of(validate_grid({"ffn", {65537}})), errc::bad_config);
  EXPECT_EQ(code_of(validate_grid({"ffn", std::vector<uint32_t>(9, 2)})), errc::bad_config);
}
