// Experts in the DHT (hivemind's declare_experts / get_experts /
// first_k_active / get_active_successors). A node declares each uid
// "ffn.3.7" as two kinds of records, all holding the node's endpoint
// "HOST:PORT" and expiring together:
//   key "ffn.3.7"                    -> endpoint
//   key "ffn."   subkey "3"          -> endpoint   (one entry per prefix)
//   key "ffn.3." subkey "7"          -> endpoint
// so a beam search lists the live next coordinates under a prefix with one
// get, and the last level resolves uid -> endpoint directly.
// The pure builders/parsers below work on the peer's put/get messages (for
// actors); the blocking functions use a dht::client (tests, CLI, benches).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "actors/dht/client.hpp"
#include "runtime/endpoint.hpp"

namespace colony::dht {

/// The put items that declare `uids` served at `ep` until `expiration`;
/// shared prefix entries appear once. errc::bad_request for an invalid uid.
caf::expected<std::vector<dht_put_item>>
declaration_items(const std::vector<std::string>& uids, const endpoint& ep, double expiration);

/// The put items that withdraw `uids` until `expiration`: each uid record
/// and its last prefix entry ("ffn.3." subkey "7") hold an empty value,
/// which readers skip as not declared; being newer, they replace the
/// declarations (later expiration wins) instead of waiting for them to
/// expire. Shorter prefix entries stay: other experts may live below them.
caf::expected<std::vector<dht_put_item>>
withdrawal_items(const std::vector<std::string>& uids, double expiration);

/// The endpoint a get result for a uid key holds, if any.
std::optional<endpoint> expert_endpoint(const dht_get_result& result);

/// The live next coordinates in a get result for a prefix key, with the
/// endpoint of an expert below each; malformed entries are skipped.
std::map<int64_t, endpoint> successors(const dht_get_result& result);

/// What one declaration achieved.
struct declare_result {
  size_t items = 0;       ///< records written (uids + prefix entries)
  uint64_t acks = 0;      ///< replica acknowledgements over all items
  uint32_t min_acks = 0;  ///< the least-replicated uid record
};

/// Declares `uids` at `ep` until `expiration` (absolute DHT time).
caf::expected<declare_result> declare_experts(client& dht, const std::vector<std::string>& uids,
                                              const endpoint& ep, double expiration);

/// The endpoint of each uid, or none when not declared (or expired).
caf::expected<std::vector<std::optional<endpoint>>>
get_experts(client& dht, const std::vector<std::string>& uids);

/// The first `k` prefix keys (e.g. "ffn.3.") in order that have at least
/// one live expert below them; fewer if there are not enough.
caf::expected<std::vector<std::string>>
first_k_active(client& dht, const std::vector<std::string>& prefixes, size_t k);

/// The live next coordinates under the prefix key `prefix`.
caf::expected<std::map<int64_t, endpoint>> get_active_successors(client& dht,
                                                                 const std::string& prefix);

/// Every live expert under the prefix key `prefix` (uid, endpoint), sorted
/// by uid: walks the prefix dictionaries one level per get.
caf::expected<std::vector<std::pair<std::string, endpoint>>>
list_experts(client& dht, const std::string& prefix);

} // namespace colony::dht
