// The node's dispatcher: grants compute slots to expert queues, the queue
// whose oldest request waited longest first (see protocol.hpp).
#include <algorithm>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/expert/batch_queue.hpp"
#include "actors/expert/expert_actor.hpp"

namespace colony {

namespace {

expert::clock::time_point from_ns(int64_t ns) {
  return expert::clock::time_point{
    std::chrono::duration_cast<expert::clock::duration>(std::chrono::nanoseconds{ns})};
}


struct dispatcher_state {
  uint32_t slots = 1;
  uint32_t busy = 0;
  expert::dispatch_queue queue;
  std::unordered_map<uint64_t, expert_actor> experts;
  std::unordered_map<uint64_t, uint32_t> granted;
  static inline const char* name = "colony.dispatcher";

  void pump(dispatcher_actor::stateful_pointer<dispatcher_state> self) {
    while (busy < slots) {
      auto q = queue.pop_oldest();
      if (!q)
        return;
      auto i = experts.find(q->expert);
      if (i == experts.end())
        continue;
      ++busy;
      ++granted[q->expert];
      self->send(i->second, grant_atom::value, q->kind);
    }
  }

  void release(uint64_t expert_id, uint32_t n) {
    auto& g = granted[expert_id];
    n = std::min(n, g);
    g -= n;
    busy -= std::min(busy, n);
  }
};

dispatcher_actor::behavior_type
dispatcher_fn(dispatcher_actor::stateful_pointer<dispatcher_state> self, uint32_t slots) {
  self->state.slots = std::max<uint32_t>(slots, 1);
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto id = dm.source.id();
    auto& st = self->state;
    st.queue.remove_expert(id);
    st.experts.erase(id);
    st.release(id, st.granted[id]);
    st.granted.erase(id);
    st.pump(self);
  });
  return {
    [self](ready_atom, expert_actor& e, uint8_t kind, int64_t oldest_ns) {
      auto id = e->id();
      if (self->state.experts.emplace(id, e).second)
        self->monitor(e);
      self->state.queue.ready({id, kind}, from_ns(oldest_ns));
      self->state.pump(self);
    },
    [self](done_atom, uint64_t id) {
      self->state.release(id, 1);
      self->state.pump(self);
    },
  };
}

} // namespace

dispatcher_actor spawn_dispatcher(caf::actor_system& sys, uint32_t slots) {
  return sys.spawn(dispatcher_fn, slots);
}

} // namespace colony
