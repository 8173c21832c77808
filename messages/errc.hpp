// colony::errc -- the one error enum of Colony, registered with CAF as the
// error category "colony" so that an error crosses nodes intact (code plus a
// context string such as "want [B,1024], got [B,512]").
#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace colony {

/// Semantic failure classes. Values are part of the wire protocol: append only.
enum class errc : uint8_t {
  none = 0,
  unknown_expert = 1,    ///< the uid is not served by this node
  bad_shape = 2,         ///< a tensor's shape does not fit the schema
  bad_dtype = 3,         ///< unsupported or unexpected dtype / compression
  malformed_payload = 4, ///< bytes that do not decode (truncated, garbage)
  payload_too_large = 5, ///< over the configured size limit
  bad_request = 6,       ///< wrong number of tensors, empty tensor list, bad id
  unreachable = 7,       ///< the peer or node cannot be reached
  timeout = 8,           ///< no answer within the deadline
  compute_failed = 9,    ///< the module threw while computing
  bad_config = 10,       ///< a config key or value is invalid
  io_failed = 11,        ///< reading or writing a file failed
  not_found = 12,        ///< a DHT key or expert is not present
  bootstrap_failed = 13, ///< no initial DHT peer answered
  too_few_experts = 14,  ///< a sample got fewer than k_min expert answers
  expert_restarting = 15, ///< the expert crashed and its supervisor is rebuilding it
  injected_failure = 16,  ///< a request failed on purpose (faults: config)
  unauthorized = 17,      ///< a control request without the node's token
  diverged = 18,          ///< an expert's parameters became NaN/Inf
  gave_up = 19,           ///< a supervisor exceeded its restart intensity
  expert_unavailable = 20, ///< the expert was given up by its supervisor (not restarting)
};

/// The CAF error category atom of `errc`.
constexpr caf::atom_value errc_category = caf::atom("colony");

/// Human-readable name of a code, e.g. "bad_shape".
std::string to_string(errc x);

/// Builds a CAF error of category "colony" carrying `context`.
caf::error make_error(errc code, std::string context = {});

/// Returns the colony code of `err`, or errc::none when `err` belongs to
/// another category.
errc code_of(const caf::error& err);

/// Returns the context string of `err` (empty if it has none).
std::string context_of(const caf::error& err);

/// One-line description of any error: "colony:bad_shape: want ..." for ours,
/// CAF's rendering for others (timeouts, unreachable actors, ...).
std::string describe(const caf::error& err);

} // namespace colony
