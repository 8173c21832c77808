#include "actors/dht/peer_config.hpp"

namespace colony::dht {

double unix_time() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

} // namespace colony::dht
