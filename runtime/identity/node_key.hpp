// A node's long-term identity: an Ed25519 key pair (OpenSSL 3).
//
// The private key lives in a PEM file the node creates once, with mode 0600
// from its first byte (open with O_EXCL and mode 0600, whatever the umask),
// and refuses to load when the file is not a regular file, is readable or
// writable by group or others, is over 64 KiB, or does not hold an Ed25519
// key. The public key (32 raw bytes) names the node's records in the DHT;
// signatures are 64 bytes. Signing and verifying cost some tens of
// microseconds each.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

struct evp_pkey_st; // OpenSSL's EVP_PKEY, kept out of this header

namespace colony::identity {

/// An Ed25519 private key. Copies share the key (read-only); signing from
/// several threads at once is safe.
class node_key {
public:
  /// Size of a raw public key in bytes.
  static constexpr size_t public_key_size = 32;

  /// Size of a signature in bytes.
  static constexpr size_t signature_size = 64;

  /// Largest key file accepted by load_or_create.
  static constexpr size_t max_file_size = 64 * 1024;

  /// A fresh random key, in memory only. Throws std::runtime_error only when
  /// OpenSSL cannot generate a key at all (out of memory).
  static node_key generate();

  /// Loads the PEM key at `path`, or creates it (mode 0600, fsynced) when the
  /// path does not exist. errc::io_failed when it cannot be created or
  /// read (missing directory, full disk); errc::bad_config when it is not a
  /// regular file, has any group/other permission bit, is over max_file_size,
  /// or is not an unencrypted Ed25519 PEM private key.
  static caf::expected<node_key> load_or_create(const std::string& path);

  /// The raw public key (public_key_size bytes).
  std::string public_key() const { return public_key_; }

  /// The Ed25519 signature of `message` (signature_size bytes).
  std::string sign(std::string_view message) const;

  /// Whether `signature` is a valid signature of `message` under the raw
  /// `public_key`; false for wrong sizes. Never throws.
  static bool verify(std::string_view public_key, std::string_view message,
                     std::string_view signature) noexcept;

  /// The first 8 bytes of the public key as 16 lower-case hex digits (logs).
  std::string fingerprint() const;

private:
  explicit node_key(std::shared_ptr<evp_pkey_st> pkey);

  std::shared_ptr<evp_pkey_st> pkey_;
  std::string public_key_;
};

} // namespace colony::identity
