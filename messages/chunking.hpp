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
/// larger than `chunk_bytes` (or, with `force`, not empty); returns nothing
/// (and leaves it) otherwise.
std::vector<tensor_chunk> split_blob(tensor_blob& blob, uint64_t transfer, size_t chunk_bytes,
                                     bool force = false);

/// Splits the blobs of one request so that what stays inline adds up to at
/// most `chunk_bytes`: every CAF message a sender makes is then at most
/// about one chunk, the bound the guard in front of a node enforces
/// (runtime/net_guard). `next_transfer` gives fresh transfer ids.
template <class NextTransfer>
std::vector<tensor_chunk> split_request(std::vector<std::vector<tensor_blob>*> blob_lists,
                                        size_t chunk_bytes, NextTransfer next_transfer) {
  std::vector<tensor_chunk> out;
  size_t inline_bytes = 0;
  for (auto* blobs : blob_lists)
    for (auto& blob : *blobs) {
      bool force = chunk_bytes > 0 && inline_bytes + blob.bytes.size() > chunk_bytes;
      auto chunks = split_blob(blob, next_transfer(), chunk_bytes, force);
      if (chunks.empty())
        inline_bytes += blob.bytes.size();
      for (auto& c : chunks)
        out.push_back(std::move(c));
    }
  return out;
}

/// Collects chunks per (sender, transfer) and restores referenced blobs.
/// Invariant: the bytes held never exceed `max_bytes` in total per transfer.
/// A transfer that failed (over the limit, out of order) is remembered with
/// its error until it expires: its later chunks are dropped silently and the
/// request that references it gets that error, not "0 of N chunks arrived".
/// At most `max_failed` failures are remembered (the oldest go first).
class chunk_assembler {
public:
  explicit chunk_assembler(uint64_t max_bytes, size_t max_failed = 1024)
    : max_bytes_(max_bytes), max_failed_(max_failed) {}

  /// Adds one chunk from `sender` at time `now` (seconds, any clock).
  /// errc::payload_too_large or errc::malformed_payload (out of order) for
  /// the chunk that made its transfer fail; none for later chunks of a
  /// transfer that already failed (they are dropped).
  caf::error add(uint64_t sender, tensor_chunk chunk, double now);

  /// Restores every referenced blob of `blobs` from `sender`'s chunks.
  /// The remembered error of a failed transfer (e.g. payload_too_large
  /// naming the limit); errc::malformed_payload when a transfer is missing
  /// or incomplete. When `first_seen` is given and a blob was chunked, it
  /// is lowered to when the first chunk of those transfers arrived (the
  /// `now` of add()): the receiver's earliest sight of the request, so that
  /// a deadline counted from it is never later than the sender's.
  caf::error restore(uint64_t sender, std::vector<tensor_blob>& blobs,
                     double* first_seen = nullptr);

  /// True when every chunk of every referenced blob of `blobs` is here, or
  /// one of them failed (restore then reports why).
  bool ready(uint64_t sender, const std::vector<tensor_blob>& blobs) const;

  /// Drops transfers (and remembered failures) whose last chunk arrived
  /// before `now - max_age`.
  size_t expire(double now, double max_age);

  /// Transfers in progress.
  size_t size() const { return partial_.size(); }

  /// Failed transfers remembered.
  size_t failed() const { return failed_.size(); }

private:
  struct partial {
    std::string bytes;
    uint32_t next_index = 0;
    double first_seen = 0;
    double last_seen = 0;
  };
  struct failure {
    caf::error why;
    double last_seen = 0;
    uint64_t seq = 0; ///< insertion order, to drop the oldest
  };
  using key = std::pair<uint64_t, uint64_t>;
  void remember(const key& k, caf::error why, double now);
  uint64_t max_bytes_;
  size_t max_failed_;
  uint64_t next_seq_ = 0;
  std::map<key, partial> partial_;
  std::map<key, failure> failed_;
};

} // namespace colony
