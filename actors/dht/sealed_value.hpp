// Signed DHT values: an envelope carried inside the value string, so that
// the wire format and the record store stay unchanged.
//
// Layout: seal_magic (6 bytes, starting with NUL so that no text value such
// as "127.0.0.1:4000" is mistaken for one), the owner's Ed25519 public key
// (32 bytes), the signature (64 bytes), then the payload. The signature
// covers signing_message(): the DHT key, the subkey, the payload and the
// expiration, so a sealed value cannot be replayed under another key or
// subkey, nor kept alive past its expiration by a peer that re-stores it.
//
// Cost: one Ed25519 signature per seal, one verification per open (some
// tens of microseconds each; a value already verified in this process costs
// a SHA-256); owner_of() is a copy without verification.
// Pure: no CAF, no actors.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "actors/dht/node_id.hpp"
#include "runtime/identity/node_key.hpp"

namespace colony::dht {

/// The first bytes of every sealed value.
inline constexpr std::string_view seal_magic{"\0csv1:", 6};

/// Size of the envelope before the payload: magic, public key, signature.
inline constexpr size_t seal_header_size =
  seal_magic.size() + identity::node_key::public_key_size + identity::node_key::signature_size;

/// The bytes an owner signs for a record: the tag "colony-dht-record-v1",
/// the 20 key bytes, one has_subkey byte, the subkey and the payload each
/// preceded by its length (4 bytes big-endian), and the expiration's
/// IEEE-754 bits (8 bytes big-endian). Subkey and payload must be shorter
/// than 4 GiB.
std::string signing_message(const node_id& key, bool has_subkey, std::string_view subkey,
                            std::string_view payload, double expiration);

/// The envelope of `payload` signed by `owner` for this record.
std::string seal(const identity::node_key& owner, const node_id& key, bool has_subkey,
                 std::string_view subkey, std::string_view payload, double expiration);

/// Whether `value` starts with seal_magic (valid or not).
bool is_sealed(std::string_view value);

/// What open_value found.
enum class seal_state {
  unsigned_value, ///< no magic: a plain value
  valid,          ///< sealed, and the signature verifies for this record
  invalid,        ///< sealed, but truncated or not signed for this record
};

/// An opened value.
struct opened_value {
  seal_state state;
  /// The owner's 32-byte public key when valid; empty otherwise.
  std::string owner;
  /// The payload when valid, the value itself when unsigned; empty when invalid.
  std::string payload;
};

/// Opens `value` stored under (key, subkey) with `expiration`, verifying its
/// signature when it is sealed. Never throws on malformed input.
opened_value open_value(const node_id& key, bool has_subkey, std::string_view subkey,
                        std::string_view value, double expiration);

/// The owner's public key of a sealed value of at least seal_header_size
/// bytes, without verifying (for values verified when they were stored);
/// nullopt when not sealed or too short.
std::optional<std::string> owner_of(std::string_view value);

} // namespace colony::dht
