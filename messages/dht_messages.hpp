// CAF message types of the DHT. Ids and keys travel as 20-byte strings (the
// big-endian bytes of a 160-bit id; CAF copies strings with memcpy);
// expirations are absolute seconds on the DHT clock (Unix time by default).
//
// Peer-to-peer RPCs: dht_ping -> dht_pong, dht_store_request ->
// dht_store_reply, dht_find_request -> dht_find_reply. Every request names
// its sender, so routing tables fill as traffic flows.
// Local API of one peer (also callable remotely): dht_bootstrap_request,
// dht_put_request -> dht_put_reply, dht_get_request -> dht_get_reply,
// stats_atom -> dht_peer_stats.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace colony {

/// A DHT peer on the wire: its 20-byte id and where it listens.
struct dht_peer {
  std::string id;
  std::string host;
  uint16_t port = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_peer& x) {
  return f(caf::meta::type_name("dht_peer"), x.id, x.host, x.port);
}

/// One value with its absolute expiration; `subkey` is used in dictionaries.
struct dht_value {
  std::string subkey;
  std::string value;
  double expiration = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_value& x) {
  return f(caf::meta::type_name("dht_value"), x.subkey, x.value, x.expiration);
}

/// What a key holds: one plain value, or dictionary entries by subkey.
struct dht_record {
  bool is_dictionary = false;
  std::vector<dht_value> values;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_record& x) {
  return f(caf::meta::type_name("dht_record"), x.is_dictionary, x.values);
}

/// A liveness probe; the sender is added to the receiver's table unless it
/// runs in client mode.
struct dht_ping {
  dht_peer sender;
  bool client_mode = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_ping& x) {
  return f(caf::meta::type_name("dht_ping"), x.sender, x.client_mode);
}

/// The answer to a ping: who answered.
struct dht_pong {
  dht_peer responder;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_pong& x) {
  return f(caf::meta::type_name("dht_pong"), x.responder);
}

/// One value to store under a 20-byte key (in a dictionary if has_subkey).
struct dht_store_item {
  std::string key;
  bool has_subkey = false;
  std::string subkey;
  std::string value;
  double expiration = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_store_item& x) {
  return f(caf::meta::type_name("dht_store_item"), x.key, x.has_subkey, x.subkey,
           x.value, x.expiration);
}

/// Store many values on the receiver.
struct dht_store_request {
  dht_peer sender;
  bool client_mode = false;
  std::vector<dht_store_item> items;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_store_request& x) {
  return f(caf::meta::type_name("dht_store_request"), x.sender, x.client_mode, x.items);
}

/// Per item of a dht_store_request: 1 if stored, 0 if rejected (expired,
/// or not newer than what the receiver holds).
struct dht_store_reply {
  dht_peer responder;
  std::vector<uint8_t> accepted;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_store_reply& x) {
  return f(caf::meta::type_name("dht_store_reply"), x.responder, x.accepted);
}

/// Ask the receiver for the values it holds under many 20-byte keys and
/// for the peers it knows nearest to each key.
struct dht_find_request {
  dht_peer sender;
  bool client_mode = false;
  std::vector<std::string> keys;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_find_request& x) {
  return f(caf::meta::type_name("dht_find_request"), x.sender, x.client_mode, x.keys);
}

/// The answer for one key of a dht_find_request.
struct dht_find_result {
  bool found = false;
  dht_record value;
  std::vector<dht_peer> nearest; ///< up to k, nearest first, requester excluded
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_find_result& x) {
  return f(caf::meta::type_name("dht_find_result"), x.found, x.value, x.nearest);
}

/// One result per key of the dht_find_request, in request order.
struct dht_find_reply {
  dht_peer responder;
  std::vector<dht_find_result> results;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_find_reply& x) {
  return f(caf::meta::type_name("dht_find_reply"), x.responder, x.results);
}

/// Join the swarm through `initial_peers` ("HOST:PORT" each; none for the
/// first peer), advertising `advertised` ("HOST:PORT"; empty: the endpoint
/// the peer was spawned with).
struct dht_bootstrap_request {
  std::string advertised;
  std::vector<std::string> initial_peers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_bootstrap_request& x) {
  return f(caf::meta::type_name("dht_bootstrap_request"), x.advertised, x.initial_peers);
}

/// One value to put under a text key (hashed with SHA-1 by the peer).
struct dht_put_item {
  std::string key;
  bool has_subkey = false;
  std::string subkey;
  std::string value;
  double expiration = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_put_item& x) {
  return f(caf::meta::type_name("dht_put_item"), x.key, x.has_subkey, x.subkey,
           x.value, x.expiration);
}

/// Store values on the num_replicas peers nearest to each key.
struct dht_put_request {
  std::vector<dht_put_item> items;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_put_request& x) {
  return f(caf::meta::type_name("dht_put_request"), x.items);
}

/// Per item of a dht_put_request: how many replicas acknowledged it.
struct dht_put_reply {
  std::vector<uint32_t> acks;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_put_reply& x) {
  return f(caf::meta::type_name("dht_put_reply"), x.acks);
}

/// Look up many text keys in the swarm.
struct dht_get_request {
  std::vector<std::string> keys;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_get_request& x) {
  return f(caf::meta::type_name("dht_get_request"), x.keys);
}

/// The outcome of looking up one key.
struct dht_get_result {
  bool found = false;
  dht_record value; ///< expired entries left out
  uint32_t hops = 0; ///< 0: held locally; else the depth of the answering peer
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_get_result& x) {
  return f(caf::meta::type_name("dht_get_result"), x.found, x.value, x.hops);
}

/// One result per key of the dht_get_request, in request order.
struct dht_get_reply {
  std::vector<dht_get_result> results;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_get_reply& x) {
  return f(caf::meta::type_name("dht_get_reply"), x.results);
}

/// A peer's view of itself, for tests, the CLI and benchmarks.
struct dht_peer_stats {
  dht_peer self;
  bool client_mode = false;
  uint64_t records = 0;
  std::vector<dht_peer> contacts; ///< the routing table, replacements left out
  uint64_t rpcs_sent = 0;
  uint64_t rpcs_failed = 0;
  uint64_t searches_started = 0;
  uint64_t searches_joined = 0; ///< lookups that joined a running search
  uint64_t finds_stalled = 0;   ///< find requests a lookup stopped waiting on
  uint64_t handed_off = 0;      ///< records sent to a new nearer peer
  uint64_t republished = 0;     ///< records re-stored by this holder
  uint64_t repaired = 0;        ///< records stored by read-repair
  uint64_t refused = 0;         ///< store items refused (bad signature, owned)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dht_peer_stats& x) {
  return f(caf::meta::type_name("dht_peer_stats"), x.self, x.client_mode, x.records,
           x.contacts, x.rpcs_sent, x.rpcs_failed, x.searches_started,
           x.searches_joined, x.finds_stalled, x.handed_off, x.republished, x.repaired,
           x.refused);
}

} // namespace colony
