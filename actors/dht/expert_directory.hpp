// Experts in the DHT (hivemind's declare_experts / get_experts /
// first_k_active / get_active_successors). A node declares each uid
// "ffn.3.7.1" as records all holding the node's endpoint "HOST:PORT" and
// expiring together:
//   key "ffn.3.7.1"                  -> endpoint
//   key "ffn.3."   subkey "7@FP"     -> endpoint   (upper levels: one entry
//                                                  per owner; FP is its key's
//                                                  fingerprint)
//   key "ffn.3.7." subkey "1"        -> endpoint   (the uid's own entry)
// so a beam search lists the live next coordinates under a prefix with one
// get, and the last level resolves uid -> endpoint directly. The grid's root
// "ffn." holds entries only for one-dimensional uids ("ffn.3": subkey "3"):
// a root every declarer wrote and every search read was the one hot key of
// a 10,000-peer swarm, so searches probe the first-level prefixes instead
// (gate::beam_search) and list_experts asks for them.
// Every value is sealed by the node's key (sealed_value.hpp): these keys are
// the expert namespace, where readers take only valid sealed values and DHT
// peers refuse to let another key overwrite a live entry. Keys outside it
// (e.g. averaging groups) may hold unsigned values.
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
#include "runtime/identity/node_key.hpp"
#include "runtime/endpoint.hpp"

namespace colony::dht {

/// The put items that declare `uids` served at `ep` until `expiration`,
/// sealed by `owner`; shared prefix entries appear once. errc::bad_request
/// for an invalid uid.
caf::expected<std::vector<dht_put_item>>
declaration_items(const std::vector<std::string>& uids, const endpoint& ep, double expiration,
                  const identity::node_key& owner);

/// The put items that withdraw `uids` until `expiration`: each uid record
/// and its last prefix entry ("ffn.3." subkey "7") hold an empty value,
/// which readers skip as not declared; being newer, they replace the
/// declarations (later expiration wins) instead of waiting for them to
/// expire. Shorter prefix entries stay: other experts may live below them.
caf::expected<std::vector<dht_put_item>>
withdrawal_items(const std::vector<std::string>& uids, double expiration,
                 const identity::node_key& owner);

/// The endpoint a get result for the key `uid` holds, if any: a valid
/// sealed value (unsigned, forged or withdrawn: none).
std::optional<endpoint> expert_endpoint(const std::string& uid, const dht_get_result& result);

/// The live next coordinates in a get result for the key `prefix`, with the
/// endpoint of an expert below each (a uid's own entry before an upper-level
/// one); malformed, unsigned, forged and withdrawn entries are skipped.
std::map<int64_t, endpoint> successors(const std::string& prefix, const dht_get_result& result);

/// Every valid declaration in a get result for `key` (a uid or a prefix
/// key): its endpoint and expiration.
std::vector<std::pair<endpoint, double>> declarations(const std::string& key,
                                                      const dht_get_result& result);

/// What one declaration achieved.
struct declare_result {
  size_t items = 0;       ///< records written (uids + prefix entries)
  uint64_t acks = 0;      ///< replica acknowledgements over all items
  uint32_t min_acks = 0;  ///< the least-replicated uid record
};

/// Declares `uids` at `ep` until `expiration` (absolute DHT time), sealed
/// by `owner`.
caf::expected<declare_result> declare_experts(client& dht, const std::vector<std::string>& uids,
                                              const endpoint& ep, double expiration,
                                              const identity::node_key& owner);

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
/// by uid: walks the prefix dictionaries one level per get. Under a grid's
/// root ("ffn.") it also probes the first-level prefixes "ffn.0." ..
/// "ffn.<first_dim - 1>." (the root holds one-dimensional uids only).
caf::expected<std::vector<std::pair<std::string, endpoint>>>
list_experts(client& dht, const std::string& prefix, size_t first_dim = 256);

} // namespace colony::dht
