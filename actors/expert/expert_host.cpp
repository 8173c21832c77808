#include "actors/expert/expert_host.hpp"

#include <algorithm>
#include <thread>

#include <caf/all.hpp>
#include <torch/torch.h>

#include "actors/expert/expert_actor.hpp"
#include "actors/expert/expert_server.hpp"
#include "actors/expert/expert_state.hpp"
#include "messages/errc.hpp"
#include "runtime/logging.hpp"

namespace colony {

caf::expected<expert_host> spawn_expert_host(caf::actor_system& sys, const node_config& cfg) {
  std::vector<std::shared_ptr<expert::expert_state>> states;
  for (size_t g = 0; g < cfg.experts.size(); ++g)
    for (auto& uid : expand_uids(cfg.experts[g])) {
      auto st = expert::expert_state::make(uid, cfg.experts[g]);
      if (!st)
        return make_error(code_of(st.error()), "experts[" + std::to_string(g) + "] (" + uid
                                                 + "): " + context_of(st.error()));
      states.emplace_back(std::move(*st));
    }
  expert_host host;
  host.dispatcher = spawn_dispatcher(sys, cfg.compute_slots);
  // torch's own default here is 1 intra-op thread (it counts physical
  // cores): use every core unless the config says otherwise. Set per pool
  // thread, since the setting does not carry over between threads.
  auto threads = cfg.torch_threads > 0 ? cfg.torch_threads
                                       : std::max(1u, std::thread::hardware_concurrency());
  host.pool = std::make_shared<worker_pool>(
    cfg.compute_slots, [threads] { torch::set_num_threads(static_cast<int>(threads)); });
  expert_options opts{cfg.max_message_bytes};
  for (auto& st : states) {
    auto uid = st->uid();
    host.experts.emplace(uid, spawn_expert(sys, std::move(st), host.pool, host.dispatcher, opts));
  }
  host.server = spawn_expert_server(sys, host.experts, cfg.max_message_bytes);
  log::get("node")->info("event=experts_spawned count={} compute_slots={}", host.experts.size(),
                         cfg.compute_slots);
  return host;
}

void stop_expert_host(expert_host& host) {
  auto reason = caf::exit_reason::user_shutdown;
  caf::anon_send_exit(host.server, reason);
  for (auto& kv : host.experts)
    caf::anon_send_exit(kv.second, reason);
  caf::anon_send_exit(host.dispatcher, reason);
  if (host.pool)
    host.pool->stop();
}

} // namespace colony
