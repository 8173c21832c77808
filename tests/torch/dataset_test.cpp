// The trainer data layer: IDX loading (raw and gzip, errors), Fashion-MNIST,
// the synthetic teacher task, shards, the batch sampler and accuracy.
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <zlib.h>

#include "actors/trainer/dataset.hpp"
#include "messages/errc.hpp"

using namespace colony;
using namespace colony::trainer;

namespace {

using bytes = std::vector<uint8_t>;

constexpr uint32_t images_magic = 0x00000803;
constexpr uint32_t labels_magic = 0x00000801;

bytes idx(uint32_t magic, const std::vector<uint32_t>& dims, const bytes& payload) {
  bytes out;
  auto put = [&](uint32_t w) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<uint8_t>(w >> shift));
  };
  put(magic);
  for (auto d : dims)
    put(d);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

/// Three 2x3 images and their labels.
const bytes pixels = {0, 1, 2, 3, 4, 5, 10, 50, 100, 128, 200, 255, 7, 77, 177, 33, 66, 99};
const bytes labels = {3, 0, 9};

float normalized(uint8_t p, double mean, double stddev) {
  return static_cast<float>((p / 255.0 - mean) / stddev);
}

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

class DatasetTest : public testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/colony_dataset_test.XXXXXX";
    if (mkdtemp(tmpl) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }

  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// Writes `data` to `<dir>/<name>`, gzip-compressed when `gz`; returns the path.
  std::string write(const std::string& name, const bytes& data, bool gz = false) {
    auto path = dir_ + "/" + name;
    if (gz) {
      gzFile f = gzopen(path.c_str(), "wb");
      EXPECT_NE(f, nullptr);
      EXPECT_EQ(gzwrite(f, data.data(), static_cast<unsigned>(data.size())),
                static_cast<int>(data.size()));
      gzclose(f);
    } else {
      std::ofstream out(path, std::ios::binary);
      out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    }
    return path;
  }

  std::string images(const bytes& payload = pixels, bool gz = false) {
    return write(gz ? "images.gz" : "images", idx(images_magic, {3, 2, 3}, payload), gz);
  }

  std::string labels_file(const bytes& payload = labels, bool gz = false) {
    return write(gz ? "labels.gz" : "labels",
                 idx(labels_magic, {static_cast<uint32_t>(payload.size())}, payload), gz);
  }

  void expect_tiny_pair(const caf::expected<labeled_data>& data, double mean, double stddev) {
    ASSERT_TRUE(data) << describe(data.error());
    ASSERT_EQ(data->size(), 3);
    ASSERT_EQ(data->x.sizes(), (std::vector<int64_t>{3, 6}));
    EXPECT_EQ(data->x.scalar_type(), torch::kFloat32);
    EXPECT_EQ(data->y.scalar_type(), torch::kInt64);
    auto x = data->x.contiguous();
    for (size_t i = 0; i < pixels.size(); ++i)
      EXPECT_EQ(x.data_ptr<float>()[i], normalized(pixels[i], mean, stddev)) << "pixel " << i;
    for (size_t i = 0; i < labels.size(); ++i)
      EXPECT_EQ(data->y[i].item<int64_t>(), labels[i]);
  }

  void expect_malformed(const caf::expected<labeled_data>& data, const std::string& path,
                        const std::string& words) {
    ASSERT_FALSE(data);
    EXPECT_EQ(code_of(data.error()), errc::malformed_payload) << describe(data.error());
    EXPECT_NE(context_of(data.error()).find(path), std::string::npos) << describe(data.error());
    EXPECT_NE(context_of(data.error()).find(words), std::string::npos) << describe(data.error());
  }

  std::string dir_;
};

/// Rows 0..n-1 whose x row and label both equal the row index.
labeled_data indexed_rows(int64_t n) {
  auto y = torch::arange(n, torch::kInt64);
  return labeled_data{y.to(torch::kFloat32).view({n, 1}).repeat({1, 2}), y};
}

std::vector<int64_t> as_vector(const torch::Tensor& t) {
  auto c = t.contiguous().to(torch::kInt64);
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

} // namespace

TEST_F(DatasetTest, LoadsRawIdxPair) {
  expect_tiny_pair(load_idx(images(), labels_file(), 0.5, 0.25), 0.5, 0.25);
}

TEST_F(DatasetTest, LoadsGzippedIdxPair) {
  auto data = load_idx(images(pixels, true), labels_file(labels, true), fashion_mnist_mean,
                       fashion_mnist_std);
  expect_tiny_pair(data, fashion_mnist_mean, fashion_mnist_std);
}

TEST_F(DatasetTest, IgnoresTrailingBytes) {
  auto padded = pixels;
  padded.insert(padded.end(), {1, 2, 3});
  auto padded_labels = labels;
  padded_labels.push_back(200);
  auto lp = write("labels", idx(labels_magic, {3}, padded_labels));
  expect_tiny_pair(load_idx(images(padded, true), lp, 0.0, 1.0), 0.0, 1.0);
}

TEST_F(DatasetTest, MissingFileNamesThePath) {
  auto missing = dir_ + "/no-such-images.gz";
  auto data = load_idx(missing, labels_file(), 0.0, 1.0);
  ASSERT_FALSE(data);
  EXPECT_EQ(code_of(data.error()), errc::io_failed);
  EXPECT_EQ(context_of(data.error()), missing + ": cannot open");
  auto no_labels = load_idx(images(), dir_ + "/no-labels", 0.0, 1.0);
  ASSERT_FALSE(no_labels);
  EXPECT_EQ(context_of(no_labels.error()), dir_ + "/no-labels: cannot open");
}

TEST_F(DatasetTest, BadMagicIsMalformed) {
  auto bad_images = write("bad-images", idx(0x00000804, {3, 2, 3}, pixels));
  expect_malformed(load_idx(bad_images, labels_file(), 0.0, 1.0), bad_images, "bad magic");
  auto swapped = write("swapped", idx(images_magic, {3}, labels), true);
  expect_malformed(load_idx(images(), swapped, 0.0, 1.0), swapped, "bad magic");
}

TEST_F(DatasetTest, TruncatedPayloadIsMalformed) {
  bytes short_pixels(pixels.begin(), pixels.end() - 1);
  for (bool gz : {false, true}) {
    auto path = images(short_pixels, gz);
    expect_malformed(load_idx(path, labels_file(), 0.0, 1.0), path, "truncated");
  }
  auto short_labels = write("short-labels", idx(labels_magic, {3}, {1, 2}));
  expect_malformed(load_idx(images(), short_labels, 0.0, 1.0), short_labels, "truncated");
}

TEST_F(DatasetTest, TruncatedHeaderIsMalformed) {
  auto path = write("header-only", {0, 0, 8, 3, 0, 0, 0, 3, 0, 0});
  expect_malformed(load_idx(path, labels_file(), 0.0, 1.0), path, "truncated header");
}

TEST_F(DatasetTest, HugeClaimWithTinyBodyFailsWithoutAllocating) {
  constexpr uint32_t huge = uint32_t{1} << 31;
  auto lp = write("huge-labels", idx(labels_magic, {huge}, labels));
  auto before = peak_rss_kb();
  for (bool gz : {false, true}) {
    auto ip = write(gz ? "huge.gz" : "huge", idx(images_magic, {huge, 1, 1}, pixels), gz);
    expect_malformed(load_idx(ip, lp, 0.0, 1.0), ip, "truncated payload");
  }
  EXPECT_LT(peak_rss_kb() - before, 256 * 1024) << "peak RSS grew by over 256 MiB";
}

TEST_F(DatasetTest, DimsOver2To31AreMalformed) {
  auto ip = write("too-big", idx(images_magic, {uint32_t{1} << 31, 28, 28}, pixels));
  auto lp = write("big-labels", idx(labels_magic, {uint32_t{1} << 31}, labels));
  expect_malformed(load_idx(ip, lp, 0.0, 1.0), ip, "exceed 2^31");
}

TEST_F(DatasetTest, LabelCountMismatchIsMalformed) {
  auto lp = labels_file({1, 2});
  expect_malformed(load_idx(images(), lp, 0.0, 1.0), lp, "2 labels for 3 images");
}

TEST_F(DatasetTest, LabelOutOfRangeIsMalformed) {
  auto lp = labels_file({1, 10, 2});
  expect_malformed(load_idx(images(), lp, 0.0, 1.0), lp, "label 10 at row 1");
  auto three = load_idx(images(), labels_file(), 0.0, 1.0, 3);
  expect_malformed(three, dir_ + "/labels", "label 3 at row 0");
  auto nine = load_idx(images(), labels_file(), 0.0, 1.0, 10);
  EXPECT_TRUE(nine) << describe(nine.error());
}

TEST_F(DatasetTest, FashionMnistPrefersGzippedFiles) {
  bytes other(pixels.rbegin(), pixels.rend());
  write("t10k-images-idx3-ubyte.gz", idx(images_magic, {3, 2, 3}, pixels), true);
  write("t10k-images-idx3-ubyte", idx(images_magic, {3, 2, 3}, other));
  write("t10k-labels-idx1-ubyte", idx(labels_magic, {3}, labels));
  auto data = load_fashion_mnist(dir_, false);
  expect_tiny_pair(data, fashion_mnist_mean, fashion_mnist_std);
  std::filesystem::remove(dir_ + "/t10k-images-idx3-ubyte.gz");
  auto raw = load_fashion_mnist(dir_, false);
  ASSERT_TRUE(raw) << describe(raw.error());
  EXPECT_EQ(raw->x[0][0].item<float>(),
            normalized(pixels.back(), fashion_mnist_mean, fashion_mnist_std));
  auto train = load_fashion_mnist(dir_, true);
  ASSERT_FALSE(train);
  EXPECT_EQ(context_of(train.error()), dir_ + "/train-images-idx3-ubyte.gz: cannot open");
}

TEST_F(DatasetTest, LoadsFashionMnistTestSet) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir))
    GTEST_SKIP() << dir << " not installed (package dataset-fashion-mnist)";
  auto data = load_fashion_mnist(dir, false);
  ASSERT_TRUE(data) << describe(data.error());
  ASSERT_EQ(data->x.sizes(), (std::vector<int64_t>{10000, 784}));
  ASSERT_EQ(data->y.sizes(), (std::vector<int64_t>{10000}));
  EXPECT_GE(data->y.min().item<int64_t>(), 0);
  EXPECT_LE(data->y.max().item<int64_t>(), 9);
  auto counts = as_vector(torch::bincount(data->y, {}, 10));
  EXPECT_EQ(counts, std::vector<int64_t>(10, 1000));
  EXPECT_NEAR(data->x.mean().item<double>(), 0.0, 0.02);
  EXPECT_NEAR(data->x.std().item<double>(), 1.0, 0.02);
}

TEST_F(DatasetTest, LoadsFashionMnistTrainSet) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir))
    GTEST_SKIP() << dir << " not installed (package dataset-fashion-mnist)";
  auto data = load_fashion_mnist(dir, true);
  ASSERT_TRUE(data) << describe(data.error());
  ASSERT_EQ(data->x.sizes(), (std::vector<int64_t>{60000, 784}));
  EXPECT_EQ(as_vector(torch::bincount(data->y, {}, 10)), std::vector<int64_t>(10, 6000));
  EXPECT_NEAR(data->x.mean().item<double>(), 0.0, 0.01);
}

TEST_F(DatasetTest, SyntheticIsDeterministicGivenSeeds) {
  auto a = make_synthetic(200, 8, 4, 1, 2);
  auto b = make_synthetic(200, 8, 4, 1, 2);
  EXPECT_TRUE(torch::equal(a.x, b.x));
  EXPECT_TRUE(torch::equal(a.y, b.y));
  auto c = make_synthetic(200, 8, 4, 1, 3);
  EXPECT_FALSE(torch::equal(a.x, c.x));
  EXPECT_EQ(a.x.scalar_type(), torch::kFloat32);
  EXPECT_EQ(a.y.scalar_type(), torch::kInt64);
  EXPECT_NEAR(a.x.mean().item<double>(), 0.0, 0.1);
  EXPECT_NEAR(a.x.std().item<double>(), 1.0, 0.1);
}

TEST_F(DatasetTest, SyntheticLabelsFollowASharedTeacher) {
  auto w = synthetic_teacher(8, 4, 11);
  ASSERT_EQ(w.sizes(), (std::vector<int64_t>{8, 4}));
  EXPECT_TRUE(torch::equal(w, synthetic_teacher(8, 4, 11)));
  EXPECT_FALSE(torch::equal(w, synthetic_teacher(8, 4, 12)));
  for (uint64_t sample_seed : {1, 2}) {
    auto d = make_synthetic(1000, 8, 4, 11, sample_seed);
    ASSERT_EQ(d.size(), 1000);
    EXPECT_TRUE(torch::equal(d.y, d.x.to(torch::kFloat64).mm(w).argmax(1)));
    EXPECT_GE(d.y.min().item<int64_t>(), 0);
    EXPECT_LT(d.y.max().item<int64_t>(), 4);
    auto counts = as_vector(torch::bincount(d.y, {}, 4));
    for (auto c : counts)
      EXPECT_GT(c, 50) << "every class appears";
  }
}

TEST_F(DatasetTest, ShardsAreDisjointAndCover) {
  auto data = indexed_rows(10);
  std::vector<int64_t> all;
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < 3; ++i) {
    auto s = shard(data, i, 3);
    sizes.push_back(s.size());
    EXPECT_TRUE(torch::equal(s.x.select(1, 0).to(torch::kInt64), s.y));
    for (auto row : as_vector(s.y)) {
      EXPECT_EQ(static_cast<size_t>(row) % 3, i);
      all.push_back(row);
    }
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 3, 3}));
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, as_vector(torch::arange(10)));
  EXPECT_EQ(shard(data, 3, 3).size(), 0);
  EXPECT_EQ(shard(indexed_rows(2), 2, 4).size(), 0);
}

TEST_F(DatasetTest, SamplerVisitsEachRowOncePerEpoch) {
  batch_sampler sampler{indexed_rows(12), 4, 5};
  for (uint64_t epoch = 0; epoch < 3; ++epoch) {
    std::vector<int64_t> seen;
    for (int b = 0; b < 3; ++b) {
      EXPECT_EQ(sampler.epoch(), epoch);
      auto [x, y] = sampler.next();
      ASSERT_EQ(y.size(0), 4);
      EXPECT_TRUE(torch::equal(x.select(1, 0).to(torch::kInt64), y));
      for (auto row : as_vector(y))
        seen.push_back(row);
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, as_vector(torch::arange(12)));
  }
  EXPECT_EQ(sampler.epoch(), 3u);
  EXPECT_EQ(sampler.samples_seen(), 36);
}

TEST_F(DatasetTest, SamplerDropsTheLastPartialBatch) {
  batch_sampler sampler{indexed_rows(10), 3, 5};
  std::set<int64_t> seen;
  for (int b = 0; b < 3; ++b)
    for (auto row : as_vector(sampler.next().second))
      seen.insert(row);
  EXPECT_EQ(seen.size(), 9u);
  EXPECT_EQ(sampler.epoch(), 1u);
  EXPECT_EQ(sampler.next().second.size(0), 3);
  EXPECT_EQ(sampler.samples_seen(), 12);
}

TEST_F(DatasetTest, SamplerReshufflesBetweenEpochs) {
  batch_sampler sampler{indexed_rows(16), 16, 9};
  auto first = as_vector(sampler.next().second);
  auto second = as_vector(sampler.next().second);
  EXPECT_NE(first, second);
  EXPECT_NE(first, as_vector(torch::arange(16)));
  EXPECT_EQ(sampler.epoch(), 2u);
}

TEST_F(DatasetTest, SamplerIsDeterministicBySeed) {
  batch_sampler a{indexed_rows(20), 6, 42};
  batch_sampler b{indexed_rows(20), 6, 42};
  batch_sampler c{indexed_rows(20), 6, 43};
  bool differs = false;
  for (int i = 0; i < 10; ++i) {
    auto ya = as_vector(a.next().second);
    EXPECT_EQ(ya, as_vector(b.next().second));
    differs = differs || ya != as_vector(c.next().second);
  }
  EXPECT_TRUE(differs);
}

TEST_F(DatasetTest, SamplerYieldsWholeSmallDataAsEachBatch) {
  batch_sampler sampler{indexed_rows(5), 8, 1};
  EXPECT_EQ(sampler.batch_size(), 5);
  for (uint64_t i = 0; i < 3; ++i) {
    auto rows = as_vector(sampler.next().second);
    std::sort(rows.begin(), rows.end());
    EXPECT_EQ(rows, as_vector(torch::arange(5)));
    EXPECT_EQ(sampler.epoch(), i + 1);
  }
  batch_sampler empty{indexed_rows(0), 8, 1};
  EXPECT_EQ(empty.next().first.size(0), 0);
  EXPECT_EQ(empty.epoch(), 0u);
}

TEST_F(DatasetTest, AccuracyCountsArgmaxHits) {
  auto logits = torch::tensor({{0.1f, 0.9f}, {0.8f, 0.2f}, {0.3f, 0.7f}, {0.6f, 0.4f}});
  EXPECT_DOUBLE_EQ(accuracy(logits, torch::tensor({1, 0, 0, 1}, torch::kInt64)), 0.5);
  EXPECT_DOUBLE_EQ(accuracy(logits, torch::tensor({1, 0, 1, 0}, torch::kInt64)), 1.0);
  EXPECT_DOUBLE_EQ(accuracy(torch::empty({0, 2}), torch::empty({0}, torch::kInt64)), 0.0);
}
