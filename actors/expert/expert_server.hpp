// The node's published endpoint (see protocol.hpp).
#pragma once

#include <map>
#include <string>

#include <caf/actor_system.hpp>

#include "actors/expert/protocol.hpp"

namespace colony {

/// Spawns the server routing to `experts` (uid -> actor).
expert_server_actor spawn_expert_server(caf::actor_system& sys,
                                        std::map<std::string, expert_actor> experts);

} // namespace colony
