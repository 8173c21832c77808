#include "actors/gate/gate_actor.hpp"

#include <chrono>
#include <map>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "actors/client/connect.hpp"
#include "actors/client/fanout.hpp"
#include "actors/dht/async_get.hpp"
#include "actors/dht/expert_directory.hpp"
#include "actors/gate/adaptive_grace.hpp"
#include "actors/gate/lost_nodes.hpp"
#include "actors/gate/tensor_rows.hpp"
#include "messages/errc.hpp"
#include "messages/wire/torch_tensor.hpp"
#include "runtime/logging.hpp"
#include "runtime/rate_limit.hpp"

namespace colony::gate {

namespace {

using time_point = fanout_state::time_point;

caf::timespan seconds(double s) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(s));
}

/// One forward in flight.
struct forward_ctx {
  caf::typed_response_promise<gate_forward_reply> rp;
  torch::Tensor x;
  std::unique_ptr<beam_search> search;
  time_point deadline;
  uint32_t dht_rounds = 0;
  bool probe = false; ///< grace_auto: a forward that measures the answer times
};

/// The experts of one call (forward or backward) and their rows.
struct call_plan {
  gate_routing routing;
  std::vector<std::vector<int64_t>> rows;  ///< per expert: sample indices
  std::vector<std::vector<int64_t>> slots; ///< per expert: b * k + j
};

struct gate_state {
  gate_config cfg;
  dht::peer_actor dht;
  std::shared_ptr<node_connections> conns;
  std::unique_ptr<prefix_cache> cache;
  std::shared_ptr<spdlog::logger> log = log::get("gate");
  rate_limited_counter anomalies{std::chrono::seconds{1}};
  /// Nodes found unreachable or lost, skipped by the beam search until
  /// connected or declared again (their experts stay in the DHT until their
  /// declarations expire).
  std::unique_ptr<lost_nodes> lost;
  /// The grace and backward deadline, learned under grace_auto.
  std::unique_ptr<adaptive_grace> grace;
  static inline const char* name = "colony.gate";
};

using gate_pointer = gate_actor::stateful_pointer<gate_state>;

double now_s(gate_pointer self) {
  return std::chrono::duration<double>(self->clock().now().time_since_epoch()).count();
}

wire::compression wire_mode(const gate_config& cfg) {
  return cfg.float16_wire ? wire::compression::float16 : wire::compression::none;
}

// -- forward -------------------------------------------------------------

void call_experts(gate_pointer self, std::shared_ptr<forward_ctx> ctx);

/// Starts skipping `ep` (no-op when it is skipped already).
void note_lost(gate_pointer self, const endpoint& ep) {
  auto& st = self->state;
  if (st.lost->lose(ep, st.conns->connections(ep)))
    st.log->info("event=node_skipped endpoint={}", ep.to_string());
}

void end_retry(gate_pointer self, const endpoint& ep, bool ok) {
  self->state.lost->retry_done(ep, ok);
  if (ok)
    self->state.log->info("event=node_eligible endpoint={}", ep.to_string());
}

/// Connects to a re-declared node (reusing a cached connection) and pings
/// it; only an answered ping makes it eligible and adopts the connection
/// (CAF's middleman may still hand out a hung node's proxy).
void retry(gate_pointer self, const endpoint& ep) {
  auto timeout = seconds(self->state.cfg.forward_timeout_s);
  auto ping = [self, ep, timeout](expert_server_actor server) {
    self->request(server, timeout, ping_atom::value)
      .then(
        [self, ep, server](uint64_t) {
          self->state.conns->adopt(ep, server);
          end_retry(self, ep, true);
        },
        [self, ep](caf::error&) { end_retry(self, ep, false); });
  };
  if (auto server = self->state.conns->find(ep))
    return ping(*server);
  net::connect_async<expert_server_actor>(self, ep, timeout, "node", [=](auto server) {
    if (server)
      ping(*server);
    else
      end_retry(self, ep, false);
  });
}

/// Whether the beam search may pick experts served at `ep`.
bool eligible(gate_pointer self, const endpoint& ep) {
  auto& st = self->state;
  if (st.conns->lost(ep))
    note_lost(self, ep);
  if (!st.lost->skipped(ep))
    return true;
  auto v = st.lost->check(ep, st.conns->connections(ep), st.conns->find(ep).has_value(),
                          now_s(self));
  if (v == lost_nodes::verdict::retry)
    retry(self, ep);
  return v == lost_nodes::verdict::eligible;
}

/// Drops the successors served by nodes the gate skips.
void drop_unreachable(gate_pointer self, std::map<std::string, successor_map>& found) {
  std::map<endpoint, bool> ok;
  for (auto& [key, succ] : found)
    for (auto i = succ.begin(); i != succ.end();) {
      auto j = ok.find(i->second);
      if (j == ok.end())
        j = ok.emplace(i->second, eligible(self, i->second)).first;
      i = j->second ? std::next(i) : succ.erase(i);
    }
}

/// Records the newest expiration of the records naming each endpoint.
void note_declarations(gate_pointer self, const std::vector<std::string>& keys,
                       const std::vector<dht_get_result>& results) {
  for (size_t i = 0; i < keys.size() && i < results.size(); ++i)
    for (auto& [ep, expiration] : dht::declarations(keys[i], results[i]))
      self->state.lost->declared(ep, expiration);
}

/// Skips the nodes of calls that failed as unreachable.
void note_unreachable(gate_pointer self, const std::vector<std::string>& endpoints,
                      const fanout_result& out) {
  for (size_t i = 0; i < out.answers.size() && i < endpoints.size(); ++i)
    if (!out.answers[i] && code_of(out.answers[i].error()) == errc::unreachable)
      if (auto ep = parse_endpoint(endpoints[i]))
        note_lost(self, *ep);
}

void search_step(gate_pointer self, std::shared_ptr<forward_ctx> ctx) {
  auto& st = self->state;
  while (!ctx->search->done()) {
    std::map<std::string, successor_map> found;
    std::vector<std::string> misses;
    for (auto& key : ctx->search->pending_keys()) {
      if (auto hit = st.cache->find(key, now_s(self)))
        found.emplace(key, std::move(*hit));
      else
        misses.push_back(key);
    }
    if (misses.empty()) {
      drop_unreachable(self, found);
      ctx->search->feed(found);
      continue;
    }
    auto left = ctx->deadline - self->clock().now();
    if (left <= caf::timespan{0}) {
      ctx->rp.deliver(make_error(errc::timeout, "beam search ran out of forward_timeout"));
      return;
    }
    ++ctx->dht_rounds;
    dht::get_async(self, st.dht, misses, left,
                   [=, found = std::move(found)](auto results) mutable {
                     if (!results) {
                       ctx->rp.deliver(make_error(
                         errc::timeout, "beam search: " + context_of(results.error())));
                       return;
                     }
                     note_declarations(self, misses, *results);
                     for (size_t i = 0; i < misses.size() && i < results->size(); ++i) {
                       auto succ = dht::successors(misses[i], (*results)[i]);
                       self->state.cache->put(misses[i], succ, now_s(self));
                       found[misses[i]] = std::move(succ);
                     }
                     drop_unreachable(self, found);
                     ctx->search->feed(found);
                     search_step(self, ctx);
                   });
    return;
  }
  call_experts(self, ctx);
}

/// Groups the chosen (sample, slot) pairs by expert: one request each.
call_plan plan_forward(const gate_config& cfg, const std::vector<std::vector<expert_choice>>& ch) {
  call_plan p;
  auto& r = p.routing;
  auto dims = cfg.grid.dims.size();
  r.batch = static_cast<uint32_t>(ch.size());
  r.k = cfg.k_best;
  r.slot_expert.assign(size_t{r.batch} * r.k, -1);
  r.slot_coords.assign(size_t{r.batch} * r.k * dims, -1);
  r.slot_ok.assign(size_t{r.batch} * r.k, 0);
  std::map<std::string, int32_t> index;
  for (size_t b = 0; b < ch.size(); ++b) {
    for (size_t j = 0; j < ch[b].size() && j < r.k; ++j) {
      auto& c = ch[b][j];
      auto [i, added] = index.emplace(c.uid, static_cast<int32_t>(r.uids.size()));
      if (added) {
        r.uids.push_back(c.uid);
        r.endpoints.push_back(c.ep.to_string());
        p.rows.emplace_back();
        p.slots.emplace_back();
      }
      auto slot = b * r.k + j;
      r.slot_expert[slot] = i->second;
      for (size_t d = 0; d < dims && d < c.coords.size(); ++d)
        r.slot_coords[slot * dims + d] = c.coords[d];
      p.rows[i->second].push_back(static_cast<int64_t>(b));
      p.slots[i->second].push_back(static_cast<int64_t>(slot));
    }
  }
  return p;
}

/// Builds one request per expert of `plan` (rows of `x`, and of `g` if set).
caf::expected<std::vector<expert_call>> make_calls(const gate_config& cfg, const call_plan& plan,
                                                   const torch::Tensor& x,
                                                   const torch::Tensor* g) {
  std::vector<expert_call> calls;
  for (size_t e = 0; e < plan.rows.size(); ++e) {
    auto node = parse_endpoint(plan.routing.endpoints[e]);
    if (!node)
      return node.error();
    auto xs = encode_rows(x, plan.rows[e], wire_mode(cfg));
    if (!xs)
      return xs.error();
    if (!g) {
      calls.push_back({*node, forward_request{plan.routing.uids[e], {std::move(*xs)}}});
      continue;
    }
    auto gs = encode_rows(*g, plan.slots[e], wire_mode(cfg));
    if (!gs)
      return gs.error();
    calls.push_back(
      {*node, backward_request{plan.routing.uids[e], {std::move(*xs)}, {std::move(*gs)}}});
  }
  return calls;
}

/// A fan-out over `calls` with the per-sample quorum `k_min`.
fanout_spec make_spec(std::vector<expert_call> calls, const call_plan& plan, size_t k_min,
                      time_point deadline, double grace_s) {
  std::vector<std::vector<uint32_t>> samples(plan.rows.size());
  for (size_t e = 0; e < plan.rows.size(); ++e)
    samples[e].assign(plan.rows[e].begin(), plan.rows[e].end());
  auto q = std::make_shared<sample_quorum>(plan.routing.batch, std::move(samples), k_min);
  fanout_spec spec;
  spec.calls = std::move(calls);
  spec.deadline = deadline;
  spec.grace = seconds(grace_s);
  spec.quorum = [q](const fanout_state&, size_t i, bool ok) {
    q->record(i, ok);
    return q->reached();
  };
  return spec;
}

gate_call_stats count(const fanout_result& out, const row_checker& check) {
  gate_call_stats s;
  s.asked = static_cast<uint32_t>(out.answers.size());
  s.answered = static_cast<uint32_t>(out.succeeded);
  s.anomalies = check.anomalies();
  for (size_t i = 0; i < out.answers.size(); ++i) {
    if (out.answers[i])
      s.latency_ms.push_back(static_cast<float>(out.latency_ms[i]));
    else if (code_of(out.answers[i].error()) == errc::timeout)
      ++s.timeouts;
  }
  return s;
}

void log_anomalies(gate_pointer self, const row_checker& check) {
  if (check.anomalies() == 0)
    return;
  if (auto n = self->state.anomalies.add(check.anomalies(), self->clock().now()))
    self->state.log->warn("event=anomalous_answers count={} last=\"{}\"", n, check.last_error());
}

void finish_forward(gate_pointer self, std::shared_ptr<forward_ctx> ctx,
                    std::shared_ptr<call_plan> plan, std::shared_ptr<fanout_result> out,
                    std::shared_ptr<row_checker> check) {
  auto& cfg = self->state.cfg;
  auto& r = plan->routing;
  log_anomalies(self, *check);
  note_unreachable(self, r.endpoints, *out);
  auto y = scatter_slots(ctx->x, cfg.out_dim(), r.k, *check, plan->slots, *out, r.slot_ok);
  gate_forward_reply reply;
  reply.stats = count(*out, *check);
  reply.stats.dht_rounds = ctx->dht_rounds;
  if (ctx->probe)
    self->state.grace->learn(reply.stats.latency_ms);
  for (uint32_t b = 0; b < r.batch; ++b) {
    size_t ok = 0;
    for (uint32_t j = 0; j < r.k; ++j)
      ok += r.slot_ok[b * r.k + j];
    if (ok >= cfg.k_min)
      continue;
    if (!cfg.allow_zero_outputs) {
      // A reply, not an error: the caller still counts what was asked.
      gate_forward_reply failed;
      failed.stats = std::move(reply.stats);
      failed.failure = make_error(
        errc::too_few_experts, "sample " + std::to_string(b) + ": " + std::to_string(ok)
                                 + " of k_min=" + std::to_string(cfg.k_min)
                                 + " experts answered within forward_timeout");
      ctx->rp.deliver(std::move(failed));
      return;
    }
    for (uint32_t j = 0; j < r.k; ++j)
      r.slot_ok[b * r.k + j] = 0;
    y[b].zero_();
    ++reply.stats.short_samples;
  }
  auto bytes = wire::encode_tensor(y);
  if (!bytes) {
    ctx->rp.deliver(bytes.error());
    return;
  }
  reply.outputs.bytes = std::move(*bytes);
  reply.routing = std::move(r);
  ctx->rp.deliver(std::move(reply));
}

void call_experts(gate_pointer self, std::shared_ptr<forward_ctx> ctx) {
  auto& cfg = self->state.cfg;
  auto plan = std::make_shared<call_plan>(plan_forward(cfg, ctx->search->result()));
  if (plan->rows.empty()) {
    ctx->rp.deliver(make_error(
      errc::not_found, "no live expert under '" + cfg.grid.prefix + ".' for any of the "
                         + std::to_string(ctx->x.size(0)) + " samples"));
    return;
  }
  auto calls = make_calls(cfg, *plan, ctx->x, nullptr);
  if (!calls) {
    ctx->rp.deliver(calls.error());
    return;
  }
  ctx->probe = self->state.grace->next_is_probe();
  auto spec = make_spec(std::move(*calls), *plan, cfg.k_min, ctx->deadline,
                        ctx->probe ? self->state.grace->probe_grace_s()
                                   : self->state.grace->grace_s());
  spec.reconnect_lost = false; // retry() reconnects, bounded
  auto check = std::make_shared<row_checker>(ctx->x, cfg.out_dim(), plan->rows,
                                             cfg.detect_anomalies, false);
  spec.check = [check](size_t i, expert_answer& a) { return check->check(i, a); };
  auto out = std::make_shared<fanout_result>();
  auto fan = spawn_fanout(self->system(), *self->state.conns, std::move(spec), out,
                          self->state.conns);
  // The fan-out ends by the deadline; the margin only covers scheduling.
  auto left = ctx->deadline - self->clock().now() + std::chrono::seconds{1};
  self->request(fan, left, run_atom::value)
    .then([=](done_atom) { finish_forward(self, ctx, plan, out, check); },
          [=](caf::error& err) { ctx->rp.deliver(err); });
}

caf::result<gate_forward_reply> on_forward(gate_pointer self, gate_forward_request& req) {
  auto& cfg = self->state.cfg;
  auto x = decode_input(req.input, cfg.input_dim);
  if (!x)
    return x.error();
  auto scores = split_scores(req.scores, x->size(0), cfg.grid_total());
  if (!scores)
    return scores.error();
  auto ctx = std::make_shared<forward_ctx>();
  ctx->rp = self->make_response_promise<gate_forward_reply>();
  ctx->x = std::move(*x);
  ctx->deadline = self->clock().now() + seconds(cfg.forward_timeout_s);
  ctx->search = std::make_unique<beam_search>(cfg.grid, std::move(*scores), cfg.k_best,
                                              cfg.beam());
  search_step(self, ctx);
  return ctx->rp;
}

// -- backward ------------------------------------------------------------

/// The plan of a backward: the forward's experts, only the slots that answered.
caf::expected<call_plan> plan_backward(const gate_config& cfg, gate_routing routing) {
  auto n = size_t{routing.batch} * routing.k;
  if (routing.k != cfg.k_best || routing.slot_expert.size() != n || routing.slot_ok.size() != n
      || routing.uids.size() != routing.endpoints.size())
    return make_error(errc::bad_request, "backward routing does not match this gate");
  call_plan p;
  p.rows.resize(routing.uids.size());
  p.slots.resize(routing.uids.size());
  for (size_t slot = 0; slot < n; ++slot) {
    auto e = routing.slot_expert[slot];
    if (e < -1 || e >= static_cast<int32_t>(routing.uids.size()))
      return make_error(errc::bad_request, "backward routing names an unknown expert");
    if (e < 0 || !routing.slot_ok[slot])
      continue;
    p.rows[e].push_back(static_cast<int64_t>(slot / routing.k));
    p.slots[e].push_back(static_cast<int64_t>(slot));
  }
  // Experts with no surviving slot get no request.
  call_plan q;
  q.routing = std::move(routing);
  auto& r = q.routing;
  std::vector<std::string> uids, eps;
  for (size_t e = 0; e < p.rows.size(); ++e) {
    if (p.rows[e].empty())
      continue;
    uids.push_back(r.uids[e]);
    eps.push_back(r.endpoints[e]);
    q.rows.push_back(std::move(p.rows[e]));
    q.slots.push_back(std::move(p.slots[e]));
  }
  r.uids = std::move(uids);
  r.endpoints = std::move(eps);
  return q;
}

/// Rows that asked some expert for a gradient and got none (their input
/// gradient is zero).
uint32_t rows_without_gradient(const call_plan& p, const std::vector<uint8_t>& slot_ok) {
  auto k = p.routing.k;
  std::vector<char> asked(p.routing.batch, 0);
  for (auto& rows : p.rows)
    for (auto b : rows)
      asked[static_cast<size_t>(b)] = 1;
  uint32_t missing = 0;
  for (uint32_t b = 0; b < p.routing.batch; ++b) {
    if (!asked[b])
      continue;
    uint32_t ok = 0;
    for (uint32_t j = 0; j < k; ++j)
      ok += slot_ok[size_t{b} * k + j];
    missing += ok == 0;
  }
  return missing;
}

caf::result<gate_backward_reply> on_backward(gate_pointer self, gate_backward_request& req) {
  auto& cfg = self->state.cfg;
  auto x = decode_input(req.input, cfg.input_dim);
  if (!x)
    return x.error();
  auto plan = plan_backward(cfg, std::move(req.routing));
  if (!plan)
    return plan.error();
  auto g = decode_slot_grads(req.grad_outputs, *x, cfg.out_dim(), cfg.k_best);
  if (!g)
    return g.error();
  auto p = std::make_shared<call_plan>(std::move(*plan));
  auto calls = make_calls(cfg, *p, *x, &*g);
  if (!calls)
    return calls.error();
  auto limit_s = self->state.grace->backward_s();
  auto deadline = self->clock().now() + seconds(limit_s);
  auto spec = make_spec(std::move(*calls), *p, cfg.backward_k_min, deadline,
                        self->state.grace->grace_s());
  spec.reconnect_lost = false;
  auto check = std::make_shared<row_checker>(*x, cfg.out_dim(), p->rows, cfg.detect_anomalies,
                                             true);
  spec.check = [check](size_t i, expert_answer& a) { return check->check(i, a); };
  auto out = std::make_shared<fanout_result>();
  auto fan = spawn_fanout(self->system(), *self->state.conns, std::move(spec), out,
                          self->state.conns);
  auto rp = self->make_response_promise<gate_backward_reply>();
  auto xs = *x;
  self->request(fan, seconds(limit_s + 1), run_atom::value)
    .then(
      [=](done_atom) mutable {
        log_anomalies(self, *check);
        note_unreachable(self, p->routing.endpoints, *out);
        gate_backward_reply reply;
        reply.stats = count(*out, *check);
        reply.slot_ok.assign(p->routing.slot_ok.size(), 0);
        auto gx = sum_rows(xs, *check, p->rows, p->slots, *out, reply.slot_ok);
        reply.stats.short_samples = rows_without_gradient(*p, reply.slot_ok);
        auto bytes = wire::encode_tensor(gx);
        if (!bytes) {
          rp.deliver(bytes.error());
          return;
        }
        reply.grad_input.bytes = std::move(*bytes);
        rp.deliver(std::move(reply));
      },
      [=](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

} // namespace

gate_actor spawn_gate(caf::actor_system& sys, gate_config cfg, dht::peer_actor dht,
                      std::shared_ptr<node_connections> conns) {
  return sys.spawn([cfg = std::move(cfg), dht = std::move(dht),
                    conns = std::move(conns)](gate_pointer self) mutable
                   -> gate_actor::behavior_type {
    auto& st = self->state;
    st.cache = std::make_unique<prefix_cache>(cfg.cache);
    st.lost = std::make_unique<lost_nodes>(cfg.unreachable_skip_s);
    st.grace = std::make_unique<adaptive_grace>(cfg);
    st.cfg = std::move(cfg);
    st.dht = std::move(dht);
    st.conns = std::move(conns);
    return {
      [=](gate_forward_request& req) { return on_forward(self, req); },
      [=](gate_backward_request& req) { return on_backward(self, req); },
    };
  });
}

} // namespace colony::gate
