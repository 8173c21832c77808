// Conversions between the DHT's pure types (node_id, contact, record) and
// their wire forms in messages/dht_messages.hpp. Pure and CAF-free apart
// from the expected<> of the parsers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "actors/dht/node_id.hpp"
#include "actors/dht/record_store.hpp"
#include "actors/dht/routing_table.hpp"
#include "messages/dht_messages.hpp"

namespace colony::dht {

/// The 20 raw bytes of `x`.
std::string to_wire(const node_id& x);

/// The id of 20 raw bytes; nothing for any other length.
std::optional<node_id> id_from_wire(const std::string& bytes);

/// `c` on the wire (last_seen stays local).
dht_peer to_wire(const contact& c);

/// The contact of a wire peer; nothing for a malformed id or a missing
/// endpoint (client-mode peers advertise none).
std::optional<contact> contact_from_wire(const dht_peer& p);

/// A record on the wire: a plain value as one entry with an empty subkey.
dht_record to_wire(const record& r);

/// As to_wire(r), without the subkeys that expired by `now`.
dht_record to_wire(const record& r, double now);

/// The record of a wire record.
record record_from_wire(const dht_record& r);

/// Merges `from` into `into`: per subkey (or for the plain value) the later
/// expiration wins; a dictionary replaces a plain value that expires sooner
/// than its latest entry, as in record_store.
void merge_into(record& into, const record& from);

/// What of `merged` is newer than `copy` (per subkey, or the plain value),
/// as store items under `key`; all of it when there is no copy.
std::vector<dht_store_item> newer_items(const node_id& key, const record& merged,
                                        const std::optional<record>& copy);

} // namespace colony::dht
