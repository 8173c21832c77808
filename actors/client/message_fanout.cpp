// The fan-out of any request (fanout.hpp, message_call): the same end rule
// as the expert fan-out (fanout_state: all answered, quorum + grace, or the
// deadline), with each call's transport supplied by the caller and its
// target's loss seen through a monitor.
#include <algorithm>
#include <map>

#include <caf/all.hpp>

#include "actors/client/connect.hpp"
#include "actors/client/fanout.hpp"
#include "messages/errc.hpp"

namespace colony {

namespace message_fanout_impl {

using clock = fanout_state::clock;

struct message_fanout_actor_state {
  message_fanout_spec spec;
  std::shared_ptr<message_fanout_result> out;
  std::unique_ptr<fanout_state> state;
  clock::time_point start;
  std::map<caf::actor_addr, std::vector<size_t>> calls_of; ///< monitored targets
  caf::response_promise waiter;
  bool waiting = false;
  bool finished = false;
  static inline const char* name = "colony.message_fanout";
};

using message_fanout_pointer = caf::stateful_actor<message_fanout_actor_state>*;

std::string ms_of(caf::timespan t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t).count())
         + " ms";
}

void finish(message_fanout_pointer self) {
  auto& st = self->state;
  if (st.finished || !st.waiting)
    return;
  st.finished = true;
  auto timeout = st.spec.deadline - st.start;
  for (size_t i = 0; i < st.out->errors.size(); ++i)
    if (!st.state->answered(i))
      st.out->errors[i] = make_error(errc::timeout, st.spec.calls[i].name
                                                      + " did not answer within "
                                                      + ms_of(timeout));
  st.out->answered = st.state->answered_count();
  st.out->succeeded = st.state->succeeded_count();
  st.waiter.deliver(done_atom::value);
  self->quit();
}

void arm(message_fanout_pointer self) {
  auto now = self->clock().now();
  auto end = self->state.state->end_time();
  if (end <= now)
    return finish(self);
  self->delayed_send(self, end - now, wake_atom::value);
}

void record(message_fanout_pointer self, size_t i, caf::error err) {
  auto& st = self->state;
  if (st.finished || st.state->answered(i))
    return;
  bool ok = !err;
  auto& name = st.spec.calls[i].name;
  if (!ok && err == caf::sec::request_timeout)
    err = make_error(errc::timeout, name + " did not answer within "
                                      + ms_of(st.spec.deadline - st.start));
  else if (!ok && net::is_connection_loss(err))
    err = make_error(errc::unreachable, name + " unreachable (" + self->system().render(err) + ")");
  st.out->errors[i] = std::move(err);
  st.out->latency_ms[i]
    = std::chrono::duration<double, std::milli>(self->clock().now() - st.start).count();
  st.state->record(i, ok, self->clock().now());
  arm(self);
}

void on_down(message_fanout_pointer self, const caf::down_msg& msg) {
  auto& st = self->state;
  auto it = st.calls_of.find(msg.source);
  if (it == st.calls_of.end())
    return;
  auto calls = std::move(it->second);
  st.calls_of.erase(it);
  for (auto i : calls)
    record(self, i, make_error(errc::unreachable, st.spec.calls[i].name + " went down ("
                                                    + self->system().render(msg.reason) + ")"));
}

void start(message_fanout_pointer self) {
  auto& st = self->state;
  st.start = self->clock().now();
  for (size_t i = 0; i < st.spec.calls.size(); ++i) {
    auto& call = st.spec.calls[i];
    if (!call.target) {
      record(self, i, make_error(errc::unreachable, call.name + ": no handle"));
      continue;
    }
    auto& watchers = st.calls_of[call.target.address()];
    if (watchers.empty())
      self->monitor(call.target);
    watchers.push_back(i);
  }
  for (size_t i = 0; i < st.spec.calls.size() && !st.finished; ++i) {
    if (st.state->answered(i) || !st.spec.calls[i].send)
      continue;
    auto left = std::max(caf::timespan{0}, caf::timespan{st.spec.deadline - st.start});
    st.spec.calls[i].send(self, left, [self, i](caf::error err) {
      record(self, i, std::move(err));
    });
  }
  arm(self);
}

caf::behavior message_fanout_actor(caf::stateful_actor<message_fanout_actor_state>* self,
                                   message_fanout_spec spec,
                                   std::shared_ptr<message_fanout_result> out) {
  auto& st = self->state;
  auto n = spec.calls.size();
  st.state = std::make_unique<fanout_state>(n, spec.deadline, spec.grace, spec.quorum);
  st.spec = std::move(spec);
  st.out = std::move(out);
  st.out->errors.assign(n, caf::error{});
  st.out->latency_ms.assign(n, -1.0);
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  return {
    [=](run_atom) -> caf::result<done_atom> {
      auto& st = self->state;
      if (st.waiting)
        return make_error(errc::bad_request, "a fan-out runs once");
      st.waiting = true;
      st.waiter = self->make_response_promise();
      start(self);
      return caf::delegated<done_atom>{};
    },
    [=](wake_atom) { arm(self); },
  };
}

} // namespace message_fanout_impl

caf::actor spawn_fanout(caf::actor_system& sys, message_fanout_spec spec,
                        std::shared_ptr<message_fanout_result> out) {
  return sys.spawn(message_fanout_impl::message_fanout_actor, std::move(spec), std::move(out));
}

} // namespace colony
