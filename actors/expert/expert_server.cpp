#include "actors/expert/expert_server.hpp"

#include <chrono>
#include <functional>
#include <memory>

#include <caf/all.hpp>

#include "messages/chunking.hpp"
#include "messages/errc.hpp"
#include "runtime/logging.hpp"

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
  std::map<std::string, expert_actor> experts;
  chunk_assembler chunks{0};
  std::shared_ptr<spdlog::logger> log = log::get("net");
  static inline const char* name = "colony.expert_server";

  void add_chunk(const caf::strong_actor_ptr& sender, tensor_chunk& c) {
    chunks.expire(now_s(), transfer_max_age_s);
    if (auto err = chunks.add(sender_key(sender), std::move(c), now_s()))
      log->warn("event=chunk_rejected error=\"{}\"", describe(err));
  }

  caf::error restore(const caf::strong_actor_ptr& sender, std::vector<tensor_blob>& blobs) {
    return chunks.restore(sender_key(sender), blobs);
  }

  caf::expected<expert_actor> find(const std::string& uid) const {
    auto i = experts.find(uid);
    if (i == experts.end())
      return make_error(errc::unknown_expert, "no expert '" + uid + "' on this node (serves "
                                                + std::to_string(experts.size()) + ")");
    return i->second;
  }
};

using server_pointer = expert_server_actor::stateful_pointer<server_state>;

caf::error restore_chunks(server_pointer self, forward_request& msg) {
  return self->state.restore(self->current_sender(), msg.inputs);
}

caf::error restore_chunks(server_pointer self, backward_request& msg) {
  if (auto err = self->state.restore(self->current_sender(), msg.inputs))
    return err;
  return self->state.restore(self->current_sender(), msg.grad_outputs);
}

caf::error restore_chunks(server_pointer, info_request&) {
  return caf::none;
}

/// Routes `msg` to the expert named in it, or answers unknown_expert.
template <class Reply, class Request>
caf::result<Reply> route(server_pointer self, Request& msg) {
  auto e = self->state.find(msg.uid);
  if (!e)
    return e.error();
  if (auto err = restore_chunks(self, msg))
    return err;
  return self->delegate(*e, std::move(msg));
}

/// Asks every expert to checkpoint and replies with how many succeeded.
caf::result<uint64_t> save_all(server_pointer self) {
  auto promise = self->make_response_promise<uint64_t>();
  auto remaining = std::make_shared<size_t>(self->state.experts.size());
  auto saved = std::make_shared<uint64_t>(0);
  if (*remaining == 0) {
    promise.deliver(uint64_t{0});
    return promise;
  }
  auto one_done = [promise, remaining, saved](bool ok) mutable {
    *saved += ok ? 1 : 0;
    if (--*remaining == 0)
      promise.deliver(*saved);
  };
  for (auto& kv : self->state.experts)
    self->request(kv.second, std::chrono::seconds{60}, save_atom::value)
      .then([one_done](uint64_t) mutable { one_done(true); },
            [one_done](const caf::error&) mutable { one_done(false); });
  return promise;
}

expert_server_actor::behavior_type server_fn(server_pointer self,
                                             std::map<std::string, expert_actor> experts,
                                             uint64_t max_message_bytes) {
  self->state.experts = std::move(experts);
  self->state.chunks = chunk_assembler{max_message_bytes};
  return {
    [self](forward_request& req) { return route<forward_reply>(self, req); },
    [self](backward_request& req) { return route<backward_reply>(self, req); },
    [self](info_request& req) { return route<expert_info>(self, req); },
    [self](list_atom) {
      std::vector<std::string> uids;
      for (auto& kv : self->state.experts)
        uids.push_back(kv.first);
      return uids;
    },
    [self](save_atom) { return save_all(self); },
    [self](ping_atom) { return static_cast<uint64_t>(self->state.experts.size()); },
    [self](tensor_chunk& c) { self->state.add_chunk(self->current_sender(), c); },
  };
}

} // namespace

expert_server_actor spawn_expert_server(caf::actor_system& sys,
                                        std::map<std::string, expert_actor> experts,
                                        uint64_t max_message_bytes) {
  return sys.spawn(server_fn, std::move(experts), max_message_bytes);
}

} // namespace colony
