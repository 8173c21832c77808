#include "actors/trainer/dataset.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <numeric>

#include <torch/torch.h>
#include <zlib.h>

#include "messages/errc.hpp"

namespace colony::trainer {

namespace {

constexpr uint32_t image_magic = 0x00000803;
constexpr uint32_t label_magic = 0x00000801;
constexpr uint64_t max_items = uint64_t{1} << 31;
constexpr size_t read_chunk = size_t{1} << 20;
constexpr double two_pi = 6.283185307179586476925286766559;

struct gz_closer {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using gz_ptr = std::unique_ptr<gzFile_s, gz_closer>;

/// One open IDX file; zlib reads gzip streams and (transparently) raw files.
struct idx_file {
  std::string path;
  gz_ptr file;
  std::vector<uint64_t> dims;
};

caf::expected<gz_ptr> open_file(const std::string& path) {
  gz_ptr f{gzopen(path.c_str(), "rb")};
  if (!f)
    return make_error(errc::io_failed, path + ": cannot open");
  gzbuffer(f.get(), 1 << 18);
  return f;
}

/// Reads up to `n` bytes into `buf`; fewer only at the end of the data.
caf::expected<size_t> read_some(idx_file& in, uint8_t* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    auto step = static_cast<unsigned>(std::min<size_t>(n - got, read_chunk));
    int r = gzread(in.file.get(), buf + got, step);
    if (r < 0) {
      int code = Z_OK;
      const char* msg = gzerror(in.file.get(), &code);
      if (code == Z_ERRNO)
        return make_error(errc::io_failed, in.path + ": read failed: " + std::strerror(errno));
      return make_error(errc::malformed_payload, in.path + ": " + msg);
    }
    if (r == 0)
      break;
    got += static_cast<size_t>(r);
  }
  return got;
}

std::string hex32(uint32_t x) {
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "0x%08x", x);
  return buf.data();
}

/// Opens `path` and reads its magic (which must be `magic`) and `ndims`
/// big-endian uint32 dims.
caf::expected<idx_file> open_idx(const std::string& path, uint32_t magic, size_t ndims) {
  auto f = open_file(path);
  if (!f)
    return f.error();
  idx_file in{path, std::move(*f), {}};
  std::vector<uint8_t> head(4 * (ndims + 1));
  auto got = read_some(in, head.data(), head.size());
  if (!got)
    return got.error();
  if (*got < head.size())
    return make_error(errc::malformed_payload,
                      path + ": truncated header (" + std::to_string(*got) + " of "
                        + std::to_string(head.size()) + " bytes)");
  auto word = [&](size_t i) {
    const uint8_t* p = head.data() + 4 * i;
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
  };
  if (word(0) != magic)
    return make_error(errc::malformed_payload,
                      path + ": bad magic " + hex32(word(0)) + ", want " + hex32(magic));
  for (size_t i = 1; i <= ndims; ++i)
    in.dims.push_back(word(i));
  return in;
}

/// The product of `dims`, or an error when it is over 2^31.
caf::expected<uint64_t> checked_items(const idx_file& in) {
  uint64_t total = 1;
  std::string shape;
  for (auto d : in.dims)
    shape += (shape.empty() ? "" : "x") + std::to_string(d);
  for (auto d : in.dims) {
    if (d != 0 && total > max_items / d)
      return make_error(errc::malformed_payload,
                        in.path + ": dims " + shape + " exceed 2^31 items");
    total *= d;
  }
  return total;
}

/// Reads exactly `want` payload bytes, growing the buffer only as data
/// actually arrives (so a lying header cannot make it allocate).
caf::expected<std::vector<uint8_t>> read_payload(idx_file& in, uint64_t want) {
  std::vector<uint8_t> out;
  while (out.size() < want) {
    size_t old = out.size();
    size_t step = static_cast<size_t>(std::min<uint64_t>(read_chunk, want - old));
    out.resize(old + step);
    auto got = read_some(in, out.data() + old, step);
    if (!got)
      return got.error();
    if (*got < step)
      return make_error(errc::malformed_payload,
                        in.path + ": truncated payload: header claims " + std::to_string(want)
                          + " bytes, file has " + std::to_string(old + *got));
  }
  return out;
}

torch::Tensor normalized_pixels(const std::vector<uint8_t>& bytes, int64_t n, int64_t features,
                                double mean, double stddev) {
  std::array<float, 256> lut{};
  for (size_t p = 0; p < lut.size(); ++p)
    lut[p] = static_cast<float>((static_cast<double>(p) / 255.0 - mean) / stddev);
  auto x = torch::empty({n, features}, torch::kFloat32);
  float* out = x.data_ptr<float>();
  for (size_t i = 0; i < bytes.size(); ++i)
    out[i] = lut[bytes[i]];
  return x;
}

caf::expected<torch::Tensor> checked_labels(const idx_file& in, const std::vector<uint8_t>& bytes,
                                            int64_t num_classes) {
  auto y = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kInt64);
  int64_t* out = y.data_ptr<int64_t>();
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] >= num_classes)
      return make_error(errc::malformed_payload,
                        in.path + ": label " + std::to_string(bytes[i]) + " at row "
                          + std::to_string(i) + " is out of range [0, "
                          + std::to_string(num_classes) + ")");
    out[i] = bytes[i];
  }
  return y;
}

caf::error check_load_params(double stddev, int64_t num_classes) {
  if (!(stddev > 0))
    return make_error(errc::bad_config, "load_idx: stddev must be positive, got "
                                          + std::to_string(stddev));
  if (num_classes < 1 || num_classes > 256)
    return make_error(errc::bad_config, "load_idx: num_classes must be in [1, 256], got "
                                          + std::to_string(num_classes));
  return caf::none;
}

/// "<dir>/<name>.gz" if it exists, else "<dir>/<name>" if that exists, else
/// the .gz name (so that the error names it).
std::string pick_file(const std::string& dir, const std::string& name) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto gz = (fs::path{dir} / (name + ".gz")).string();
  auto raw = (fs::path{dir} / name).string();
  if (fs::exists(gz, ec))
    return gz;
  return fs::exists(raw, ec) ? raw : gz;
}

/// Uniform double in [0, 1) from the top 53 bits of one draw.
double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

/// Standard normal draws by Box-Muller (portable, unlike std::normal_distribution).
class normal_source {
public:
  explicit normal_source(std::mt19937_64& rng) : rng_(rng) {}

  double next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = 1.0 - uniform01(rng_); // in (0, 1]: log is finite
    double u2 = uniform01(rng_);
    double r = std::sqrt(-2.0 * std::log(u1));
    double theta = two_pi * u2;
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
  }

private:
  std::mt19937_64& rng_;
  bool has_spare_ = false;
  double spare_ = 0;
};

std::mt19937_64 seeded_engine(std::initializer_list<uint64_t> parts, uint32_t domain) {
  std::vector<uint32_t> words;
  for (auto p : parts) {
    words.push_back(static_cast<uint32_t>(p));
    words.push_back(static_cast<uint32_t>(p >> 32));
  }
  words.push_back(domain);
  std::seed_seq seq(words.begin(), words.end());
  return std::mt19937_64{seq};
}

} // namespace

uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound) {
  uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    uint64_t r = rng();
    if (r >= threshold)
      return r % bound;
  }
}

int64_t labeled_data::size() const {
  return x.defined() && x.dim() > 0 ? x.size(0) : 0;
}

caf::expected<labeled_data> load_idx(const std::string& images_path,
                                     const std::string& labels_path, double mean,
                                     double stddev, int64_t num_classes) {
  if (auto err = check_load_params(stddev, num_classes))
    return err;
  auto images = open_idx(images_path, image_magic, 3);
  if (!images)
    return images.error();
  auto labels = open_idx(labels_path, label_magic, 1);
  if (!labels)
    return labels.error();
  auto pixels = checked_items(*images);
  if (!pixels)
    return pixels.error();
  auto n = images->dims[0];
  auto features = images->dims[1] * images->dims[2];
  if (features == 0)
    return make_error(errc::malformed_payload,
                      images_path + ": zero-sized images (" + std::to_string(images->dims[1])
                        + "x" + std::to_string(images->dims[2]) + ")");
  if (labels->dims[0] != n)
    return make_error(errc::malformed_payload,
                      labels_path + ": " + std::to_string(labels->dims[0]) + " labels for "
                        + std::to_string(n) + " images in " + images_path);
  auto image_bytes = read_payload(*images, *pixels);
  if (!image_bytes)
    return image_bytes.error();
  auto label_bytes = read_payload(*labels, n);
  if (!label_bytes)
    return label_bytes.error();
  auto y = checked_labels(*labels, *label_bytes, num_classes);
  if (!y)
    return y.error();
  auto x = normalized_pixels(*image_bytes, static_cast<int64_t>(n),
                             static_cast<int64_t>(features), mean, stddev);
  return labeled_data{std::move(x), std::move(*y)};
}

caf::expected<labeled_data> load_fashion_mnist(const std::string& dir, bool train) {
  std::string prefix = train ? "train" : "t10k";
  return load_idx(pick_file(dir, prefix + "-images-idx3-ubyte"),
                  pick_file(dir, prefix + "-labels-idx1-ubyte"), fashion_mnist_mean,
                  fashion_mnist_std, 10);
}

torch::Tensor synthetic_teacher(int64_t features, int64_t classes, uint64_t seed) {
  features = std::max<int64_t>(features, 0);
  classes = std::max<int64_t>(classes, 1);
  auto rng = seeded_engine({seed}, 0x7eac4e75u);
  normal_source normal{rng};
  auto w = torch::empty({features, classes}, torch::kFloat64);
  double* out = w.data_ptr<double>();
  for (int64_t i = 0; i < w.numel(); ++i)
    out[i] = normal.next();
  return w;
}

labeled_data make_synthetic(int64_t n, int64_t features, int64_t classes, uint64_t seed,
                            uint64_t sample_seed) {
  n = std::max<int64_t>(n, 0);
  features = std::max<int64_t>(features, 0);
  auto w = synthetic_teacher(features, classes, seed);
  auto rng = seeded_engine({seed, sample_seed}, 0x5a3b1e50u);
  normal_source normal{rng};
  auto x = torch::empty({n, features}, torch::kFloat32);
  float* out = x.data_ptr<float>();
  for (int64_t i = 0; i < x.numel(); ++i)
    out[i] = static_cast<float>(normal.next());
  auto y = x.to(torch::kFloat64).mm(w).argmax(1).to(torch::kInt64);
  return labeled_data{std::move(x), std::move(y)};
}

labeled_data shard(const labeled_data& data, size_t index, size_t count) {
  auto n = data.size();
  if (count == 0 || index >= count || static_cast<int64_t>(index) >= n)
    return labeled_data{data.x.slice(0, 0, 0), data.y.slice(0, 0, 0)};
  auto rows = torch::arange(static_cast<int64_t>(index), n, static_cast<int64_t>(count),
                            torch::kInt64);
  return labeled_data{data.x.index_select(0, rows), data.y.index_select(0, rows)};
}

batch_sampler::batch_sampler(labeled_data data, int64_t batch_size, uint64_t seed)
  : data_(std::move(data)), rng_(seed) {
  auto n = data_.size();
  batch_size_ = std::min(std::max<int64_t>(batch_size, 1), n);
  order_.resize(static_cast<size_t>(n));
  std::iota(order_.begin(), order_.end(), int64_t{0});
  reshuffle();
}

void batch_sampler::reshuffle() {
  for (size_t i = order_.size(); i > 1; --i)
    std::swap(order_[i - 1], order_[uniform_below(rng_, i)]);
  position_ = 0;
}

std::pair<torch::Tensor, torch::Tensor> batch_sampler::next() {
  if (batch_size_ == 0) {
    if (!data_.x.defined())
      return {torch::empty({0, 0}), torch::empty({0}, torch::kInt64)};
    return {data_.x.slice(0, 0, 0), data_.y.slice(0, 0, 0)};
  }
  auto rows = torch::from_blob(order_.data() + position_, {batch_size_}, torch::kInt64);
  std::pair<torch::Tensor, torch::Tensor> out{data_.x.index_select(0, rows),
                                              data_.y.index_select(0, rows)};
  position_ += batch_size_;
  samples_seen_ += batch_size_;
  if (position_ + batch_size_ > data_.size()) {
    ++epoch_;
    reshuffle();
  }
  return out;
}

double accuracy(const torch::Tensor& logits, const torch::Tensor& labels) {
  if (!logits.defined() || logits.dim() != 2 || logits.size(0) == 0)
    return 0.0;
  auto hits = logits.argmax(1).eq(labels.to(torch::kInt64).view({-1})).sum();
  return static_cast<double>(hits.item<int64_t>()) / static_cast<double>(logits.size(0));
}

} // namespace colony::trainer
