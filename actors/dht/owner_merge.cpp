#include "actors/dht/owner_merge.hpp"

#include <map>
#include <string>

#include "actors/dht/sealed_value.hpp"
#include "actors/dht/wire.hpp"

namespace colony::dht {

timed_value vote(const std::vector<timed_value>& xs) {
  struct group {
    size_t copies = 0;
    const timed_value* latest = nullptr;
  };
  std::map<std::string, group> by_owner;
  for (const auto& x : xs) {
    auto& g = by_owner[owner_of(x.value).value_or(std::string{})];
    ++g.copies;
    if (g.latest == nullptr || x.expiration > g.latest->expiration)
      g.latest = &x;
  }
  const group* best = nullptr;
  for (const auto& [owner, g] : by_owner)
    if (best == nullptr || g.copies > best->copies
        || (g.copies == best->copies && g.latest->expiration > best->latest->expiration))
      best = &g;
  return *best->latest;
}

record merge_copies(const std::vector<record>& copies) {
  std::map<std::string, std::vector<timed_value>> by_subkey;
  std::vector<timed_value> plains;
  for (const auto& c : copies) {
    if (!c.is_dictionary) {
      plains.push_back(c.plain);
      continue;
    }
    for (const auto& [subkey, x] : c.subkeys)
      by_subkey[subkey].push_back(x);
  }
  record dict;
  dict.is_dictionary = true;
  for (const auto& [subkey, xs] : by_subkey)
    dict.subkeys[subkey] = vote(xs);
  if (plains.empty())
    return dict;
  record result;
  result.plain = vote(plains);
  if (!by_subkey.empty())
    merge_into(result, dict);
  return result;
}

} // namespace colony::dht
