#include "actors/dht/node_id.hpp"

#include <algorithm>

#include <openssl/evp.h>

#include "messages/errc.hpp"

namespace colony::dht {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

node_id node_id::of_key(const std::string& key) {
  bytes_type digest{};
  unsigned int size = 0;
  EVP_Digest(key.data(), key.size(), digest.data(), &size, EVP_sha1(), nullptr);
  return node_id{digest};
}

node_id node_id::random(std::mt19937_64& rng) {
  bytes_type bytes{};
  for (size_t i = 0; i < num_bytes; i += 8) {
    auto word = rng();
    for (size_t j = i; j < std::min(i + 8, num_bytes); ++j, word >>= 8)
      bytes[j] = static_cast<uint8_t>(word);
  }
  return node_id{bytes};
}

node_id node_id::random_with_prefix(const node_id& prefix, size_t prefix_bits,
                                    std::mt19937_64& rng) {
  auto result = random(rng);
  for (size_t i = 0; i < prefix_bits && i < num_bits; ++i)
    result = result.with_bit(i, prefix.bit(i));
  return result;
}

caf::expected<node_id> node_id::from_hex(const std::string& hex) {
  if (hex.size() != 2 * num_bytes)
    return make_error(errc::bad_request, "node id '" + hex + "': want "
                                           + std::to_string(2 * num_bytes)
                                           + " hex digits");
  bytes_type bytes{};
  for (size_t i = 0; i < num_bytes; ++i) {
    auto hi = hex_value(hex[2 * i]);
    auto lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return make_error(errc::bad_request,
                        "node id '" + hex + "': not a hex digit");
    bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return node_id{bytes};
}

std::string node_id::to_hex() const {
  static constexpr char digits[] = "0123456789abcdef";
  std::string result;
  result.reserve(2 * num_bytes);
  for (auto byte : bytes_) {
    result += digits[byte >> 4];
    result += digits[byte & 0x0F];
  }
  return result;
}

node_id node_id::with_bit(size_t i, bool value) const {
  auto result = *this;
  auto mask = static_cast<uint8_t>(1u << (7 - i % 8));
  if (value)
    result.bytes_[i / 8] |= mask;
  else
    result.bytes_[i / 8] &= static_cast<uint8_t>(~mask);
  return result;
}

size_t common_prefix_bits(const node_id& a, const node_id& b) {
  auto x = a ^ b;
  for (size_t i = 0; i < node_id::num_bytes; ++i) {
    auto byte = x.bytes()[i];
    if (byte == 0)
      continue;
    size_t bits = i * 8;
    for (uint8_t mask = 0x80; (byte & mask) == 0; mask >>= 1)
      ++bits;
    return bits;
  }
  return node_id::num_bits;
}

std::string to_string(const node_id& x) {
  return "node_id(" + x.to_hex() + ")";
}

} // namespace colony::dht
