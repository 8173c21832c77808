#include "actors/expert/expert_server.hpp"

#include <memory>

#include <caf/all.hpp>

#include "messages/errc.hpp"
#include "runtime/logging.hpp"

namespace colony {

namespace {

struct server_state {
  std::map<std::string, expert_actor> experts;
  static inline const char* name = "colony.expert_server";

  caf::expected<expert_actor> find(const std::string& uid) const {
    auto i = experts.find(uid);
    if (i == experts.end())
      return make_error(errc::unknown_expert, "no expert '" + uid + "' on this node (serves "
                                                + std::to_string(experts.size()) + ")");
    return i->second;
  }
};

using server_pointer = expert_server_actor::stateful_pointer<server_state>;

/// Routes `msg` to the expert named in it, or answers unknown_expert.
template <class Reply, class Request>
caf::result<Reply> route(server_pointer self, Request& msg) {
  auto e = self->state.find(msg.uid);
  if (!e)
    return e.error();
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
                                             std::map<std::string, expert_actor> experts) {
  self->state.experts = std::move(experts);
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
  };
}

} // namespace

expert_server_actor spawn_expert_server(caf::actor_system& sys,
                                        std::map<std::string, expert_actor> experts) {
  return sys.spawn(server_fn, std::move(experts));
}

} // namespace colony
