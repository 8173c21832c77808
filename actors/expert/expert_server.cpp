#include "actors/expert/expert_server.hpp"

#include <chrono>
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>

#include <caf/all.hpp>

#include "messages/chunking.hpp"
#include "messages/errc.hpp"
#include "runtime/logging.hpp"
#include "runtime/rate_limit.hpp"

namespace colony {

namespace {

/// Seconds since an arbitrary epoch, for expiring abandoned transfers.
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Identifies the sender of the current message across nodes.
uint64_t sender_key(const caf::strong_actor_ptr& sender) {
  if (!sender)
    return 0;
  return std::hash<caf::node_id>{}(sender->node()) * 1099511628211ull ^ sender->id();
}

/// A transfer whose next chunk has not come for this long is dropped.
constexpr double transfer_max_age_s = 120;

struct server_state {
  std::shared_ptr<expert_registry> experts;
  chunk_assembler chunks{0};
  std::shared_ptr<spdlog::logger> log = log::get("net");
  /// Any peer can send chunks: at most one line per second.
  rate_limited_counter rejected{std::chrono::seconds{1}};
  static inline const char* name = "colony.expert_server";

  void add_chunk(const caf::strong_actor_ptr& sender, tensor_chunk& c) {
    chunks.expire(now_s(), transfer_max_age_s);
    if (auto err = chunks.add(sender_key(sender), std::move(c), now_s()))
      if (auto n = rejected.add(1, std::chrono::steady_clock::now()))
        log->warn("event=chunk_rejected count={} error=\"{}\"", n, describe(err));
  }

  caf::error restore(const caf::strong_actor_ptr& sender, std::vector<tensor_blob>& blobs,
                     double* first_seen) {
    return chunks.restore(sender_key(sender), blobs, first_seen);
  }

  caf::expected<expert_actor> find(const std::string& uid) const {
    return experts->find(uid);
  }
};

using server_pointer = expert_server_actor::stateful_pointer<server_state>;

caf::error restore_chunks(server_pointer self, forward_request& msg, double* first_seen) {
  return self->state.restore(self->current_sender(), msg.inputs, first_seen);
}

caf::error restore_chunks(server_pointer self, backward_request& msg, double* first_seen) {
  if (auto err = self->state.restore(self->current_sender(), msg.inputs, first_seen))
    return err;
  return self->state.restore(self->current_sender(), msg.grad_outputs, first_seen);
}

/// Routes `msg` to the expert named in it, or answers unknown_expert. The
/// expert learns how long ago the request's first chunk arrived: a budget
/// counts from there, not from the end of a slow upload.
template <class Reply, class Request>
caf::result<Reply> route(server_pointer self, Request& msg) {
  auto e = self->state.find(msg.uid);
  if (!e)
    return e.error();
  auto now = now_s();
  auto first_seen = now;
  if (auto err = restore_chunks(self, msg, &first_seen))
    return err;
  auto waited_ms = std::min(std::max(0.0, (now - first_seen) * 1000.0), double{UINT32_MAX});
  return self->delegate(*e, std::move(msg), static_cast<uint32_t>(waited_ms));
}

caf::result<expert_info> route_info(server_pointer self, info_request& msg) {
  auto e = self->state.find(msg.uid);
  if (!e)
    return e.error();
  return self->delegate(*e, std::move(msg));
}

expert_server_actor::behavior_type server_fn(server_pointer self,
                                             std::shared_ptr<expert_registry> experts,
                                             uint64_t max_message_bytes) {
  self->state.experts = std::move(experts);
  self->state.chunks = chunk_assembler{max_message_bytes};
  return {
    [self](forward_request& req) { return route<forward_reply>(self, req); },
    [self](backward_request& req) { return route<backward_reply>(self, req); },
    [self](info_request& req) { return route_info(self, req); },
    [self](list_atom) { return self->state.experts->uids(); },
    [self](ping_atom) { return static_cast<uint64_t>(self->state.experts->size()); },
    [self](tensor_chunk& c) { self->state.add_chunk(self->current_sender(), c); },
  };
}

} // namespace

expert_server_actor spawn_expert_server(caf::actor_system& sys,
                                        std::shared_ptr<expert_registry> registry,
                                        uint64_t max_message_bytes) {
  return sys.spawn(server_fn, std::move(registry), max_message_bytes);
}

expert_server_actor spawn_expert_server(caf::actor_system& sys,
                                        std::map<std::string, expert_actor> experts,
                                        uint64_t max_message_bytes) {
  auto registry = std::make_shared<expert_registry>();
  for (auto& [uid, handle] : experts)
    registry->put(uid, handle);
  return spawn_expert_server(sys, std::move(registry), max_message_bytes);
}

} // namespace colony
