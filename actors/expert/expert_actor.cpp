#include "actors/expert/expert_actor.hpp"

#include <functional>
#include <random>
#include <unordered_map>

#include <caf/all.hpp>
#include <torch/torch.h>

#include "actors/expert/batch_queue.hpp"
#include "actors/expert/expert_state.hpp"
#include "messages/chunking.hpp"
#include "messages/errc.hpp"
#include "messages/wire/torch_tensor.hpp"
#include "runtime/logging.hpp"

namespace colony {

namespace {

using expert::clock;

int64_t to_ns(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

clock::time_point from_ns(int64_t ns) {
  return clock::time_point{std::chrono::duration_cast<clock::duration>(std::chrono::nanoseconds{ns})};
}

// -- dispatcher ---------------------------------------------------------------

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

// -- expert -------------------------------------------------------------------

constexpr uint8_t fwd_kind = 0;
constexpr uint8_t bwd_kind = 1;

struct pending_request {
  uint8_t kind = fwd_kind;
  std::vector<torch::Tensor> inputs;
  std::vector<torch::Tensor> grads;
  std::vector<std::vector<torch::Tensor>> parts;
  caf::typed_response_promise<forward_reply> fwd;
  caf::typed_response_promise<backward_reply> bwd;
  /// The requester: chunks of large outputs go to it before the reply.
  caf::strong_actor_ptr sender;

  void fail(const caf::error& err) {
    if (kind == fwd_kind)
      fwd.deliver(err);
    else
      bwd.deliver(err);
  }
};

using expert_pointer = expert_actor::stateful_pointer<struct expert_actor_state>;

struct expert_actor_state {
  std::mt19937_64 transfer_ids{std::random_device{}()};
  std::shared_ptr<expert::expert_state> st;
  dispatcher_actor dispatcher;
  expert_options opts;
  expert::batch_queue queues[2];
  std::unordered_map<uint64_t, pending_request> pending;
  uint64_t next_id = 1;
  std::shared_ptr<spdlog::logger> log = colony::log::get("expert");
  static inline const char* name = "colony.expert";

  caf::expected<std::vector<torch::Tensor>> decode(std::vector<tensor_blob>& blobs,
                                                   const char* what) const {
    std::vector<torch::Tensor> out;
    wire::decode_limits limits{opts.max_message_bytes};
    for (size_t i = 0; i < blobs.size(); ++i) {
      auto t = wire::decode_tensor(std::move(blobs[i].bytes), limits);
      if (!t)
        return make_error(code_of(t.error()), std::string{what} + "[" + std::to_string(i)
                                                + "]: " + context_of(t.error()));
      out.push_back(std::move(*t));
    }
    return out;
  }

  static uint64_t shape_key(const std::vector<torch::Tensor>& xs) {
    uint64_t h = 1469598103934665603ull;
    for (auto& x : xs)
      for (int64_t d = 1; d < x.dim(); ++d)
        h = (h ^ static_cast<uint64_t>(x.size(d))) * 1099511628211ull;
    return h;
  }

  /// Checks a decoded request against the schema before it is queued.
  caf::error admit(const pending_request& req) const {
    if (req.inputs.empty())
      return make_error(errc::bad_request, "expert " + st->uid() + ": empty input list");
    if (auto err = st->validate(req.inputs, st->input_schema(), "inputs"))
      return err;
    return req.kind == bwd_kind ? check_grads(req) : caf::error{};
  }

  /// Queues an admitted request and tells the dispatcher when its queue
  /// stops being empty.
  void enqueue(expert_pointer self, pending_request req) {
    auto id = next_id++;
    auto kind = req.kind;
    auto& q = queues[kind];
    bool was_empty = q.empty();
    q.push(id, req.inputs[0].size(0), shape_key(req.inputs), clock::now());
    req.sender = self->current_sender();
    pending.emplace(id, std::move(req));
    if (was_empty)
      notify_ready(self, kind);
  }

  void notify_ready(expert_pointer self, uint8_t kind) {
    if (auto oldest = queues[kind].oldest())
      self->send(dispatcher, ready_atom::value, caf::actor_cast<expert_actor>(self), kind,
                 to_ns(*oldest));
  }

  caf::error check_grads(const pending_request& req) const {
    if (auto err = st->validate(req.grads, st->output_schema(), "grad_outputs"))
      return err;
    auto b = req.inputs[0].size(0);
    if (req.grads[0].size(0) != b)
      return make_error(errc::bad_shape, "grad_outputs: batch size "
                                           + std::to_string(req.grads[0].size(0))
                                           + " differs from inputs' " + std::to_string(b));
    return caf::none;
  }

  static torch::Tensor gather(const std::vector<expert::slice>& slices,
                              const std::unordered_map<uint64_t, pending_request>& pending,
                              size_t index, bool grads) {
    std::vector<torch::Tensor> pieces;
    for (auto& s : slices) {
      auto& req = pending.at(s.id);
      auto& src = grads ? req.grads[index] : req.inputs[index];
      pieces.push_back(src.narrow(0, s.begin, s.rows()));
    }
    return pieces.size() == 1 ? pieces[0].contiguous() : torch::cat(pieces, 0);
  }

  void run_batch(expert_pointer self, uint8_t kind) {
    auto slices = queues[kind].next_batch(st->max_batch_size());
    slices.erase(std::remove_if(slices.begin(), slices.end(),
                                [&](const expert::slice& s) { return pending.count(s.id) == 0; }),
                 slices.end());
    if (!slices.empty())
      compute(slices, kind);
    self->send(dispatcher, done_atom::value, self->id());
    notify_ready(self, kind);
  }

  void compute(const std::vector<expert::slice>& slices, uint8_t kind) {
    auto started = clock::now();
    auto& first = pending.at(slices[0].id);
    std::vector<torch::Tensor> xs, gs;
    for (size_t i = 0; i < first.inputs.size(); ++i)
      xs.push_back(gather(slices, pending, i, false));
    for (size_t i = 0; kind == bwd_kind && i < first.grads.size(); ++i)
      gs.push_back(gather(slices, pending, i, true));
    auto out = kind == fwd_kind ? st->forward(xs) : st->backward(xs, gs);
    if (!out) {
      log->error("expert={} op={} rows={} error=\"{}\"", st->uid(),
                 kind == fwd_kind ? "forward" : "backward", xs[0].size(0), describe(out.error()));
      for (auto& s : slices)
        fail(s.id, out.error());
      return;
    }
    scatter(slices, *out);
    log->debug("expert={} op={} rows={} requests={} took_ms={:.3f}", st->uid(),
               kind == fwd_kind ? "forward" : "backward", xs[0].size(0), slices.size(),
               std::chrono::duration<double, std::milli>(clock::now() - started).count());
    if (kind == bwd_kind && st->checkpoint_due())
      checkpoint();
  }

  void scatter(const std::vector<expert::slice>& slices, const std::vector<torch::Tensor>& out) {
    int64_t offset = 0;
    for (auto& s : slices) {
      auto& req = pending.at(s.id);
      std::vector<torch::Tensor> part;
      for (auto& o : out)
        part.push_back(o.narrow(0, offset, s.rows()));
      offset += s.rows();
      req.parts.push_back(std::move(part));
      if (s.last)
        finish(s.id);
    }
  }

  void finish(uint64_t id) {
    auto& req = pending.at(id);
    std::vector<tensor_blob> blobs;
    for (size_t i = 0; i < req.parts[0].size(); ++i) {
      std::vector<torch::Tensor> pieces;
      for (auto& p : req.parts)
        pieces.push_back(p[i]);
      auto full = pieces.size() == 1 ? pieces[0] : torch::cat(pieces, 0);
      auto bytes = wire::encode_tensor(full);
      if (!bytes)
        return fail(id, bytes.error());
      blobs.push_back(tensor_blob{std::move(*bytes)});
      send_chunks(req.sender, blobs.back());
    }
    if (req.kind == fwd_kind)
      req.fwd.deliver(forward_reply{std::move(blobs)});
    else
      req.bwd.deliver(backward_reply{std::move(blobs)});
    pending.erase(id);
  }

  /// Sends a large blob ahead of the reply as chunks. A typed actor may
  /// not send() to an untyped one; anon_send takes the same path (the
  /// requester's mailbox or its node's proxy) in program order, so the
  /// chunks still precede the reply.
  void send_chunks(const caf::strong_actor_ptr& to, tensor_blob& blob) {
    if (!to)
      return;
    auto dest = caf::actor_cast<caf::actor>(to);
    for (auto& c : split_blob(blob, transfer_ids(), opts.chunk_bytes))
      caf::anon_send(dest, std::move(c));
  }

  void fail(uint64_t id, const caf::error& err) {
    auto i = pending.find(id);
    if (i == pending.end())
      return;
    i->second.fail(err);
    pending.erase(i);
  }

  caf::error checkpoint() {
    auto err = st->save_checkpoint();
    if (err)
      log->error("expert={} event=checkpoint error=\"{}\"", st->uid(), describe(err));
    else
      log->info("expert={} event=checkpoint updates={} path={}", st->uid(), st->updates(),
                st->checkpoint_path());
    return err;
  }
};

expert_actor::behavior_type expert_fn(expert_pointer self,
                                      std::shared_ptr<expert::expert_state> st,
                                      dispatcher_actor dispatcher, expert_options opts) {
  auto& s = self->state;
  s.st = std::move(st);
  s.dispatcher = std::move(dispatcher);
  s.opts = opts;
  if (opts.torch_threads > 0)
    torch::set_num_threads(static_cast<int>(opts.torch_threads));
  s.log->info("expert={} event=start module={} params={}", s.st->uid(),
              s.st->info().module_type, s.st->info().num_parameters);
  return {
    [self](forward_request& req) -> caf::result<forward_reply> {
      pending_request p;
      auto xs = self->state.decode(req.inputs, "inputs");
      if (!xs)
        return xs.error();
      p.inputs = std::move(*xs);
      if (auto err = self->state.admit(p))
        return err;
      // A promise takes over the response: create it only once admitted.
      p.fwd = self->make_response_promise<forward_reply>();
      auto promise = p.fwd;
      self->state.enqueue(self, std::move(p));
      return promise;
    },
    [self](backward_request& req) -> caf::result<backward_reply> {
      pending_request p;
      p.kind = bwd_kind;
      auto xs = self->state.decode(req.inputs, "inputs");
      if (!xs)
        return xs.error();
      auto gs = self->state.decode(req.grad_outputs, "grad_outputs");
      if (!gs)
        return gs.error();
      p.inputs = std::move(*xs);
      p.grads = std::move(*gs);
      if (auto err = self->state.admit(p))
        return err;
      p.bwd = self->make_response_promise<backward_reply>();
      auto promise = p.bwd;
      self->state.enqueue(self, std::move(p));
      return promise;
    },
    [self](const info_request&) { return self->state.st->info(); },
    [self](save_atom) -> caf::result<uint64_t> {
      if (auto err = self->state.checkpoint())
        return err;
      return self->state.st->updates();
    },
    [self](grant_atom, uint8_t kind) { self->state.run_batch(self, kind & 1); },
  };
}

} // namespace

dispatcher_actor spawn_dispatcher(caf::actor_system& sys, uint32_t slots) {
  return sys.spawn(dispatcher_fn, slots);
}

expert_actor spawn_expert(caf::actor_system& sys, std::shared_ptr<expert::expert_state> state,
                          dispatcher_actor dispatcher, expert_options opts) {
  return sys.spawn<caf::detached>(expert_fn, std::move(state), std::move(dispatcher), opts);
}

} // namespace colony
