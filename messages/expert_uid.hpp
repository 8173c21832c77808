// The expert uid grammar, defined once (hivemind's): a uid is
// `prefix.c1.c2...` where prefix matches [A-Za-z_][A-Za-z0-9_]* and each of
// the >= 1 coordinates is a non-negative integer without leading zeros.
// A prefix key ends with '.', e.g. "ffn." or "ffn.3.": the DHT key under
// which a dictionary maps the next coordinate to the experts below it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace colony {

/// A parsed uid: "ffn.3.7" -> {"ffn", {3, 7}}.
struct expert_uid {
  std::string prefix;
  std::vector<int64_t> coords;
};

/// One dictionary entry a server declares for a uid: under the DHT key
/// `prefix_key`, the subkey `subkey` (the next coordinate) points at the uid.
struct uid_declaration {
  std::string prefix_key;
  std::string subkey;

  friend bool operator==(const uid_declaration& a, const uid_declaration& b) {
    return a.prefix_key == b.prefix_key && a.subkey == b.subkey;
  }
};

/// Returns whether `uid` matches the grammar, e.g. "ffn.3.7" (not "ffn.",
/// "ffn", "ffn.07", "3ffn.1").
bool is_valid_uid(const std::string& uid);

/// Returns whether `key` is a prefix key: a prefix followed by zero or more
/// coordinates, ending with '.', e.g. "ffn." or "ffn.3.".
bool is_valid_prefix(const std::string& key);

/// Parses one coordinate ("0", "17"; not "", "07", "-1", or out of int64
/// range), e.g. a dictionary subkey under a prefix key.
std::optional<int64_t> parse_coordinate(const std::string& text);

/// Parses `uid`; errc::bad_request naming the uid and the reason otherwise.
caf::expected<expert_uid> parse_uid(const std::string& uid);

/// Builds "prefix.c1.c2...". Requires a valid prefix and non-negative coords;
/// the result of other inputs fails is_valid_uid.
std::string make_uid(const std::string& prefix,
                     const std::vector<int64_t>& coords);

/// Builds the prefix key "prefix.c1...ck." (just "prefix." for no coords).
std::string make_prefix_key(const std::string& prefix,
                            const std::vector<int64_t>& coords);

/// The dictionary entries to declare for `uid`, one per shorter prefix:
/// "ffn.3.7" -> {("ffn.", "3"), ("ffn.3.", "7")}. Empty for an invalid uid.
std::vector<uid_declaration> declaration_entries(const std::string& uid);

} // namespace colony
