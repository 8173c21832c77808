#include "actors/dht/sealed_value.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_set>

#include <openssl/evp.h>

namespace colony::dht {

namespace {

constexpr std::string_view sealed_value_tag = "colony-dht-record-v1";
constexpr size_t sealed_owner_offset = seal_magic.size();
constexpr size_t sealed_signature_offset = sealed_owner_offset
                                           + identity::node_key::public_key_size;

void sealed_append_be(std::string& out, uint64_t x, size_t num_bytes) {
  for (size_t i = num_bytes; i > 0; --i)
    out += static_cast<char>((x >> (8 * (i - 1))) & 0xff);
}

void sealed_append_field(std::string& out, std::string_view field) {
  sealed_append_be(out, static_cast<uint32_t>(field.size()), 4);
  out.append(field.data(), field.size());
}

/// Signatures verified in this process, by SHA-256 of (owner, signature,
/// message): a value is verified by each replica and reader that sees it,
/// and in one process (a node's peer and gate, a simulated swarm) the
/// copies after the first cost a hash. Bounded by two generations of
/// `capacity` digests: when the current one fills up it becomes the
/// previous one (the older is dropped), so values in use stay cached
/// instead of all missing at once after a clear.
class sealed_verified_cache {
public:
  bool verify(std::string_view owner, std::string_view message, std::string_view signature) {
    digest d{};
    if (!digest_of(owner, message, signature, d))
      return identity::node_key::verify(owner, message, signature);
    {
      std::lock_guard<std::mutex> guard{mx_};
      if (current_.count(d) > 0 || previous_.count(d) > 0)
        return true;
    }
    if (!identity::node_key::verify(owner, message, signature))
      return false; // failures are not cached
    std::lock_guard<std::mutex> guard{mx_};
    if (current_.size() >= capacity) {
      previous_ = std::move(current_);
      current_ = {};
    }
    current_.insert(d);
    return true;
  }

private:
  using digest = std::array<unsigned char, 32>;
  struct digest_hash {
    size_t operator()(const digest& d) const noexcept {
      size_t h;
      std::memcpy(&h, d.data(), sizeof(h));
      return h;
    }
  };

  static bool digest_of(std::string_view owner, std::string_view message,
                        std::string_view signature, digest& out) {
    struct ctx_free {
      void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
    };
    thread_local std::unique_ptr<EVP_MD_CTX, ctx_free> ctx{EVP_MD_CTX_new()};
    unsigned int len = 0;
    return ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1
           && EVP_DigestUpdate(ctx.get(), owner.data(), owner.size()) == 1
           && EVP_DigestUpdate(ctx.get(), signature.data(), signature.size()) == 1
           && EVP_DigestUpdate(ctx.get(), message.data(), message.size()) == 1
           && EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1 && len == out.size();
  }

  static constexpr size_t capacity = 1 << 16;
  std::mutex mx_;
  std::unordered_set<digest, digest_hash> current_;
  std::unordered_set<digest, digest_hash> previous_;
};

sealed_verified_cache& sealed_cache() {
  static sealed_verified_cache instance;
  return instance;
}

} // namespace

std::string signing_message(const node_id& key, bool has_subkey, std::string_view subkey,
                            std::string_view payload, double expiration) {
  uint64_t bits = 0;
  static_assert(sizeof(bits) == sizeof(expiration));
  std::memcpy(&bits, &expiration, sizeof(bits));
  std::string out;
  out.reserve(sealed_value_tag.size() + node_id::num_bytes + 1 + 4 + subkey.size() + 4
              + payload.size() + 8);
  out.append(sealed_value_tag.data(), sealed_value_tag.size());
  out.append(reinterpret_cast<const char*>(key.bytes().data()), node_id::num_bytes);
  out += static_cast<char>(has_subkey ? 1 : 0);
  sealed_append_field(out, subkey);
  sealed_append_field(out, payload);
  sealed_append_be(out, bits, 8);
  return out;
}

std::string seal(const identity::node_key& owner, const node_id& key, bool has_subkey,
                 std::string_view subkey, std::string_view payload, double expiration) {
  auto signature = owner.sign(signing_message(key, has_subkey, subkey, payload, expiration));
  std::string out;
  out.reserve(seal_header_size + payload.size());
  out.append(seal_magic.data(), seal_magic.size());
  out += owner.public_key();
  out += signature;
  out.append(payload.data(), payload.size());
  return out;
}

bool is_sealed(std::string_view value) {
  return value.substr(0, seal_magic.size()) == seal_magic;
}

opened_value open_value(const node_id& key, bool has_subkey, std::string_view subkey,
                        std::string_view value, double expiration) {
  if (!is_sealed(value))
    return {seal_state::unsigned_value, {}, std::string{value}};
  if (value.size() < seal_header_size)
    return {seal_state::invalid, {}, {}};
  auto owner = value.substr(sealed_owner_offset, identity::node_key::public_key_size);
  auto signature = value.substr(sealed_signature_offset, identity::node_key::signature_size);
  auto payload = value.substr(seal_header_size);
  auto message = signing_message(key, has_subkey, subkey, payload, expiration);
  if (!sealed_cache().verify(owner, message, signature))
    return {seal_state::invalid, {}, {}};
  return {seal_state::valid, std::string{owner}, std::string{payload}};
}

std::optional<std::string> owner_of(std::string_view value) {
  if (!is_sealed(value) || value.size() < seal_header_size)
    return std::nullopt;
  return std::string{value.substr(sealed_owner_offset, identity::node_key::public_key_size)};
}

} // namespace colony::dht
