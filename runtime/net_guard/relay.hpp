// What both guards (basp_guard.hpp for incoming connections,
// outbound_guard.hpp for outgoing ones) need to relay a CAF connection
// through user space and read its BASP headers on the way: socket options,
// a bounded byte queue, and an incremental BASP message parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace colony::net_guard {

/// Size of one BASP header in CAF 0.17.6 (caf/io/basp/header.hpp): op (1),
/// two padding bytes, flags (1), payload_len (4, network order),
/// operation_data (8), source and destination actor ids (8 + 8).
constexpr size_t basp_header_size = 32;

/// The largest BASP operation code of 0.17.6 (heartbeat = 0x06).
constexpr uint8_t basp_max_operation = 0x06;

/// Bytes a guard buffers per connection and direction.
constexpr size_t relay_buffer_bytes = size_t{64} << 10;

/// Checks one BASP header (basp_header_size bytes); returns its payload
/// length, or -1 (unknown operation) or -2 (payload over `max_payload`).
int64_t check_header(const unsigned char* header, uint64_t max_payload);

void set_nonblocking(int fd);
void set_nodelay(int fd);

/// The local port `fd` is bound to (0 on error).
uint16_t local_port(int fd);

/// A byte queue between two sockets.
struct pipe_buffer {
  std::vector<char> bytes;
  size_t offset = 0;
  bool empty() const { return offset == bytes.size(); }
  /// Writes what it can to `fd`; false on a fatal error.
  bool flush(int fd);
};

/// Parses a stream of BASP messages as its bytes arrive.
class basp_reader {
public:
  /// Consumes `n` bytes. Returns nullptr, or why the stream must be cut:
  /// "unknown_basp_operation" or "payload_over_limit" (then `claimed()` is
  /// the header's payload length).
  const char* feed(const char* data, size_t n, uint64_t max_payload);

  /// Complete messages so far.
  uint64_t messages() const { return messages_; }

  /// The payload length the last header claimed.
  uint64_t claimed() const { return claimed_; }

private:
  unsigned char header_[basp_header_size] = {0};
  size_t header_have_ = 0;
  uint64_t payload_left_ = 0;
  uint64_t messages_ = 0;
  uint64_t claimed_ = 0;
};

/// One relayed connection: `down` connected to the guard, `up` is the
/// guard's connection onward; `reader` checks the bytes of one side.
struct relay_link {
  int down = -1;
  int up = -1;
  bool up_connected = false;
  pipe_buffer to_up;
  pipe_buffer to_down;
  basp_reader reader;
  bool dead = false;

  /// The poll events to wait for: on `down`, on `up`.
  std::pair<short, short> events() const;
};

/// What pump() did.
enum class pump_result {
  ok,
  closed,          ///< a side closed or failed
  upstream_failed, ///< the onward connect failed
  refused,         ///< the checked side sent a bad header (why set)
};

/// Moves what is ready (poll events `down_ev`, `up_ev`) between the sides
/// of `l`; the bytes read from `down` (check_down) or else from `up` pass
/// through l.reader with `max_payload` before they are queued.
pump_result pump(relay_link& l, short down_ev, short up_ev, bool check_down,
                 uint64_t max_payload, const char*& why);

} // namespace colony::net_guard
