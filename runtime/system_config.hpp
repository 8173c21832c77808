// The CAF actor system configuration of every Colony process: all message
// types registered (messages/registry), the middleman loaded, thread pools
// sized deliberately (see NOTES: CAF and OpenMP both start threads).
#pragma once

#include <cstddef>
#include <string>

#include <caf/actor_system_config.hpp>

namespace colony {

/// Knobs of the actor system, set in code so that CLI11 owns argv.
struct system_options {
  /// CAF scheduler threads (torch work runs on detached expert threads).
  size_t scheduler_threads = 2;
  /// middleman.heartbeat-interval in ms (with connection_timeout_ms); 0
  /// disables both. Off: CAF 0.17.6's heartbeat cuts every outgoing
  /// connection whose handshake takes longer than one interval (NOTES
  /// section 4), so slow links could not connect. Hung nodes are found by
  /// Colony's own pings instead (actors/client/liveness.hpp).
  size_t heartbeat_ms = 0;
  size_t connection_timeout_ms = 5000;
};

/// actor_system_config with Colony's types and the io middleman.
class system_config : public caf::actor_system_config {
public:
  explicit system_config(const system_options& opts = {});
};

} // namespace colony
