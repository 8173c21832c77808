// CAF message types of the expert protocol. Tensors travel as tensor_blob:
// the bytes of one colony.v1.Tensor (CAF copies strings with memcpy, while a
// std::vector<float> would be serialized element by element, ~30x slower).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace colony {

/// One encoded colony.v1.Tensor. A large one travels in `chunks` separate
/// tensor_chunk messages of transfer id `transfer` (see chunking.hpp); its
/// `bytes` are then empty.
struct tensor_blob {
  std::string bytes;
  uint64_t transfer = 0;
  uint32_t chunks = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tensor_blob& x) {
  return f(caf::meta::type_name("tensor_blob"), x.bytes, x.transfer, x.chunks);
}

/// Part `index` of the bytes of a chunked tensor_blob.
struct tensor_chunk {
  uint64_t transfer = 0;
  uint32_t index = 0;
  std::string bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tensor_chunk& x) {
  return f(caf::meta::type_name("tensor_chunk"), x.transfer, x.index, x.bytes);
}

/// Shape (without the batch dimension; -1 = any size) and dtype name of one
/// input or output of an expert.
struct tensor_schema {
  std::vector<int64_t> shape;
  std::string dtype;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tensor_schema& x) {
  return f(caf::meta::type_name("tensor_schema"), x.shape, x.dtype);
}

/// "[B, *, 512]": the batch dim, then each dim ('*' = any size).
std::string shape_string(const tensor_schema& s);

/// Run the expert `uid` on a batch: every input has the batch as dim 0.
/// `budget_ms`: how long the client still waits for the reply when it
/// starts sending the request (0 = no deadline). The node counts it from
/// when it first saw the request: its first chunk when the inputs travel
/// as chunks, else its arrival. The transit time of that first message is
/// not known, so the node's deadline is never earlier than the client's,
/// and a slow upload does not move it later. The expert refuses a request
/// whose deadline passed on the way and drops rows still queued once it
/// has passed (both counted as expired).
struct forward_request {
  std::string uid;
  std::vector<tensor_blob> inputs;
  uint32_t budget_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forward_request& x) {
  return f(caf::meta::type_name("forward_request"), x.uid, x.inputs, x.budget_ms);
}

/// The outputs of a forward_request, batch rows in request order.
struct forward_reply {
  std::vector<tensor_blob> outputs;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forward_reply& x) {
  return f(caf::meta::type_name("forward_reply"), x.outputs);
}

/// Gradients w.r.t. the outputs of a forward on `inputs`. The expert
/// recomputes the forward, returns grad_inputs and applies its own
/// optimizer step (asynchronous SGD).
/// `budget_ms` as in forward_request.
struct backward_request {
  std::string uid;
  std::vector<tensor_blob> inputs;
  std::vector<tensor_blob> grad_outputs;
  uint32_t budget_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, backward_request& x) {
  return f(caf::meta::type_name("backward_request"), x.uid, x.inputs,
           x.grad_outputs, x.budget_ms);
}

/// Gradients w.r.t. each input of a backward_request.
struct backward_reply {
  std::vector<tensor_blob> grad_inputs;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, backward_reply& x) {
  return f(caf::meta::type_name("backward_reply"), x.grad_inputs);
}

/// Asks for the schema and counters of the expert `uid`.
struct info_request {
  std::string uid;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, info_request& x) {
  return f(caf::meta::type_name("info_request"), x.uid);
}

/// Schema and counters of one expert.
struct expert_info {
  std::string uid;
  std::string module_type;
  std::vector<tensor_schema> inputs;
  std::vector<tensor_schema> outputs;
  uint64_t num_parameters = 0;
  uint64_t updates = 0;
  uint64_t forward_samples = 0;
  uint64_t backward_samples = 0;
  uint64_t forward_batches = 0;
  uint64_t backward_batches = 0;
  uint32_t max_batch_size = 0;
  /// Requests (and their rows not yet computed) dropped because their
  /// deadline passed while they were queued.
  uint64_t expired_requests = 0;
  uint64_t expired_rows = 0;
  /// Requests waiting in (or being computed from) its forward and backward queues now.
  uint64_t queued_forward = 0;
  uint64_t queued_backward = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, expert_info& x) {
  return f(caf::meta::type_name("expert_info"), x.uid, x.module_type, x.inputs,
           x.outputs, x.num_parameters, x.updates, x.forward_samples,
           x.backward_samples, x.forward_batches, x.backward_batches,
           x.max_batch_size, x.expired_requests, x.expired_rows, x.queued_forward,
           x.queued_backward);
}

} // namespace colony
