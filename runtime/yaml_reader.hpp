// A checked reader of YAML maps for config files: unknown and duplicate keys,
// wrong types and out-of-range values become errc::bad_config errors whose
// context names the key path ("experts[1].optimizer.lr: expected a
// number, got 'fast'"). Used by node_config.cpp; header-only.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <yaml-cpp/yaml.h>

#include "messages/errc.hpp"

namespace colony::yaml {

using key_list = std::vector<std::string>;

inline caf::error bad(const std::string& path, const std::string& what) {
  return make_error(errc::bad_config, path + ": " + what);
}

inline std::string join(const key_list& xs, const char* sep) {
  std::string result;
  for (const auto& x : xs)
    result += (result.empty() ? "" : sep) + x;
  return result;
}

inline bool contains(const key_list& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

/// Renders a value for "got ..." in messages.
inline std::string show(const YAML::Node& x) {
  if (x.IsScalar())
    return "'" + x.Scalar() + "'";
  return x.IsSequence() ? "a list" : x.IsMap() ? "a map" : "null";
}

/// A missing key and an explicit null (`key:` or `key: ~`) both mean
/// "use the default".
inline bool absent(const YAML::Node& x) {
  return !x.IsDefined() || x.IsNull();
}

enum class parsed { ok, malformed, out_of_range };

/// Parses a decimal integer; a negative one or one over 2^64-1 is out_of_range.
inline parsed parse_uint(const std::string& text, uint64_t& out) {
  bool negative = !text.empty() && text.front() == '-';
  auto first = text.data() + (negative ? 1 : 0);
  auto last = text.data() + text.size();
  if (first == last || *first < '0' || *first > '9')
    return parsed::malformed;
  auto [ptr, ec] = std::from_chars(first, last, out);
  if (ptr != last)
    return parsed::malformed;
  bool overflow = ec == std::errc::result_out_of_range;
  return overflow || (negative && out != 0) ? parsed::out_of_range : parsed::ok;
}

inline bool parse_real(const std::string& text, double& out) {
  auto last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), last, out);
  return !text.empty() && ec == std::errc{} && ptr == last && std::isfinite(out);
}

/// An interval of accepted floating-point values and how to print it.
struct real_range {
  double lo;
  bool lo_open;
  double hi;
  bool hi_open;
  const char* text;

  bool contains(double x) const {
    return (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
  }
};

inline constexpr double inf = std::numeric_limits<double>::infinity();
inline constexpr real_range any_real{-inf, true, inf, true, "(-inf, inf)"};
inline constexpr real_range positive{0, true, inf, true, "> 0"};
inline constexpr real_range non_negative{0, false, inf, true, ">= 0"};
inline constexpr real_range unit_interval{0, false, 1, true, "[0, 1)"};

/// Reads the fields of one YAML map at `path` and remembers the first
/// error; after an error every further call does nothing. An absent map
/// reads as an empty one.
class map_reader {
public:
  /// Checks that `node` is a map whose keys are unique and, unless `allowed`
  /// is empty, all in `allowed`.
  map_reader(const YAML::Node& node, std::string path, key_list allowed)
    : node_(node), path_(std::move(path)), allowed_(std::move(allowed)) {
    if (absent(node_))
      return;
    if (!node_.IsMap()) {
      err_ = bad(path_.empty() ? "(top level)" : path_,
                 "expected a map, got " + show(node_));
      return;
    }
    for (auto it = node_.begin(); it != node_.end() && !err_; ++it)
      check_key(it->first);
  }

  /// The keys present, in document order.
  const key_list& keys() const {
    return keys_;
  }

  /// The path of a child key, e.g. "experts[0].module" + "type".
  std::string path_of(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  map_reader& require(const std::string& key) {
    if (!err_ && (absent(node_) || absent(node_[key])))
      err_ = bad(path_of(key), "required");
    return *this;
  }

  map_reader& text(const std::string& key, std::string& out,
                   bool non_empty = false) {
    if (auto x = fetch(key)) {
      if (!x->IsScalar())
        err_ = bad(path_of(key), "expected a string, got " + show(*x));
      else if (non_empty && x->Scalar().empty())
        err_ = bad(path_of(key), "must not be empty");
      else
        out = x->Scalar();
    }
    return *this;
  }

  map_reader& choice(const std::string& key, const key_list& options,
                     std::string& out) {
    auto value = out;
    if (!text(key, value).err_ && !contains(options, value))
      err_ = bad(path_of(key), "'" + value + "' is not one of " + join(options, "|"));
    else if (!err_)
      out = value;
    return *this;
  }

  template <class T>
  map_reader& integer(const std::string& key, uint64_t lo, T& out,
                      uint64_t hi = std::numeric_limits<T>::max()) {
    auto x = fetch(key);
    if (!x)
      return *this;
    uint64_t value = 0;
    auto res = x->IsScalar() ? parse_uint(x->Scalar(), value) : parsed::malformed;
    if (res == parsed::malformed) {
      err_ = bad(path_of(key), "expected an integer, got " + show(*x));
    } else if (res == parsed::out_of_range || value < lo || value > hi) {
      auto range = hi == std::numeric_limits<uint64_t>::max()
                     ? ">= " + std::to_string(lo)
                     : std::to_string(lo) + ".." + std::to_string(hi);
      err_ = bad(path_of(key), x->Scalar() + " out of range " + range);
    } else {
      out = static_cast<T>(value);
    }
    return *this;
  }

  map_reader& real(const std::string& key, real_range range, double& out) {
    auto x = fetch(key);
    if (!x)
      return *this;
    double value = 0;
    if (!x->IsScalar() || !parse_real(x->Scalar(), value))
      err_ = bad(path_of(key), "expected a number, got " + show(*x));
    else if (!range.contains(value))
      err_ = bad(path_of(key), x->Scalar() + " out of range " + range.text);
    else
      out = value;
    return *this;
  }

  map_reader& boolean(const std::string& key, bool& out) {
    auto x = fetch(key);
    if (x && (!x->IsScalar() || !YAML::convert<bool>::decode(*x, out)))
      err_ = bad(path_of(key), "expected true or false, got " + show(*x));
    return *this;
  }

  const caf::error& error() const {
    return err_;
  }

private:
  void check_key(const YAML::Node& key) {
    if (!key.IsScalar()) {
      err_ = bad(path_.empty() ? "(top level)" : path_, "keys must be strings");
      return;
    }
    const auto& name = key.Scalar();
    auto where = path_.empty() ? std::string{"at top level"} : "in " + path_;
    if (contains(keys_, name))
      err_ = bad(path_of(name), "duplicate key '" + name + "' " + where);
    else if (!allowed_.empty() && !contains(allowed_, name))
      err_ = make_error(errc::bad_config, "unknown key '" + name + "' " + where
                                            + " (allowed: " + join(allowed_, ", ") + ")");
    keys_.push_back(name);
  }

  /// The value at `key`, or none when absent or after an error.
  std::optional<YAML::Node> fetch(const std::string& key) const {
    if (err_ || absent(node_))
      return std::nullopt;
    auto x = node_[key];
    if (absent(x))
      return std::nullopt;
    return x;
  }

  const YAML::Node node_;
  std::string path_;
  key_list allowed_;
  key_list keys_;
  caf::error err_;
};

} // namespace colony::yaml
