// The training data layer of trainers, independent of actors: labeled rows
// (IDX files such as MNIST / Fashion-MNIST, or a synthetic teacher task),
// disjoint shards for data-parallel trainers, an endless reshuffling batch
// sampler and an accuracy metric. All randomness is seeded and uses its own
// generators (std::mt19937_64 with hand-written transforms), so results are
// identical across runs and standard libraries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <torch/types.h>

namespace colony::trainer {

/// Rows and labels: images float32 [N, features] (normalized), labels int64 [N].
struct labeled_data {
  torch::Tensor x;
  torch::Tensor y;

  /// Number of rows N (0 when empty or undefined).
  int64_t size() const;
};

/// Reads an IDX image file (magic 0x00000803, dims N, rows, cols, then N*rows*cols
/// uint8 pixels) and an IDX label file (magic 0x00000801, dim N, then N uint8
/// labels), each gzip-compressed or raw (detected from the content). Pixel p
/// becomes float((p / 255.0 - mean) / stddev), computed in double. Bytes after
/// the payload are ignored. The payload is read incrementally, so a corrupt
/// header never causes a large allocation. Errors: io_failed "<path>: cannot
/// open" (or a read failure); malformed_payload naming the file for a bad
/// magic, a truncated header or payload, N*rows*cols over 2^31, zero-sized
/// images, differing counts, or a label >= num_classes; bad_config for
/// stddev <= 0 or num_classes outside [1, 256].
caf::expected<labeled_data> load_idx(const std::string& images_path,
                                     const std::string& labels_path, double mean,
                                     double stddev, int64_t num_classes = 10);

/// Normalization constants of Fashion-MNIST (the training set's pixel mean
/// and standard deviation, on the [0, 1] scale).
constexpr double fashion_mnist_mean = 0.286;
constexpr double fashion_mnist_std = 0.353;

/// Fashion-MNIST from `dir` (e.g. /usr/share/datasets/fashion-mnist of the
/// Debian package dataset-fashion-mnist): train=true reads
/// train-{images-idx3,labels-idx1}-ubyte (60,000 rows), false t10k-* (10,000
/// rows), 784 features, 10 classes. Each file is taken as "<name>.gz" when that
/// exists, else as the gunzipped "<name>". Errors as load_idx.
caf::expected<labeled_data> load_fashion_mnist(const std::string& dir, bool train);

/// The fixed random teacher of make_synthetic: float64 [features, classes] of
/// N(0, 1) entries drawn from `seed` alone.
torch::Tensor synthetic_teacher(int64_t features, int64_t classes, uint64_t seed);

/// A learnable synthetic classification task for tests and benchmarks:
/// x ~ N(0, 1) float32 [n, features] drawn from (seed, sample_seed), labels
/// int64 argmax(x.double() @ synthetic_teacher(features, classes, seed)). Sets
/// made with one `seed` and different `sample_seed`s share the teacher.
/// Deterministic given (seed, sample_seed).
labeled_data make_synthetic(int64_t n, int64_t features, int64_t classes, uint64_t seed,
                            uint64_t sample_seed);

/// Unbiased uniform integer in [0, bound), bound > 0, by rejection (the
/// same draws on every standard library, unlike std::uniform_int_distribution).
uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound);

/// Shard `index` of `count`: rows index, index + count, index + 2 * count, ...
/// Shards 0..count-1 are disjoint and together cover all rows. Empty (0 rows)
/// when index >= count.
labeled_data shard(const labeled_data& data, size_t index, size_t count);

/// Endless batches of `data`, visiting the rows in a fresh seeded permutation
/// each epoch. A batch has batch_size rows; the last partial batch of an
/// epoch is dropped, except that data with fewer rows than batch_size yields
/// the whole (reshuffled) data as each batch. Invariant: within one epoch no
/// row is returned twice. Not thread-safe.
class batch_sampler {
public:
  /// `batch_size` below 1 is taken as 1. With empty data, next() returns
  /// empty tensors and the epoch never advances.
  batch_sampler(labeled_data data, int64_t batch_size, uint64_t seed);

  /// The next batch (x rows, y labels).
  std::pair<torch::Tensor, torch::Tensor> next();

  /// Number of completed epochs (0 until the last batch of the first epoch
  /// has been returned).
  uint64_t epoch() const { return epoch_; }

  /// Total rows returned by next() so far.
  int64_t samples_seen() const { return samples_seen_; }

  /// Rows per batch: min(batch_size, data rows).
  int64_t batch_size() const { return batch_size_; }

private:
  void reshuffle();

  labeled_data data_;
  int64_t batch_size_;
  std::mt19937_64 rng_;
  std::vector<int64_t> order_;
  int64_t position_ = 0;
  uint64_t epoch_ = 0;
  int64_t samples_seen_ = 0;
};

/// Accuracy of logits [N, C] against labels [N], in [0, 1]: the fraction of
/// rows whose argmax equals the label (0 when N is 0).
double accuracy(const torch::Tensor& logits, const torch::Tensor& labels);

} // namespace colony::trainer
