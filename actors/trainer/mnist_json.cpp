#include "actors/trainer/mnist_json.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "messages/errc.hpp"

namespace colony::trainer {

namespace {

using json = nlohmann::json;

caf::error malformed(const std::string& path, const std::string& why) {
  return make_error(errc::malformed_payload, path + ": " + why);
}

/// Appends the normalized values of `row` (numbers in [0, 1]) to `out`.
caf::error append_values(const json& row, const std::string& path, size_t where,
                         std::vector<float>& out) {
  for (size_t i = 0; i < row.size(); ++i) {
    auto& v = row[i];
    double d = v.is_number() ? v.get<double>() : -1;
    if (!v.is_number() || !(d >= 0 && d <= 1))
      return malformed(path, "value " + v.dump() + " at index " + std::to_string(where + i)
                               + " is not a number in [0, 1]");
    out.push_back(static_cast<float>((d - mnist_mean) / mnist_std));
  }
  return {};
}

/// The values of "data": a flat list (784 * N) or a list of rows.
caf::expected<std::vector<float>> values_of(const json& doc, const std::string& path,
                                            int64_t features) {
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_array())
    return malformed(path, "expected an object with a \"data\" list");
  auto& data = doc["data"];
  auto f = static_cast<size_t>(features);
  std::vector<float> out;
  out.reserve(data.size() * (data.size() && data[0].is_array() ? f : 1));
  if (!data.empty() && data[0].is_array()) {
    for (size_t r = 0; r < data.size(); ++r) {
      if (!data[r].is_array() || data[r].size() != f)
        return malformed(path, "row " + std::to_string(r) + " has "
                                 + (data[r].is_array() ? std::to_string(data[r].size())
                                                       : std::string{"no list of"})
                                 + " values, want " + std::to_string(features));
      if (auto err = append_values(data[r], path, r * f, out))
        return err;
    }
  } else {
    if (data.size() % f != 0)
      return malformed(path, "a flat \"data\" list of " + std::to_string(data.size())
                               + " values is not a multiple of the row length "
                               + std::to_string(features));
    if (auto err = append_values(data, path, 0, out))
      return err;
  }
  if (out.empty())
    return malformed(path, "no rows");
  return out;
}

/// `parts` concatenated, rows reordered by a Fisher-Yates permutation of
/// std::mt19937_64(seed) (portable across standard libraries).
labeled_data shuffled(const std::vector<labeled_data>& parts, uint64_t seed) {
  std::vector<torch::Tensor> xs, ys;
  for (auto& p : parts) {
    xs.push_back(p.x);
    ys.push_back(p.y);
  }
  auto x = torch::cat(xs);
  auto y = torch::cat(ys);
  std::vector<int64_t> order(static_cast<size_t>(x.size(0)));
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = static_cast<int64_t>(i);
  std::mt19937_64 rng{seed};
  for (size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[uniform_below(rng, i)]);
  auto rows = torch::from_blob(order.data(), {x.size(0)}, torch::kInt64).clone();
  return labeled_data{x.index_select(0, rows), y.index_select(0, rows)};
}

} // namespace

caf::expected<labeled_data> load_digit_json(const std::string& path, int64_t label,
                                            int64_t features) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return make_error(errc::io_failed, path + ": cannot open");
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return malformed(path, std::string{"invalid JSON: "} + e.what());
  }
  auto values = values_of(doc, path, features);
  if (!values)
    return values.error();
  auto n = static_cast<int64_t>(values->size()) / features;
  auto x = torch::from_blob(values->data(), {n, features}, torch::kFloat32).clone();
  return labeled_data{std::move(x), torch::full({n}, label, torch::kInt64)};
}

caf::expected<train_test> load_mnist_json(const std::string& dir, double train_fraction,
                                          uint64_t seed, int64_t features) {
  if (!(train_fraction > 0 && train_fraction < 1))
    return make_error(errc::bad_config, "mnist: train_fraction must be in (0, 1), got "
                                          + std::to_string(train_fraction));
  std::vector<labeled_data> train, test;
  for (int64_t digit = 0; digit < 10; ++digit) {
    auto path = (std::filesystem::path{dir} / (std::to_string(digit) + ".json")).string();
    auto rows = load_digit_json(path, digit, features);
    if (!rows)
      return rows.error();
    auto n = rows->size();
    auto k = static_cast<int64_t>(std::floor(train_fraction * static_cast<double>(n) + 1e-9));
    train.push_back({rows->x.narrow(0, 0, k), rows->y.narrow(0, 0, k)});
    test.push_back({rows->x.narrow(0, k, n - k), rows->y.narrow(0, k, n - k)});
  }
  // Different streams for the two sets, both from `seed`.
  return train_test{shuffled(train, seed), shuffled(test, seed ^ 0x9e3779b97f4a7c15ull)};
}

} // namespace colony::trainer
