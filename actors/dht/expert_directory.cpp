#include "actors/dht/expert_directory.hpp"

#include <algorithm>
#include <set>

#include "actors/dht/sealed_value.hpp"
#include "messages/errc.hpp"
#include "messages/expert_uid.hpp"

namespace colony::dht {

namespace {

caf::error bad_prefix(const std::string& prefix) {
  return make_error(errc::bad_request, "invalid prefix key '" + prefix
                                         + "' (want e.g. 'ffn.' or 'ffn.3.')");
}

/// A put item holding `payload` sealed by `owner`.
dht_put_item sealed_item(const identity::node_key& owner, const std::string& key,
                         bool has_subkey, const std::string& subkey, const std::string& payload,
                         double expiration) {
  return dht_put_item{key, has_subkey, subkey,
                      seal(owner, node_id::of_key(key), has_subkey, subkey, payload, expiration),
                      expiration};
}

/// The uid records of `uids`, then each prefix entry once.
std::vector<dht_put_item> items_of(const std::vector<std::string>& uids,
                                   const std::string& value, double expiration,
                                   const identity::node_key& owner) {
  std::vector<dht_put_item> result;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& uid : uids)
    result.push_back(sealed_item(owner, uid, false, {}, value, expiration));
  for (const auto& uid : uids) {
    auto entries = declaration_entries(uid);
    // The grid's root ("ffn.") is not declared under when there are levels
    // below it: gates probe the first-level prefixes in score order (as
    // hivemind's beam search does), so no one key is written by every
    // declarer and read by every search.
    for (size_t i = entries.size() > 1 ? 1 : 0; i < entries.size(); ++i) {
      // Upper levels are shared by every node with experts below: one
      // subkey per owner. The uid's own entry has one owner, as the uid.
      auto subkey = entries[i].subkey;
      if (i + 1 < entries.size())
        subkey += "@" + owner.fingerprint();
      if (seen.emplace(entries[i].prefix_key, subkey).second)
        result.push_back(sealed_item(owner, entries[i].prefix_key, true, subkey, value,
                                     expiration));
    }
  }
  return result;
}

/// The endpoint a declaration entry holds: sealed and valid, not withdrawn.
std::optional<endpoint> declared_endpoint(const std::string& key, bool has_subkey,
                                          const std::string& subkey, const dht_value& x) {
  auto opened = open_value(node_id::of_key(key), has_subkey, subkey, x.value, x.expiration);
  if (opened.state != seal_state::valid || opened.payload.empty())
    return std::nullopt;
  auto ep = parse_endpoint(opened.payload);
  return ep ? std::optional<endpoint>{*ep} : std::nullopt;
}

} // namespace

caf::expected<std::vector<dht_put_item>>
declaration_items(const std::vector<std::string>& uids, const endpoint& ep, double expiration,
                  const identity::node_key& owner) {
  for (const auto& uid : uids)
    if (auto parsed = parse_uid(uid); !parsed)
      return parsed.error();
  return items_of(uids, ep.to_string(), expiration, owner);
}

caf::expected<std::vector<dht_put_item>> withdrawal_items(const std::vector<std::string>& uids,
                                                          double expiration,
                                                          const identity::node_key& owner) {
  std::vector<dht_put_item> result;
  for (const auto& uid : uids) {
    if (auto parsed = parse_uid(uid); !parsed)
      return parsed.error();
    result.push_back(sealed_item(owner, uid, false, {}, {}, expiration));
    auto entries = declaration_entries(uid);
    if (!entries.empty())
      result.push_back(sealed_item(owner, entries.back().prefix_key, true,
                                   entries.back().subkey, {}, expiration));
  }
  return result;
}

std::optional<endpoint> expert_endpoint(const std::string& uid, const dht_get_result& result) {
  if (!result.found || result.value.is_dictionary || result.value.values.empty())
    return std::nullopt;
  return declared_endpoint(uid, false, {}, result.value.values.front());
}

std::map<int64_t, endpoint> successors(const std::string& prefix, const dht_get_result& result) {
  std::map<int64_t, endpoint> out;
  if (!result.found || !result.value.is_dictionary)
    return out;
  for (const auto& x : result.value.values) {
    auto at = x.subkey.find('@');
    auto coord = parse_coordinate(x.subkey.substr(0, at));
    auto ep = declared_endpoint(prefix, true, x.subkey, x);
    if (!coord || !ep)
      continue;
    if (at == std::string::npos) // a uid's own entry wins over shared ones
      out[*coord] = *ep;
    else
      out.emplace(*coord, *ep);
  }
  return out;
}

std::vector<std::pair<endpoint, double>> declarations(const std::string& key,
                                                      const dht_get_result& result) {
  std::vector<std::pair<endpoint, double>> out;
  if (!result.found)
    return out;
  for (const auto& x : result.value.values)
    if (auto ep = declared_endpoint(key, result.value.is_dictionary, x.subkey, x))
      out.emplace_back(*ep, x.expiration);
  return out;
}

caf::expected<declare_result> declare_experts(client& dht, const std::vector<std::string>& uids,
                                              const endpoint& ep, double expiration,
                                              const identity::node_key& owner) {
  auto items = declaration_items(uids, ep, expiration, owner);
  if (!items)
    return items.error();
  auto acks = dht.put(*items);
  if (!acks)
    return acks.error();
  declare_result result;
  result.items = acks->size();
  result.min_acks = uids.empty() ? 0 : *std::min_element(acks->begin(),
                                                         acks->begin() + uids.size());
  for (auto n : *acks)
    result.acks += n;
  return result;
}

caf::expected<std::vector<std::optional<endpoint>>>
get_experts(client& dht, const std::vector<std::string>& uids) {
  auto results = dht.get(uids);
  if (!results)
    return results.error();
  std::vector<std::optional<endpoint>> out;
  for (const auto& r : *results)
    out.push_back(expert_endpoint(uids[out.size()], r));
  return out;
}

caf::expected<std::vector<std::string>>
first_k_active(client& dht, const std::vector<std::string>& prefixes, size_t k) {
  for (const auto& p : prefixes)
    if (!is_valid_prefix(p))
      return bad_prefix(p);
  std::vector<std::string> out;
  auto chunk = std::max<size_t>(k, 8);
  for (size_t first = 0; first < prefixes.size() && out.size() < k; first += chunk) {
    auto last = std::min(prefixes.size(), first + chunk);
    std::vector<std::string> keys(prefixes.begin() + first, prefixes.begin() + last);
    auto results = dht.get(keys);
    if (!results)
      return results.error();
    for (size_t i = 0; i < keys.size() && out.size() < k; ++i)
      if (!successors(keys[i], (*results)[i]).empty())
        out.push_back(keys[i]);
  }
  return out;
}

caf::expected<std::map<int64_t, endpoint>> get_active_successors(client& dht,
                                                                 const std::string& prefix) {
  if (!is_valid_prefix(prefix))
    return bad_prefix(prefix);
  auto result = dht.get_one(prefix);
  if (!result)
    return result.error();
  return successors(prefix, *result);
}

caf::expected<std::vector<std::pair<std::string, endpoint>>>
list_experts(client& dht, const std::string& prefix, size_t first_dim) {
  if (!is_valid_prefix(prefix))
    return bad_prefix(prefix);
  std::vector<std::pair<std::string, endpoint>> out;
  std::set<std::string> first; // candidates below the prefix
  auto top = get_active_successors(dht, prefix);
  if (!top)
    return top.error();
  for (const auto& [coord, ep] : *top)
    first.insert(prefix + std::to_string(coord));
  if (std::count(prefix.begin(), prefix.end(), '.') == 1) // a grid's root
    for (size_t c = 0; c < std::min<size_t>(first_dim, 65536); ++c)
      first.insert(prefix + std::to_string(c));
  std::vector<std::string> names(first.begin(), first.end());
  // Per level, one batched get of every candidate as a uid and as a prefix.
  while (!names.empty()) {
    std::vector<std::string> keys;
    for (const auto& name : names) {
      keys.push_back(name);
      keys.push_back(name + ".");
    }
    auto results = dht.get(keys);
    if (!results)
      return results.error();
    std::vector<std::string> next;
    for (size_t i = 0; i < names.size(); ++i) {
      if (auto ep = expert_endpoint(names[i], (*results)[2 * i]))
        out.emplace_back(names[i], *ep);
      for (const auto& [coord, ep] : successors(names[i] + ".", (*results)[2 * i + 1]))
        next.push_back(names[i] + "." + std::to_string(coord));
    }
    names = std::move(next);
  }
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace colony::dht
