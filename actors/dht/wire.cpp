#include "actors/dht/wire.hpp"

#include <cstring>

namespace colony::dht {

std::string to_wire(const node_id& x) {
  const auto& b = x.bytes();
  return std::string{reinterpret_cast<const char*>(b.data()), b.size()};
}

std::optional<node_id> id_from_wire(const std::string& bytes) {
  if (bytes.size() != node_id::num_bytes)
    return std::nullopt;
  node_id::bytes_type raw{};
  std::memcpy(raw.data(), bytes.data(), raw.size());
  return node_id{raw};
}

dht_peer to_wire(const contact& c) {
  return dht_peer{to_wire(c.id), c.ep.host, c.ep.port};
}

std::optional<contact> contact_from_wire(const dht_peer& p) {
  auto id = id_from_wire(p.id);
  if (!id || p.host.empty() || p.port == 0)
    return std::nullopt;
  return contact{*id, endpoint{p.host, p.port}, 0};
}

dht_record to_wire(const record& r) {
  dht_record result;
  result.is_dictionary = r.is_dictionary;
  if (!r.is_dictionary) {
    result.values.push_back(dht_value{{}, r.plain.value, r.plain.expiration});
    return result;
  }
  for (const auto& [subkey, x] : r.subkeys)
    result.values.push_back(dht_value{subkey, x.value, x.expiration});
  return result;
}

dht_record to_wire(const record& r, double now) {
  if (!r.is_dictionary)
    return to_wire(r);
  dht_record result;
  result.is_dictionary = true;
  result.values.reserve(r.subkeys.size());
  for (const auto& [subkey, x] : r.subkeys)
    if (x.expiration > now)
      result.values.push_back(dht_value{subkey, x.value, x.expiration});
  return result;
}

record record_from_wire(const dht_record& r) {
  record result;
  result.is_dictionary = r.is_dictionary;
  for (const auto& x : r.values) {
    if (!r.is_dictionary) {
      if (x.expiration > result.plain.expiration)
        result.plain = timed_value{x.value, x.expiration};
      continue;
    }
    auto& slot = result.subkeys[x.subkey];
    if (x.expiration > slot.expiration)
      slot = timed_value{x.value, x.expiration};
  }
  return result;
}

void merge_into(record& into, const record& from) {
  if (into.is_dictionary && from.is_dictionary) {
    for (const auto& [subkey, x] : from.subkeys) {
      auto& slot = into.subkeys[subkey];
      if (x.expiration > slot.expiration)
        slot = x;
    }
    return;
  }
  if (from.expiration() > into.expiration())
    into = from;
}

std::vector<dht_store_item> newer_items(const node_id& key, const record& merged,
                                        const std::optional<record>& copy) {
  std::vector<dht_store_item> result;
  auto id = to_wire(key);
  if (!merged.is_dictionary) {
    if (!copy || merged.plain.expiration > copy->expiration())
      result.push_back(dht_store_item{id, false, {}, merged.plain.value, merged.plain.expiration});
    return result;
  }
  for (const auto& [subkey, x] : merged.subkeys) {
    double held = 0;
    if (copy && copy->is_dictionary) {
      auto i = copy->subkeys.find(subkey);
      held = i == copy->subkeys.end() ? 0 : i->second.expiration;
    } else if (copy) {
      held = x.expiration > copy->plain.expiration ? 0 : x.expiration; // a newer plain value wins
    }
    if (x.expiration > held)
      result.push_back(dht_store_item{id, true, subkey, x.value, x.expiration});
  }
  return result;
}

} // namespace colony::dht
