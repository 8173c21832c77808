// The node's control port (section `control:` of the node config): where
// the control actor (actors/control/) listens and the file holding the
// shared token every `colony ctl` request must carry.
//   control:
//     host: 127.0.0.1        # default; the port is for operators, not peers
//     port: 7100             # 0 = any free port
//     token_file: /etc/colony/ctl.token   # required; mode 0600
#pragma once

#include <cstdint>
#include <string>

#include <caf/expected.hpp>

namespace colony {

/// Shortest token load_token accepts.
constexpr size_t min_token_length = 16;

struct control_config {
  bool enabled = false; ///< the section is present
  std::string host = "127.0.0.1";
  uint16_t port = 0;    ///< 0 = any free port
  std::string token_file;
};

/// Reads the token from `path`, without surrounding whitespace. Refuses
/// (errc::bad_config naming the path) a missing or unreadable file, a file
/// readable or writable by group or others (like ssh with keys: "chmod 600
/// PATH"), an empty token and one shorter than min_token_length.
caf::expected<std::string> load_token(const std::string& path);

/// Compares two tokens in time that depends only on their lengths, not on
/// where they differ.
bool tokens_equal(const std::string& a, const std::string& b);

} // namespace colony
