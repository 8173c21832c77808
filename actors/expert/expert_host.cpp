#include "actors/expert/expert_host.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <caf/all.hpp>
#include <torch/torch.h>

#include "actors/expert/expert_actor.hpp"
#include "actors/expert/expert_server.hpp"
#include "actors/expert/expert_state.hpp"
#include "messages/errc.hpp"
#include "runtime/logging.hpp"

namespace colony {

using supervision::child_spec;
using supervision::supervisor_config;

/// What the start functions of a host's experts share.
struct expert_host_context {
  caf::actor_system* sys = nullptr;
  std::shared_ptr<worker_pool> pool;
  dispatcher_actor dispatcher;
  std::shared_ptr<expert_registry> registry;
  expert_options opts;
  expert_supervision sup;
  std::function<void()> on_change;

  /// One group: a config group or one `ctl spawn`.
  struct group {
    std::string id;
    expert_group_config cfg;
    std::vector<std::string> uids;
  };

  std::mutex mx;
  std::vector<std::shared_ptr<group>> groups;
  /// Built at start-up, handed to each expert's first start.
  std::map<std::string, std::shared_ptr<expert::expert_state>> prebuilt;
  /// Each expert's latest update count (what a crash loses since its checkpoint).
  std::map<std::string, std::shared_ptr<std::atomic<uint64_t>>> seen;
  caf::actor top;

  std::shared_ptr<std::atomic<uint64_t>> seen_of(const std::string& uid) {
    std::lock_guard<std::mutex> guard{mx};
    auto& p = seen[uid];
    if (!p)
      p = std::make_shared<std::atomic<uint64_t>>(0);
    return p;
  }

  /// A supervisor gave up its child `child`: a group (all its experts) or
  /// one expert. Its experts become unavailable and are withdrawn from the
  /// node's declarations (on_change).
  void gave_up(const std::string& child, const std::string& reason) {
    std::vector<std::pair<std::string, std::string>> lost; // uid, group
    {
      std::lock_guard<std::mutex> guard{mx};
      for (auto& g : groups) {
        if (g->id == child)
          for (auto& uid : g->uids)
            lost.emplace_back(uid, g->id);
        else if (std::find(g->uids.begin(), g->uids.end(), child) != g->uids.end())
          lost.emplace_back(child, g->id);
      }
    }
    auto now = std::chrono::duration<double>(
                 std::chrono::system_clock::now().time_since_epoch()).count();
    for (auto& [uid, group] : lost) {
      registry->mark_unavailable(uid, group, reason, now);
      log::get("expert")->error("expert={} group={} event=unavailable reason=\"{}\"", uid,
                                group, reason);
    }
    if (!lost.empty() && on_change)
      on_change();
  }

  std::shared_ptr<expert::expert_state> take_prebuilt(const std::string& uid) {
    std::lock_guard<std::mutex> guard{mx};
    auto i = prebuilt.find(uid);
    if (i == prebuilt.end())
      return nullptr;
    auto st = std::move(i->second);
    prebuilt.erase(i);
    return st;
  }
};

namespace {

using ctx_ptr = std::shared_ptr<expert_host_context>;
using experts_of_type = expert_actor;

caf::expected<supervision::started> start_expert(const ctx_ptr& ctx, const std::string& uid,
                                                 const expert_group_config& cfg,
                                                 const supervision::start_context& sc) {
  auto st = ctx->take_prebuilt(uid);
  if (!st) {
    auto made = expert::expert_state::make(uid, cfg);
    if (!made)
      return made.error();
    st = std::move(*made);
  }
  auto seen = ctx->seen_of(uid);
  auto before = seen->load();
  auto restored = st->updates();
  supervision::fields f;
  if (sc.restarts > 0 || before > 0 || restored > 0) {
    auto path = st->checkpoint_path();
    f = {{"checkpoint", path.empty() ? "none" : path},
         {"restored_updates", std::to_string(restored)},
         {"updates_lost", std::to_string(before > restored ? before - restored : 0)}};
  }
  auto opts = ctx->opts;
  opts.updates_seen = seen;
  auto h = spawn_expert(*ctx->sys, std::move(st), ctx->pool, ctx->dispatcher, opts);
  ctx->registry->put(uid, h);
  if (ctx->on_change)
    ctx->on_change();
  return supervision::started{caf::actor_cast<caf::actor>(h), std::move(f)};
}

child_spec expert_child(const ctx_ptr& ctx, const std::string& uid,
                        const expert_group_config& cfg) {
  child_spec spec;
  spec.id = uid;
  spec.start = [ctx, uid, cfg](caf::actor_system&, const supervision::start_context& sc) {
    return start_expert(ctx, uid, cfg, sc);
  };
  return spec;
}

child_spec group_child(const ctx_ptr& ctx, std::shared_ptr<expert_host_context::group> g) {
  auto cfg = ctx->sup.group;
  cfg.id = g->id;
  return supervision::supervisor_child(cfg, [ctx, g] {
    std::lock_guard<std::mutex> guard{ctx->mx};
    std::vector<child_spec> children;
    for (auto& uid : g->uids)
      children.push_back(expert_child(ctx, uid, g->cfg));
    return children;
  });
}

caf::actor spawn_top(const ctx_ptr& ctx) {
  std::vector<child_spec> groups;
  {
    std::lock_guard<std::mutex> guard{ctx->mx};
    for (auto& g : ctx->groups)
      groups.push_back(group_child(ctx, g));
  }
  auto top = supervision::spawn_supervisor(*ctx->sys, ctx->sup.top, std::move(groups));
  std::lock_guard<std::mutex> guard{ctx->mx};
  ctx->top = top;
  return top;
}

/// A group id not used yet: the prefix, or prefix~2, prefix~3, ...
std::string fresh_group_id(const expert_host_context& ctx, const std::string& base) {
  for (int n = 1;; ++n) {
    auto id = n == 1 ? base : base + "~" + std::to_string(n);
    if (std::none_of(ctx.groups.begin(), ctx.groups.end(),
                     [&](auto& g) { return g->id == id; }))
      return id;
  }
}

std::string group_id_of(const expert_group_config& g) {
  auto star = g.uid.find(".*");
  return star == std::string::npos ? g.uid : g.uid.substr(0, star);
}

} // namespace

expert_supervision::expert_supervision() {
  group.max_restarts = 3;
  group.window_s = 10;
  group.backoff.initial_ms = 100;
  group.backoff.max_ms = 5000;
  top.id = "experts";
  top.max_restarts = 3;
  top.window_s = 60;
  top.escalate = false;
}

caf::expected<expert_host> spawn_expert_host(caf::actor_system& sys, const node_config& cfg,
                                             std::function<void()> on_change,
                                             expert_supervision sup) {
  auto ctx = std::make_shared<expert_host_context>();
  for (size_t g = 0; g < cfg.experts.size(); ++g) {
    auto group = std::make_shared<expert_host_context::group>();
    group->cfg = cfg.experts[g];
    group->id = fresh_group_id(*ctx, group_id_of(cfg.experts[g]));
    for (auto& uid : expand_uids(cfg.experts[g])) {
      auto st = expert::expert_state::make(uid, cfg.experts[g]);
      if (!st)
        return make_error(code_of(st.error()), "experts[" + std::to_string(g) + "] (" + uid
                                                 + "): " + context_of(st.error()));
      ctx->prebuilt.emplace(uid, std::move(*st));
      group->uids.push_back(uid);
    }
    ctx->groups.push_back(std::move(group));
  }
  expert_host host;
  ctx->sys = &sys;
  ctx->sup = std::move(sup);
  // Whichever level gives experts up (the experts supervisor a group, or a
  // group that does not escalate an expert), they stop being offered.
  std::weak_ptr<expert_host_context> weak = ctx;
  for (auto* level : {&ctx->sup.top, &ctx->sup.group})
    level->on_gave_up = [weak, also = level->on_gave_up](const std::string& child,
                                                         const std::string& reason) {
      if (auto c = weak.lock())
        c->gave_up(child, reason);
      if (also)
        also(child, reason);
    };
  ctx->on_change = std::move(on_change);
  ctx->opts = expert_options{cfg.max_message_bytes};
  host.dispatcher = spawn_dispatcher(sys, cfg.compute_slots);
  // torch's own default here is 1 intra-op thread (it counts physical
  // cores): use every core unless the config says otherwise. Set per pool
  // thread, since the setting does not carry over between threads.
  auto threads = cfg.torch_threads > 0 ? cfg.torch_threads
                                       : std::max(1u, std::thread::hardware_concurrency());
  host.pool = std::make_shared<worker_pool>(
    cfg.compute_slots, [threads] { torch::set_num_threads(static_cast<int>(threads)); });
  host.registry = std::make_shared<expert_registry>();
  ctx->pool = host.pool;
  ctx->dispatcher = host.dispatcher;
  ctx->registry = host.registry;
  host.ctx = ctx;
  spawn_top(ctx);
  // The supervisors start the experts asynchronously: wait until each is
  // registered (their states are built, so this takes milliseconds).
  auto total = ctx->prebuilt.size();
  for (int i = 0; i < 6000 && host.registry->running().size() < total; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  host.server = spawn_expert_server(sys, host.registry, cfg.max_message_bytes);
  log::get("node")->info("event=experts_spawned count={} compute_slots={}",
                         host.registry->size(), cfg.compute_slots);
  return host;
}

caf::actor experts_supervisor(const expert_host& host) {
  std::lock_guard<std::mutex> guard{host.ctx->mx};
  return host.ctx->top;
}

supervision::child_spec expert_host_child(const expert_host& host) {
  child_spec spec;
  spec.id = "experts";
  spec.is_supervisor = true;
  auto ctx = host.ctx;
  spec.start = [ctx](caf::actor_system&, const supervision::start_context& sc)
    -> caf::expected<supervision::started> {
    if (sc.restarts == 0) {
      std::lock_guard<std::mutex> guard{ctx->mx};
      return supervision::started{ctx->top, {}};
    }
    return supervision::started{spawn_top(ctx), {}};
  };
  return spec;
}

caf::expected<std::vector<std::string>>
add_expert_group(caf::actor_system& sys, expert_host& host, const std::string& prefix,
                 uint32_t count, expert_group_config cfg) {
  auto ctx = host.ctx;
  auto group = std::make_shared<expert_host_context::group>();
  cfg.uid = prefix + ".*";
  cfg.count = count;
  group->cfg = cfg;
  std::vector<std::shared_ptr<expert::expert_state>> states;
  {
    std::lock_guard<std::mutex> guard{ctx->mx};
    group->id = fresh_group_id(*ctx, prefix);
  }
  for (uint32_t n = 0; group->uids.size() < count && n < count + 100000; ++n) {
    auto uid = prefix + "." + std::to_string(n);
    if (host.registry->contains(uid) && !host.registry->unavailable(uid))
      continue; // a given-up uid is free again: this group brings it back
    auto st = expert::expert_state::make(uid, cfg);
    if (!st)
      return make_error(code_of(st.error()), uid + ": " + context_of(st.error()));
    states.push_back(std::move(*st));
    group->uids.push_back(uid);
  }
  {
    std::lock_guard<std::mutex> guard{ctx->mx};
    for (size_t i = 0; i < states.size(); ++i)
      ctx->prebuilt.emplace(group->uids[i], std::move(states[i]));
    // A uid taken back from a given-up group leaves it, so that a restart
    // of the experts' tree does not start it twice.
    for (auto& g : ctx->groups)
      g->uids.erase(std::remove_if(g->uids.begin(), g->uids.end(),
                                   [&](const std::string& uid) {
                                     return std::find(group->uids.begin(), group->uids.end(),
                                                      uid) != group->uids.end();
                                   }),
                    g->uids.end());
    ctx->groups.push_back(group);
  }
  caf::scoped_actor self{sys};
  caf::error failed;
  self->request(experts_supervisor(host), std::chrono::seconds{60},
                supervision::add_child_atom::value, group_child(ctx, group))
    .receive([](const std::string&) {}, [&](caf::error& err) { failed = std::move(err); });
  if (failed)
    return failed;
  for (int i = 0; i < 6000; ++i) {
    bool all = std::all_of(group->uids.begin(), group->uids.end(),
                           [&](auto& uid) { return static_cast<bool>(host.registry->find(uid)); });
    if (all)
      return group->uids;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  return make_error(errc::timeout, "experts of group " + group->id + " did not start in 30 s");
}

caf::expected<expert_group_config> group_spec_of(const expert_host& host,
                                                 const std::string& prefix) {
  // The group with experts under `prefix`, else under its parent prefix
  // (ffn.3 copies ffn.0's spec: the same grid), and so on up.
  std::lock_guard<std::mutex> guard{host.ctx->mx};
  for (auto p = prefix; !p.empty(); p = p.substr(0, p.find_last_of('.') == std::string::npos
                                                      ? 0 : p.find_last_of('.')))
    for (auto& g : host.ctx->groups)
      for (auto& uid : g->uids)
        if (uid.rfind(p + ".", 0) == 0)
          return g->cfg;
  return make_error(errc::not_found, "no group with experts under '" + prefix
                                       + "' or its parent prefixes on this node: give a spec");
}

caf::expected<std::vector<std::string>>
remove_experts(caf::actor_system& sys, expert_host& host, const std::vector<std::string>& uids) {
  auto ctx = host.ctx;
  for (auto& uid : uids)
    if (!host.registry->contains(uid))
      return make_error(errc::unknown_expert, "no expert '" + uid + "' on this node");
  caf::scoped_actor self{sys};
  std::vector<std::string> removed;
  for (auto& uid : uids) {
    if (auto h = host.registry->find(uid))
      self->request(*h, std::chrono::seconds{60}, save_atom::value)
        .receive([](uint64_t) {}, [&](caf::error& err) {
          log::get("node")->warn("event=checkpoint uid={} error=\"{}\"", uid, describe(err));
        });
    std::shared_ptr<expert_host_context::group> group;
    {
      std::lock_guard<std::mutex> guard{ctx->mx};
      for (auto& g : ctx->groups) {
        auto i = std::find(g->uids.begin(), g->uids.end(), uid);
        if (i != g->uids.end()) {
          g->uids.erase(i);
          group = g;
        }
      }
    }
    if (group) {
      self->request(experts_supervisor(host), std::chrono::seconds{10},
                    supervision::lookup_atom::value, group->id)
        .receive(
          [&](caf::actor& gsup) {
            self->request(gsup, std::chrono::seconds{60}, supervision::remove_child_atom::value,
                          uid)
              .receive([](bool) {}, [](caf::error&) {});
          },
          [](caf::error&) {});
    }
    host.registry->erase(uid);
    removed.push_back(uid);
  }
  if (ctx->on_change)
    ctx->on_change();
  return removed;
}

uint64_t checkpoint_experts(caf::actor_system& sys, const expert_host& host,
                            caf::timespan timeout) {
  caf::scoped_actor self{sys};
  uint64_t saved = 0;
  auto experts = host.registry->running();
  // All requests leave at once (the experts save in parallel on the pool);
  // then their answers are collected.
  using handle = decltype(self->request(experts_of_type{}, timeout, save_atom::value));
  std::vector<handle> waiting;
  for (auto& [uid, h] : experts)
    waiting.push_back(self->request(h, timeout, save_atom::value));
  for (auto& w : waiting)
    w.receive([&](uint64_t) { ++saved; }, [](caf::error&) {});
  return saved;
}

void stop_expert_host(expert_host& host) {
  auto reason = caf::exit_reason::user_shutdown;
  if (host.ctx) {
    auto top = experts_supervisor(host);
    if (top)
      caf::anon_send_exit(top, reason);
  }
  if (host.server)
    caf::anon_send_exit(host.server, reason);
  if (host.dispatcher)
    caf::anon_send_exit(host.dispatcher, reason);
  if (host.pool)
    host.pool->stop();
}

} // namespace colony
