// 160-bit Kademlia identifiers: node ids and DHT keys share one space.
// Keys are SHA-1 digests of their text; distance is XOR, compared as a
// big-endian unsigned number.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <string>

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

namespace colony::dht {

/// A point in the 160-bit id space (a node id, a key, or a distance).
class node_id {
public:
  /// Width of an id in bytes and bits.
  static constexpr size_t num_bytes = 20;
  static constexpr size_t num_bits = num_bytes * 8;

  using bytes_type = std::array<uint8_t, num_bytes>;

  /// The all-zero id.
  node_id() : bytes_{} {}

  /// An id with the given big-endian bytes.
  explicit node_id(const bytes_type& bytes) : bytes_(bytes) {}

  /// The DHT key of `key`: its SHA-1 digest.
  static node_id of_key(const std::string& key);

  /// A uniformly random id.
  static node_id random(std::mt19937_64& rng);

  /// A random id whose first `prefix_bits` bits equal those of `prefix`.
  static node_id random_with_prefix(const node_id& prefix, size_t prefix_bits,
                                    std::mt19937_64& rng);

  /// Parses 40 hex digits (either case); errc::bad_request otherwise.
  static caf::expected<node_id> from_hex(const std::string& hex);

  /// 40 lower-case hex digits.
  std::string to_hex() const;

  /// The big-endian bytes.
  const bytes_type& bytes() const { return bytes_; }

  /// Bit `i` counted from the most significant bit (i < num_bits).
  bool bit(size_t i) const { return (bytes_[i / 8] >> (7 - i % 8)) & 1; }

  /// Returns a copy with bit `i` (from the most significant) set to `value`.
  node_id with_bit(size_t i, bool value) const;

  /// XOR of two ids: their Kademlia distance.
  friend node_id operator^(const node_id& a, const node_id& b) {
    node_id result;
    for (size_t i = 0; i < num_bytes; ++i)
      result.bytes_[i] = a.bytes_[i] ^ b.bytes_[i];
    return result;
  }

  friend bool operator==(const node_id& a, const node_id& b) {
    return a.bytes_ == b.bytes_;
  }
  friend bool operator!=(const node_id& a, const node_id& b) { return !(a == b); }
  /// Numeric (big-endian) order; on distances, "nearer than".
  friend bool operator<(const node_id& a, const node_id& b) {
    return a.bytes_ < b.bytes_;
  }
  friend bool operator>(const node_id& a, const node_id& b) { return b < a; }
  friend bool operator<=(const node_id& a, const node_id& b) { return !(b < a); }
  friend bool operator>=(const node_id& a, const node_id& b) { return !(a < b); }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, node_id& x) {
    return f(caf::meta::type_name("node_id"), x.bytes_);
  }

private:
  bytes_type bytes_;
};

/// The XOR distance between `a` and `b`.
inline node_id distance(const node_id& a, const node_id& b) { return a ^ b; }

/// Whether `a` is strictly nearer to `target` than `b` is.
/// Decided at the first byte where `a` and `b` differ (usually the first):
/// no distance is built.
inline bool nearer(const node_id& target, const node_id& a, const node_id& b) {
  const auto& t = target.bytes();
  const auto& x = a.bytes();
  const auto& y = b.bytes();
  for (size_t i = 0; i < node_id::num_bytes; ++i)
    if (x[i] != y[i])
      return (x[i] ^ t[i]) < (y[i] ^ t[i]);
  return false;
}

/// Number of leading bits `a` and `b` share (num_bits when equal).
size_t common_prefix_bits(const node_id& a, const node_id& b);

/// "node_id(<hex>)", for logs and test failure messages.
std::string to_string(const node_id& x);

} // namespace colony::dht

namespace std {

template <>
struct hash<colony::dht::node_id> {
  size_t operator()(const colony::dht::node_id& x) const noexcept {
    size_t result;
    std::memcpy(&result, x.bytes().data(), sizeof(result));
    return result;
  }
};

} // namespace std
