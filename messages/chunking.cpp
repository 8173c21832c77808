#include "messages/chunking.hpp"

#include <algorithm>

#include "messages/errc.hpp"

namespace colony {

std::vector<tensor_chunk> split_blob(tensor_blob& blob, uint64_t transfer, size_t chunk_bytes,
                                     bool force) {
  std::vector<tensor_chunk> out;
  if (chunk_bytes == 0 || blob.bytes.empty() || (!force && blob.bytes.size() <= chunk_bytes))
    return out;
  for (size_t pos = 0; pos < blob.bytes.size(); pos += chunk_bytes)
    out.push_back(tensor_chunk{transfer, static_cast<uint32_t>(out.size()),
                               blob.bytes.substr(pos, chunk_bytes)});
  blob.bytes.clear();
  blob.bytes.shrink_to_fit();
  blob.transfer = transfer;
  blob.chunks = static_cast<uint32_t>(out.size());
  return out;
}

void chunk_assembler::remember(const key& k, caf::error why, double now) {
  if (max_failed_ == 0)
    return;
  if (failed_.size() >= max_failed_ && failed_.count(k) == 0) {
    auto oldest = failed_.begin();
    for (auto i = failed_.begin(); i != failed_.end(); ++i)
      if (i->second.seq < oldest->second.seq)
        oldest = i;
    failed_.erase(oldest);
  }
  failed_[k] = failure{std::move(why), now, next_seq_++};
}

caf::error chunk_assembler::add(uint64_t sender, tensor_chunk chunk, double now) {
  key k{sender, chunk.transfer};
  if (auto f = failed_.find(k); f != failed_.end()) {
    f->second.last_seen = now;
    return caf::none; // the transfer already failed; restore() reports why
  }
  auto& p = partial_[k];
  auto fail = [&](errc code, std::string why) {
    partial_.erase(k);
    auto err = make_error(code, "transfer " + std::to_string(chunk.transfer) + ": " + why);
    remember(k, err, now);
    return err;
  };
  if (chunk.index != p.next_index)
    return fail(errc::malformed_payload, "chunk " + std::to_string(chunk.index) + " arrived, want "
                                           + std::to_string(p.next_index));
  if (p.bytes.size() + chunk.bytes.size() > max_bytes_)
    return fail(errc::payload_too_large, "over the limit of " + std::to_string(max_bytes_)
                                           + " bytes");
  if (p.next_index == 0)
    p.first_seen = now;
  if (p.bytes.empty())
    p.bytes = std::move(chunk.bytes);
  else
    p.bytes += chunk.bytes;
  p.next_index += 1;
  p.last_seen = now;
  return caf::none;
}

caf::error chunk_assembler::restore(uint64_t sender, std::vector<tensor_blob>& blobs,
                                    double* first_seen) {
  for (auto& blob : blobs) {
    if (blob.chunks == 0)
      continue;
    if (auto f = failed_.find({sender, blob.transfer}); f != failed_.end()) {
      auto why = std::move(f->second.why);
      failed_.erase(f);
      return why;
    }
    auto i = partial_.find({sender, blob.transfer});
    if (i == partial_.end() || i->second.next_index != blob.chunks) {
      auto have = i == partial_.end() ? 0u : i->second.next_index;
      if (i != partial_.end())
        partial_.erase(i);
      return make_error(errc::malformed_payload,
                        "transfer " + std::to_string(blob.transfer) + ": "
                          + std::to_string(have) + " of " + std::to_string(blob.chunks)
                          + " chunks arrived");
    }
    if (first_seen)
      *first_seen = std::min(*first_seen, i->second.first_seen);
    blob.bytes = std::move(i->second.bytes);
    blob.transfer = 0;
    blob.chunks = 0;
    partial_.erase(i);
  }
  return caf::none;
}

bool chunk_assembler::ready(uint64_t sender, const std::vector<tensor_blob>& blobs) const {
  for (auto& blob : blobs) {
    if (blob.chunks == 0 || failed_.count({sender, blob.transfer}) > 0)
      continue;
    auto i = partial_.find({sender, blob.transfer});
    if (i == partial_.end() || i->second.next_index < blob.chunks)
      return false;
  }
  return true;
}

size_t chunk_assembler::expire(double now, double max_age) {
  size_t n = 0;
  for (auto i = partial_.begin(); i != partial_.end();) {
    if (i->second.last_seen < now - max_age) {
      i = partial_.erase(i);
      ++n;
    } else {
      ++i;
    }
  }
  for (auto i = failed_.begin(); i != failed_.end();) {
    if (i->second.last_seen < now - max_age)
      i = failed_.erase(i);
    else
      ++i;
  }
  return n;
}

} // namespace colony
