// What a basp_guard (runtime/net_guard/basp_guard.hpp) lets through; YAML
// section `guard:` of a node config.
#pragma once

#include <cstdint>

namespace colony::net_guard {

/// What a guard lets through. Defaults fit Colony's largest legitimate
/// message: a 4 MiB tensor chunk (or a request whose inline tensors add up
/// to at most the chunk size) plus its headers.
struct guard_config {
  uint64_t max_message_bytes = uint64_t{5} << 20;
  uint32_t max_connections_per_source = 32;
  uint32_t max_connections = 1024;
  double first_message_timeout_s = 30;
  /// Outgoing connections through outbound_guard.hpp (what servers send is
  /// bounded by the node's max_message_bytes).
  bool outgoing = true;
};

} // namespace colony::net_guard
