#include "actors/dht/search.hpp"

#include "actors/dht/wire.hpp"

namespace colony::dht {

search::search(node_id target, size_t values_wanted, size_t k, size_t alpha,
               const std::vector<contact>& initial, node_id self)
  : walk_(target, k, alpha, initial, self, values_wanted), want_value_(values_wanted > 0) {
  // nop
}

void search::on_reply(const node_id& from, const std::vector<contact>& returned,
                      const std::optional<record>& value) {
  auto carried = want_value_ && value.has_value();
  auto before = walk_.pending();
  walk_.on_reply(from, returned, carried);
  if (!carried || walk_.pending() == before)
    return; // not in flight: a stale reply
  if (value_)
    merge_into(*value_, *value);
  else
    value_ = value;
}

search_outcome search::outcome() const {
  return search_outcome{value_, walk_.result(), walk_.hops()};
}

} // namespace colony::dht
