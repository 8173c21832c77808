// The expert actor: validates and queues requests, and when the dispatcher
// grants a slot hands one batch to the node's worker pool. The torch work
// (gather, module, optimizer, checkpoint) runs on a pool thread; the actor
// never blocks. Invariant: at most one job of an expert runs at a time, and
// expert_state is touched only by that job or, between jobs, by the actor.
#include "actors/expert/expert_actor.hpp"

#include <random>
#include <unordered_map>

#include <caf/all.hpp>
#include <torch/torch.h>

#include "actors/expert/batch_queue.hpp"
#include "actors/expert/expert_job.hpp"
#include "actors/expert/expert_state.hpp"
#include "messages/chunking.hpp"
#include "messages/errc.hpp"
#include "messages/wire/torch_tensor.hpp"
#include "runtime/logging.hpp"

namespace colony {

namespace {

using expert::clock;
using expert::batch_job;
using expert::pending_request;
using expert::fwd_kind;
using expert::bwd_kind;
using expert::save_kind;

int64_t to_ns(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

const char* op_name(uint8_t kind) {
  return kind == fwd_kind ? "forward" : kind == bwd_kind ? "backward" : "checkpoint";
}

using expert_pointer = expert_actor::stateful_pointer<struct expert_actor_state>;

struct expert_actor_state {
  std::mt19937_64 transfer_ids{std::random_device{}()};
  std::shared_ptr<expert::expert_state> st;
  std::shared_ptr<worker_pool> pool;
  dispatcher_actor dispatcher;
  expert_options opts;
  expert_info info; ///< snapshot, refreshed after every job
  expert::batch_queue queues[2];
  std::unordered_map<uint64_t, pending_request> pending;
  uint64_t next_id = 1;
  std::deque<uint8_t> grants;
  std::shared_ptr<batch_job> running;
  bool save_wanted = false;
  std::vector<caf::typed_response_promise<uint64_t>> save_waiters;
  std::shared_ptr<spdlog::logger> log = colony::log::get("expert");
  uint64_t expired_requests = 0;
  uint64_t expired_rows = 0;
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

  // -- admission ---------------------------------------------------------------

  /// Checks a decoded request against the schema before it is queued.
  caf::error admit(const pending_request& req) const {
    if (req.inputs.empty())
      return make_error(errc::bad_request, "expert " + st->uid() + ": empty input list");
    if (auto err = st->validate(req.inputs, st->input_schema(), "inputs"))
      return err;
    return req.kind == bwd_kind ? check_grads(req) : caf::error{};
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

  /// Queues an admitted request that arrived at `arrived` and is wanted
  /// until `deadline`, and tells the dispatcher when its queue stops being
  /// empty.
  void enqueue(expert_pointer self, pending_request req, clock::time_point arrived,
               clock::time_point deadline) {
    auto id = next_id++;
    auto kind = req.kind;
    auto& q = queues[kind];
    bool was_empty = q.empty();
    q.push(id, req.inputs[0].size(0), shape_key(req.inputs), arrived, deadline);
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

  // -- jobs --------------------------------------------------------------------

  /// Starts the next job unless one runs: a wanted checkpoint first, then
  /// the batch of the oldest grant.
  void next_job(expert_pointer self) {
    while (!running) {
      if (save_wanted) {
        auto job = std::make_shared<batch_job>();
        job->kind = save_kind;
        save_wanted = false;
        return post(self, std::move(job));
      }
      if (grants.empty())
        return;
      auto kind = grants.front();
      grants.pop_front();
      if (auto job = make_batch(kind))
        return post(self, std::move(job));
      self->send(dispatcher, done_atom::value, self->id());
    }
  }

  /// Fails the requests of queue `kind` whose client no longer waits.
  void drop_expired(uint8_t kind) {
    auto now = clock::now();
    for (auto& e : queues[kind].drop_expired(now)) {
      if (pending.count(e.id) == 0)
        continue;
      auto waited_ms = std::chrono::duration<double, std::milli>(now - e.arrived).count();
      expired_requests += 1;
      expired_rows += static_cast<uint64_t>(std::max<int64_t>(e.rows_left, 0));
      log->debug("expert={} op={} event=expired rows_left={} waited_ms={:.0f}", st->uid(),
                 op_name(kind), e.rows_left, waited_ms);
      fail(e.id, make_error(errc::timeout, "expert " + st->uid() + ": " + op_name(kind)
                                             + " dropped, its deadline passed after "
                                             + std::to_string(static_cast<int64_t>(waited_ms))
                                             + " ms in the queue"));
    }
  }

  /// Counts a request whose deadline passed before it arrived (a slow
  /// upload) as expired, with all its rows, and returns the client's error.
  caf::error expired_on_arrival(const pending_request& req, uint32_t budget_ms,
                                uint32_t waited_ms) {
    auto rows = req.inputs[0].size(0);
    expired_requests += 1;
    expired_rows += static_cast<uint64_t>(std::max<int64_t>(rows, 0));
    log->debug("expert={} op={} event=expired rows_left={} waited_ms={} budget_ms={}",
               st->uid(), op_name(req.kind), rows, waited_ms, budget_ms);
    return make_error(errc::timeout, "expert " + st->uid() + ": " + op_name(req.kind)
                                       + " arrived after its deadline (its upload took "
                                       + std::to_string(waited_ms) + " ms of a "
                                       + std::to_string(budget_ms) + " ms budget)");
  }

  /// The info snapshot with the actor's own counters.
  expert_info current_info() const {
    auto out = info;
    out.expired_requests = expired_requests;
    out.expired_rows = expired_rows;
    uint64_t queued[2] = {0, 0};
    for (auto& [id, req] : pending)
      ++queued[req.kind & 1];
    out.queued_forward = queued[fwd_kind];
    out.queued_backward = queued[bwd_kind];
    return out;
  }

  std::shared_ptr<batch_job> make_batch(uint8_t kind) {
    drop_expired(kind);
    auto slices = queues[kind].next_batch(st->max_batch_size());
    slices.erase(std::remove_if(slices.begin(), slices.end(),
                                [&](const expert::slice& s) { return pending.count(s.id) == 0; }),
                 slices.end());
    if (slices.empty())
      return nullptr;
    auto job = std::make_shared<batch_job>();
    job->kind = kind;
    auto& first = pending.at(slices[0].id);
    job->inputs.resize(first.inputs.size());
    job->grads.resize(kind == bwd_kind ? first.grads.size() : 0);
    for (auto& s : slices) {
      auto& req = pending.at(s.id);
      for (size_t i = 0; i < job->inputs.size(); ++i)
        job->inputs[i].push_back(req.inputs[i].narrow(0, s.begin, s.rows()));
      for (size_t i = 0; i < job->grads.size(); ++i)
        job->grads[i].push_back(req.grads[i].narrow(0, s.begin, s.rows()));
    }
    job->slices = std::move(slices);
    return job;
  }

  void post(expert_pointer self, std::shared_ptr<batch_job> job) {
    running = job;
    auto addr = caf::actor_cast<caf::actor_addr>(self);
    pool->post([job, st = st, addr] {
      job->run(*st);
      if (auto me = caf::actor_cast<expert_actor>(addr))
        caf::anon_send(me, computed_atom::value);
    });
  }

  /// Handles the results of the job that just finished.
  void on_computed(expert_pointer self) {
    auto job = std::move(running);
    running.reset();
    if (!job)
      return;
    if (job->kind != save_kind && (!job->result || job->diverged))
      return crash(self, *job);
    info = job->info;
    if (opts.updates_seen)
      opts.updates_seen->store(info.updates);
    if (job->kind == save_kind)
      finish_save(job->save_error);
    else
      finish_batch(self, *job);
    next_job(self);
  }

  /// A failed or diverged batch: its requests get the error, every other
  /// waiting request errc::expert_restarting, and the actor exits with the
  /// error so that its supervisor rebuilds it from the last checkpoint.
  void crash(expert_pointer self, batch_job& job) {
    auto err = job.diverged
                 ? make_error(errc::diverged, "expert " + st->uid() + ": parameters became "
                                                "NaN/Inf after update " + std::to_string(job.info.updates))
                 : job.result.error();
    log->error("expert={} op={} event=crash error=\"{}\"", st->uid(), op_name(job.kind),
               describe(err));
    for (auto& s : job.slices)
      fail(s.id, err);
    fail_all(describe(err));
    self->quit(err);
  }

  /// Answers every waiting request and checkpoint: the actor is going away.
  void fail_all(const std::string& why) {
    auto err = make_error(errc::expert_restarting, "expert " + st->uid() + " stopped ("
                                                     + why + "); retry once it is back");
    for (auto& [id, req] : pending)
      req.fail(err);
    pending.clear();
    for (auto& p : save_waiters)
      p.deliver(err);
    save_waiters.clear();
  }

  void finish_batch(expert_pointer self, batch_job& job) {
    scatter(job.slices, *job.result);
    log->debug("expert={} op={} requests={} took_ms={:.3f}", st->uid(), op_name(job.kind),
               job.slices.size(), job.took_ms);
    self->send(dispatcher, done_atom::value, self->id());
    notify_ready(self, job.kind);
    if (job.kind == bwd_kind && st->checkpoint_due())
      save_wanted = true;
  }

  void finish_save(const caf::error& err) {
    if (err)
      log->error("expert={} event=checkpoint error=\"{}\"", st->uid(), describe(err));
    else
      log->info("expert={} event=checkpoint updates={} path={}", st->uid(), info.updates,
                st->checkpoint_path());
    for (auto& p : save_waiters)
      err ? p.deliver(err) : p.deliver(info.updates);
    save_waiters.clear();
  }

  // -- replies -----------------------------------------------------------------

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
      auto bytes = wire::encode_tensor(batch_job::cat(pieces));
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

  caf::result<uint64_t> save(expert_pointer self) {
    save_waiters.push_back(self->make_response_promise<uint64_t>());
    save_wanted = true;
    auto promise = save_waiters.back();
    next_job(self);
    return promise;
  }
};

/// Queues `p` until its deadline: `budget_ms` (0 = none) counted from when
/// the node first saw the request, `waited_ms` ago (its upload: the server
/// counts from the first chunk). One whose deadline passed on the way is
/// counted as expired and refused without being queued.
template <class Reply>
caf::result<Reply> admit_and_queue(expert_pointer self, pending_request p, uint32_t budget_ms,
                                   uint32_t waited_ms,
                                   caf::typed_response_promise<Reply> pending_request::*slot) {
  auto now = clock::now();
  auto arrived = now - std::chrono::milliseconds{waited_ms};
  auto deadline = budget_ms > 0 ? arrived + std::chrono::milliseconds{budget_ms}
                                : clock::time_point::max();
  if (auto err = self->state.admit(p))
    return err;
  if (deadline <= now)
    return self->state.expired_on_arrival(p, budget_ms, waited_ms);
  // A promise takes over the response: create it only once admitted.
  p.*slot = self->make_response_promise<Reply>();
  auto promise = p.*slot;
  self->state.enqueue(self, std::move(p), arrived, deadline);
  return promise;
}

caf::result<forward_reply> on_forward(expert_pointer self, forward_request& req,
                                      uint32_t waited_ms) {
  pending_request p;
  auto xs = self->state.decode(req.inputs, "inputs");
  if (!xs)
    return xs.error();
  p.inputs = std::move(*xs);
  return admit_and_queue(self, std::move(p), req.budget_ms, waited_ms, &pending_request::fwd);
}

caf::result<backward_reply> on_backward(expert_pointer self, backward_request& req,
                                        uint32_t waited_ms) {
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
  return admit_and_queue(self, std::move(p), req.budget_ms, waited_ms, &pending_request::bwd);
}

expert_actor::behavior_type expert_fn(expert_pointer self,
                                      std::shared_ptr<expert::expert_state> st,
                                      std::shared_ptr<worker_pool> pool,
                                      dispatcher_actor dispatcher, expert_options opts) {
  auto& s = self->state;
  s.st = std::move(st);
  s.pool = std::move(pool);
  s.dispatcher = std::move(dispatcher);
  s.opts = opts;
  s.info = s.st->info();
  s.log->info("expert={} event=start module={} params={} updates={}", s.st->uid(),
              s.info.module_type, s.info.num_parameters, s.info.updates);
  if (s.opts.updates_seen)
    s.opts.updates_seen->store(s.info.updates);
  // Whatever ends the actor (its supervisor, an injected crash, shutdown),
  // no request is left waiting for a reply that never comes.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    self->state.fail_all(msg.reason ? describe(msg.reason) : "exited");
    self->quit(msg.reason);
  });
  self->set_exception_handler([self](std::exception_ptr&) -> caf::error {
    auto err = make_error(errc::compute_failed, "expert " + self->state.st->uid()
                                                  + ": exception in a handler");
    self->state.fail_all(describe(err));
    return err;
  });
  return {
    [self](forward_request& req) { return on_forward(self, req, 0); },
    [self](backward_request& req) { return on_backward(self, req, 0); },
    [self](forward_request& req, uint32_t waited_ms) { return on_forward(self, req, waited_ms); },
    [self](backward_request& req, uint32_t waited_ms) {
      return on_backward(self, req, waited_ms);
    },
    [self](const info_request&) { return self->state.current_info(); },
    [self](save_atom) { return self->state.save(self); },
    [self](grant_atom, uint8_t kind) {
      self->state.grants.push_back(kind & 1);
      self->state.next_job(self);
    },
    [self](computed_atom) { self->state.on_computed(self); },
  };
}

} // namespace

expert_actor spawn_expert(caf::actor_system& sys, std::shared_ptr<expert::expert_state> state,
                          std::shared_ptr<worker_pool> pool, dispatcher_actor dispatcher,
                          expert_options opts) {
  return sys.spawn(expert_fn, std::move(state), std::move(pool), std::move(dispatcher), opts);
}

} // namespace colony
