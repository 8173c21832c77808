#include "actors/client/remote_expert.hpp"

#include <numeric>
#include <random>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "messages/chunking.hpp"
#include "messages/errc.hpp"

namespace colony {

namespace {

bool is_connection_loss(const caf::error& err) {
  if (err.category() != caf::atom("system"))
    return false;
  switch (static_cast<caf::sec>(err.code())) {
    case caf::sec::request_receiver_down:
    case caf::sec::remote_linking_failed:
    case caf::sec::cannot_connect_to_node:
      return true;
    default:
      return false;
  }
}

/// Turns CAF's transport errors into colony errors that name the node.
caf::error classify(const caf::error& err, const node_connections& conns, const endpoint& ep,
                    const std::string& uid, caf::timespan timeout) {
  if (err == caf::sec::request_timeout && conns.lost(ep))
    return make_error(errc::unreachable, "node " + ep.to_string()
                                           + " unreachable (connection lost during the call)");
  if (err == caf::sec::request_timeout) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
    return make_error(errc::timeout, "no reply from " + ep.to_string() + " expert '" + uid
                                       + "' within " + std::to_string(ms) + " ms");
  }
  if (is_connection_loss(err))
    return make_error(errc::unreachable, "node " + ep.to_string() + " unreachable ("
                                           + caf::to_string(err) + ")");
  return err;
}

template <class Request>
struct reply_of;
template <>
struct reply_of<forward_request> { using type = forward_reply; };
template <>
struct reply_of<backward_request> { using type = backward_reply; };
template <>
struct reply_of<info_request> { using type = expert_info; };

/// The tensors of a request or reply that may travel in chunks.
std::vector<std::vector<tensor_blob>*> blobs_of(forward_request& r) { return {&r.inputs}; }
std::vector<std::vector<tensor_blob>*> blobs_of(backward_request& r) {
  return {&r.inputs, &r.grad_outputs};
}
std::vector<std::vector<tensor_blob>*> blobs_of(info_request&) { return {}; }
std::vector<std::vector<tensor_blob>*> blobs_of(forward_reply& r) { return {&r.outputs}; }
std::vector<std::vector<tensor_blob>*> blobs_of(backward_reply& r) { return {&r.grad_inputs}; }
std::vector<std::vector<tensor_blob>*> blobs_of(expert_info&) { return {}; }

/// Sends the large tensors of `req` ahead of it as chunks.
template <class Request>
void send_chunks(caf::scoped_actor& self, const expert_server_actor& server, Request& req,
                 std::mt19937_64& ids) {
  for (auto* blobs : blobs_of(req))
    for (auto& blob : *blobs)
      for (auto& c : split_blob(blob, ids(), default_chunk_bytes))
        self->send(server, std::move(c));
}

/// Receives the chunks of `reply`'s large tensors (they precede the reply in
/// the mailbox) and restores them; bounded by `deadline`.
template <class Reply>
caf::error receive_chunks(caf::scoped_actor& self, chunk_assembler& chunks, Reply& reply,
                          std::chrono::steady_clock::time_point deadline) {
  for (auto* blobs : blobs_of(reply)) {
    // Each pass takes one chunk; the deadline bounds the loop in time.
    while (!chunks.ready(0, *blobs)) {
      caf::error err;
      auto left = std::max(caf::timespan{0},
                           caf::timespan{deadline - std::chrono::steady_clock::now()});
      self->receive([&](tensor_chunk& c) { err = chunks.add(0, std::move(c), 0); },
                    caf::after(left) >> [&] {
                      err = make_error(errc::timeout, "chunks of a reply did not arrive in time");
                    });
      if (err)
        return err;
    }
    if (auto err = chunks.restore(0, *blobs))
      return err;
  }
  return caf::none;
}

const std::string& uid_of(const expert_call& c) {
  return std::visit([](const auto& r) -> const std::string& { return r.uid; }, c.request);
}

} // namespace

node_connections::node_connections(caf::actor_system& sys)
  : sys_(sys), st_(std::make_shared<shared_state>()) {
  // nop
}

caf::expected<expert_server_actor> node_connections::get(const endpoint& ep,
                                                         caf::timespan timeout) {
  {
    std::lock_guard<std::mutex> guard{st_->mx};
    auto i = st_->cache.find(ep);
    if (i != st_->cache.end())
      return i->second;
  }
  auto server = connect(ep, timeout);
  if (!server)
    return server.error();
  // Runs when the proxy dies, i.e. when CAF lost the connection to the node.
  std::weak_ptr<shared_state> weak = st_;
  (*server)->attach_functor([weak, ep] {
    if (auto st = weak.lock()) {
      std::lock_guard<std::mutex> guard{st->mx};
      st->cache.erase(ep);
      st->lost.insert(ep);
    }
  });
  std::lock_guard<std::mutex> guard{st_->mx};
  st_->lost.erase(ep);
  return st_->cache.emplace(ep, *server).first->second;
}

caf::expected<expert_server_actor> node_connections::connect(const endpoint& ep,
                                                             caf::timespan timeout) {
  // caf::io::remote_actor() has no timeout (a black-holed host would block
  // until the kernel gives up); ask the middleman with a bounded request.
  auto unreachable = [&](const std::string& why) {
    return make_error(errc::unreachable, "node " + ep.to_string() + " unreachable (" + why + ")");
  };
  caf::expected<expert_server_actor> result{caf::error{}};
  caf::scoped_actor self{sys_};
  self->request(sys_.middleman().actor_handle(), timeout, caf::connect_atom::value, ep.host,
                ep.port)
    .receive(
      [&](const caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
        if (!ptr || !sys_.assignable<expert_server_actor>(ifs))
          result = unreachable("no expert server published there");
        else
          result = caf::actor_cast<expert_server_actor>(std::move(ptr));
      },
      [&](caf::error& err) { result = unreachable(sys_.render(err)); });
  return result;
}

void node_connections::evict(const endpoint& ep) {
  std::lock_guard<std::mutex> guard{st_->mx};
  st_->cache.erase(ep);
}

void node_connections::set_faults(std::shared_ptr<fault_injection> faults) {
  std::lock_guard<std::mutex> guard{st_->mx};
  st_->faults = std::move(faults);
}

std::shared_ptr<fault_injection> node_connections::faults() const {
  std::lock_guard<std::mutex> guard{st_->mx};
  return st_->faults;
}

bool node_connections::lost(const endpoint& ep) const {
  std::lock_guard<std::mutex> guard{st_->mx};
  return st_->lost.count(ep) > 0;
}

namespace {

/// One call_many(): sends every call (each after its injected delay, if a
/// fault hook is set), then collects the answers. Every request carries a
/// timeout that ends at the common deadline, so collecting ends by then.
class fan_out {
public:
  fan_out(node_connections& conns, std::vector<expert_call>& calls, caf::timespan timeout)
    : conns_(conns), calls_(calls), timeout_(timeout), self_(conns.system()),
      start_(std::chrono::steady_clock::now()), deadline_(start_ + timeout),
      answers_(calls.size(), expert_answer{caf::error{}}) {
    // nop
  }

  std::vector<expert_answer> run() {
    auto faults = conns_.faults();
    std::vector<fault_verdict> fates(calls_.size());
    if (faults && !faults->is_noop())
      for (auto& f : fates)
        f = faults->next();
    bool lost = false;
    for (auto i : send_order(fates)) {
      std::this_thread::sleep_until(std::min(deadline_, start_ + fates[i].delay));
      if (fates[i].drop || start_ + fates[i].delay >= deadline_) {
        answers_[i] = timed_out(i);
        lost = true;
      } else {
        send(i);
      }
    }
    for (auto& collect : collectors_)
      collect();
    if (lost) // a lost request is only noticed when the deadline passes
      std::this_thread::sleep_until(deadline_);
    return std::move(answers_);
  }

private:
  static std::vector<size_t> send_order(const std::vector<fault_verdict>& fates) {
    std::vector<size_t> order(fates.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return fates[a].delay < fates[b].delay; });
    return order;
  }

  caf::error timed_out(size_t i) {
    return classify(caf::sec::request_timeout, conns_, calls_[i].node, uid_of(calls_[i]),
                    timeout_);
  }

  void send(size_t i) {
    auto left = std::max(caf::timespan{0},
                         caf::timespan{deadline_ - std::chrono::steady_clock::now()});
    auto server = conns_.get(calls_[i].node, left);
    if (!server) {
      answers_[i] = server.error();
      return;
    }
    // The request is moved into the message below: keep its uid for errors.
    auto uid = uid_of(calls_[i]);
    std::visit(
      [&](auto& req) {
        using reply_type = typename reply_of<std::decay_t<decltype(req)>>::type;
        send_chunks(self_, *server, req, transfer_ids_);
        auto handle = self_->request(*server, left, std::move(req));
        collectors_.emplace_back([this, handle, i, uid]() mutable {
          handle.receive([&](reply_type& reply) { on_reply(i, reply); },
                         [&](caf::error& err) { on_error(i, uid, err); });
        });
      },
      calls_[i].request);
  }

  template <class Reply>
  void on_reply(size_t i, Reply& reply) {
    if (auto err = receive_chunks(self_, chunks_, reply, deadline_))
      answers_[i] = std::move(err);
    else
      answers_[i] = std::move(reply);
  }

  void on_error(size_t i, const std::string& uid, const caf::error& err) {
    if (is_connection_loss(err))
      conns_.evict(calls_[i].node);
    answers_[i] = classify(err, conns_, calls_[i].node, uid, timeout_);
  }

  node_connections& conns_;
  std::vector<expert_call>& calls_;
  caf::timespan timeout_;
  caf::scoped_actor self_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point deadline_;
  std::vector<expert_answer> answers_;
  std::vector<std::function<void()>> collectors_;
  std::mt19937_64 transfer_ids_{std::random_device{}()};
  chunk_assembler chunks_{uint64_t{1} << 40};
};

} // namespace

std::vector<expert_answer> call_many(node_connections& conns, std::vector<expert_call> calls,
                                     caf::timespan timeout) {
  return fan_out{conns, calls, timeout}.run();
}

remote_expert::remote_expert(node_connections& conns, endpoint node, std::string uid,
                             caf::timespan timeout)
  : conns_(conns), node_(std::move(node)), uid_(std::move(uid)), timeout_(timeout) {
  // nop
}

expert_answer remote_expert::call(expert_call c) {
  std::vector<expert_call> calls;
  calls.push_back(std::move(c));
  return std::move(call_many(conns_, std::move(calls), timeout_)[0]);
}

caf::expected<std::vector<tensor_blob>> remote_expert::forward(std::vector<tensor_blob> inputs) {
  auto r = call(expert_call{node_, forward_request{uid_, std::move(inputs)}});
  if (!r)
    return r.error();
  return std::move(std::get<forward_reply>(*r).outputs);
}

caf::expected<std::vector<tensor_blob>>
remote_expert::backward(std::vector<tensor_blob> inputs, std::vector<tensor_blob> grad_outputs) {
  auto r = call(expert_call{node_, backward_request{uid_, std::move(inputs),
                                                    std::move(grad_outputs)}});
  if (!r)
    return r.error();
  return std::move(std::get<backward_reply>(*r).grad_inputs);
}

caf::expected<expert_info> remote_expert::info() {
  auto r = call(expert_call{node_, info_request{uid_}});
  if (!r)
    return r.error();
  return std::move(std::get<expert_info>(*r));
}

caf::expected<std::vector<std::string>> list_experts(node_connections& conns,
                                                     const endpoint& node,
                                                     caf::timespan timeout) {
  auto server = conns.get(node, timeout);
  if (!server)
    return server.error();
  caf::scoped_actor self{conns.system()};
  caf::expected<std::vector<std::string>> result{caf::error{}};
  self->request(*server, timeout, list_atom::value)
    .receive([&](std::vector<std::string>& uids) { result = std::move(uids); },
             [&](caf::error& err) {
               if (is_connection_loss(err))
                 conns.evict(node);
               result = classify(err, conns, node, "*", timeout);
             });
  return result;
}

} // namespace colony
