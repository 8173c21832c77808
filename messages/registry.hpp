// The one place where every Colony message type and the error category are
// registered with CAF. Both ends of a connection must call this.
#pragma once

#include <caf/actor_system_config.hpp>

namespace colony {

/// Adds all message types and the "colony" error category to `cfg`.
void register_messages(caf::actor_system_config& cfg);

} // namespace colony
