#include "actors/gate/prefix_cache.hpp"

namespace colony::gate {

prefix_cache::prefix_cache(prefix_cache_config cfg) : cfg_(cfg) {
  // nop
}

std::optional<successor_map> prefix_cache::find(const std::string& key, double now) {
  if (auto hit = positive_.find(key, now))
    return *hit;
  if (negative_.find(key, now))
    return successor_map{};
  return std::nullopt;
}

void prefix_cache::put(const std::string& key, successor_map found, double now) {
  if (found.empty()) {
    positive_.erase(key);
    negative_.put(key, none{}, now + cfg_.negative_expiry_s, cfg_.max_negative);
  } else {
    negative_.erase(key);
    positive_.put(key, std::move(found), now + cfg_.expiry_s, cfg_.max_entries);
  }
}

void prefix_cache::clear() {
  positive_.clear();
  negative_.clear();
}

} // namespace colony::gate
