// Chunked transfer of large tensor payloads (pure: no actors, no torch).
//
// A tensor_blob larger than the chunk size does not travel inside its
// request: the sender first sends its bytes as tensor_chunk messages (CAF
// keeps the order of messages between two actors) and then the request with
// the blob's bytes replaced by a reference {transfer, chunks}. The receiver
// assembles the chunks and restores the blob before it handles the request.
// This keeps every CAF message small (see NOTES: one 1 GB message ran at
// 85 MB/s and took 4.6 GB of RAM).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "messages/expert_messages.hpp"

namespace colony {

/// Default chunk size: a few MiB keeps CAF's buffers small while the
/// per-message overhead stays negligible.
constexpr size_t default_chunk_bytes = size_t{4} << 20;

/// Replaces `blob`'s bytes by a reference and returns its chunks when it is
/// larger than `chunk_bytes`; returns nothing (and leaves it) otherwise.
std::vector<tensor_chunk> split_blob(tensor_blob& blob, uint64_t transfer, size_t chunk_bytes);

/// Collects chunks per (sender, transfer) and restores referenced blobs.
/// Invariant: the bytes held never exceed `max_bytes` in total per transfer.
class chunk_assembler {
public:
  explicit chunk_assembler(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  /// Adds one chunk from `sender` at time `now` (seconds, any clock).
  /// errc::payload_too_large or errc::malformed_payload (out of order).
  caf::error add(uint64_t sender, tensor_chunk chunk, double now);

  /// Restores every referenced blob of `blobs` from `sender`'s chunks.
  /// errc::malformed_payload when a transfer is missing or incomplete.
  caf::error restore(uint64_t sender, std::vector<tensor_blob>& blobs);

  /// True when every chunk of every referenced blob of `blobs` is here.
  bool ready(uint64_t sender, const std::vector<tensor_blob>& blobs) const;

  /// Drops transfers whose last chunk arrived before `now - max_age`.
  size_t expire(double now, double max_age);

  /// Transfers in progress.
  size_t size() const { return partial_.size(); }

private:
  struct partial {
    std::string bytes;
    uint32_t next_index = 0;
    double last_seen = 0;
  };
  using key = std::pair<uint64_t, uint64_t>;
  uint64_t max_bytes_;
  std::map<key, partial> partial_;
};

} // namespace colony
