// The node's published endpoint (see protocol.hpp).
#pragma once

#include <map>
#include <string>

#include <caf/actor_system.hpp>

#include "actors/expert/expert_registry.hpp"
#include "actors/expert/protocol.hpp"

namespace colony {

/// Spawns the server routing to the experts of `registry`; chunked
/// payloads above `max_message_bytes` are refused.
expert_server_actor spawn_expert_server(caf::actor_system& sys,
                                        std::shared_ptr<expert_registry> registry,
                                        uint64_t max_message_bytes);

/// The same over a fixed map (tests).
expert_server_actor spawn_expert_server(caf::actor_system& sys,
                                        std::map<std::string, expert_actor> experts,
                                        uint64_t max_message_bytes);

} // namespace colony
