// CAF message types of decentralized averaging (actors/averaging/): what
// one averager sends another. Tensors travel as bytes (the colony.v1.Tensor
// codec of messages/wire, float32 or compressed), never as vector<float>
// (NOTES: CAF serializes those element by element).
//
//   follower --avg_join--> leader           (reply: avg_group, after the join window)
//   member --avg_part--> reducer of a part   (reply: avg_part_result, the averaged part)
//   joiner --avg_state_request--> holder     (reply: avg_state_chunk, one slice per call)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace colony {

/// A follower asks the leader it chose to put it into its next group.
struct avg_join {
  std::string run;       ///< the run both average (the DHT key's name)
  std::string endpoint;  ///< where the follower's averager is published
  uint64_t layout = 0;   ///< hash of the tensor names and shapes it averages
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, avg_join& x) {
  return f(caf::meta::type_name("avg_join"), x.run, x.endpoint, x.layout);
}

/// The leader's answer: the round's id and its members (sorted endpoints;
/// a member's index is its position).
struct avg_group {
  uint64_t round = 0;
  std::vector<std::string> members;
  uint32_t parts = 0; ///< how many parts the flat vector is split into
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, avg_group& x) {
  return f(caf::meta::type_name("avg_group"), x.round, x.members, x.parts);
}

/// One member's slice `part` of the flattened tensors, for the reducer of
/// that part at retry `attempt`. `data` is an encoded float32 tensor [n].
struct avg_part {
  uint64_t round = 0;
  uint32_t part = 0;
  uint32_t attempt = 0;
  uint32_t sender = 0; ///< the member's index in the group
  double weight = 1;
  uint64_t layout = 0;
  std::string data;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, avg_part& x) {
  return f(caf::meta::type_name("avg_part"), x.round, x.part, x.attempt, x.sender, x.weight,
           x.layout, x.data);
}

/// The reducer's answer: the weighted mean of `part` over `contributors`
/// (member indices), encoded like avg_part::data.
struct avg_part_result {
  uint64_t round = 0;
  uint32_t part = 0;
  uint32_t attempt = 0;
  std::vector<uint32_t> contributors;
  std::string data;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, avg_part_result& x) {
  return f(caf::meta::type_name("avg_part_result"), x.round, x.part, x.attempt, x.contributors,
           x.data);
}

/// A joiner asks for slice `chunk` of the state a peer holds for `run`.
struct avg_state_request {
  std::string run;
  uint32_t chunk = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, avg_state_request& x) {
  return f(caf::meta::type_name("avg_state_request"), x.run, x.chunk);
}

/// One slice of a peer's state: the names, shapes and version in every
/// chunk, `bytes` = float32 little-endian bytes [offset, offset + size) of
/// the tensors concatenated in order.
struct avg_state_chunk {
  uint64_t version = 0;
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  uint32_t chunk = 0;
  uint32_t chunks = 0;
  uint64_t offset = 0;
  std::string bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, avg_state_chunk& x) {
  return f(caf::meta::type_name("avg_state_chunk"), x.version, x.names, x.shapes, x.chunk,
           x.chunks, x.offset, x.bytes);
}

} // namespace colony
