#include "actors/dht/search.hpp"

#include "actors/dht/owner_merge.hpp"

namespace colony::dht {

search::search(node_id target, size_t values_wanted, size_t k, size_t alpha,
               const std::vector<contact>& initial, node_id self)
  : walk_(target, k, alpha, initial, self, values_wanted), want_value_(values_wanted > 0) {
  // nop
}

void search::on_reply(const node_id& from, const std::vector<contact>& returned,
                      const std::optional<record>& value) {
  auto carried = want_value_ && value.has_value();
  if (!walk_.on_reply(from, returned, carried) || !carried)
    return; // not in flight (a stale reply), or no value
  copies_[from] = *value;
}

search_outcome search::outcome() const {
  search_outcome result{std::nullopt, walk_.result(), walk_.hops(), {}};
  for (const auto& entry : copies_)
    result.copies.push_back(entry.second);
  if (!result.copies.empty())
    result.value = merge_copies(result.copies);
  return result;
}

} // namespace colony::dht
