// What an averager does and how long it waits: the `averaging:` section of
// a trainer's config (or any YAML map of these keys), validated with the
// key named in every error (runtime/yaml_reader.hpp).
#pragma once

#include <cstdint>
#include <string>

#include <caf/expected.hpp>

#include "messages/wire/tensor_codec.hpp"

namespace colony::averaging {

/// Settings of one averager. Every wait is bounded by one of them.
struct averaging_config {
  /// The run (model) whose trainers average together; the DHT key is
  /// "avg.<run>". Required, non-empty.
  std::string run;
  /// Average every this many local steps (0: not by steps).
  uint64_t every_steps = 0;
  /// Average every this many seconds (0: not by time).
  double every_s = 0;
  /// The most peers in one group (the leader included).
  uint32_t group_size = 16;
  /// How long a leader gathers joins before it closes the group.
  double join_window_s = 2;
  /// Bound of every other wait of a round (connect, all-reduce and its
  /// retries), counted from when the group is known.
  double round_timeout_s = 30;
  /// How parts travel: none (float32), float16 or uint8 (lossy).
  wire::compression compression = wire::compression::none;
  /// A group smaller than this does not average (the round fails).
  uint32_t min_group = 2;
  /// Re-reductions of a part whose reducer failed, within the round.
  uint32_t max_retries = 2;
  /// Largest encoded part in one message; more parts when the tensors are
  /// bigger (stays under the port guard's message limit).
  uint64_t max_part_bytes = uint64_t{4} << 20;
};

/// Parses a YAML map (the text of a file or a section); errc::bad_config
/// naming the key ("averaging.group_size: 0 out of range 1..4096").
/// `path` prefixes key names in errors.
caf::expected<averaging_config> parse_averaging_config(const std::string& yaml_text,
                                                       const std::string& path = "averaging");

/// Checks the relations between fields (min_group <= group_size, ...).
caf::error validate(const averaging_config& cfg, const std::string& path = "averaging");

/// Whether a trainer should average now, `steps` local steps and
/// `elapsed_s` seconds after its last average (either trigger; none when
/// both are 0).
bool due(const averaging_config& cfg, uint64_t steps, double elapsed_s);

/// The DHT key under which the peers of `run` announce a round.
std::string group_key(const std::string& run);

/// The DHT key under which the peers holding `run`'s state announce it.
std::string state_key(const std::string& run);

} // namespace colony::averaging
