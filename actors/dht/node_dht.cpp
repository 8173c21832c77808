#include "actors/dht/node_dht.hpp"

#include <caf/all.hpp>

#include "actors/dht/expert_directory.hpp"
#include "messages/expert_uid.hpp"
#include "runtime/logging.hpp"

namespace colony::dht {

peer_config peer_config_of(const dht_config& cfg) {
  peer_config result;
  result.self_ep = endpoint{cfg.host, cfg.port};
  result.client_mode = cfg.client_mode;
  result.k = cfg.k;
  result.alpha = cfg.alpha;
  result.num_replicas = cfg.num_replicas;
  result.values_wanted = cfg.values_wanted;
  result.value_grace = std::chrono::milliseconds{cfg.value_grace_ms};
  result.rpc_timeout = std::chrono::milliseconds{cfg.rpc_timeout_ms};
  result.rpc_timeout_min = std::chrono::milliseconds{cfg.rpc_timeout_min_ms};
  result.republish_s = cfg.republish_s;
  result.hand_off = cfg.hand_off;
  result.read_repair = cfg.read_repair;
  return result;
}

caf::expected<std::shared_ptr<const identity::node_key>> node_key_of(const dht_config& cfg) {
  if (cfg.key_file.empty()) {
    auto key = std::make_shared<const identity::node_key>(identity::node_key::generate());
    log::get("dht")->info("event=node_key key={} file=none (made for this run)",
                          key->fingerprint());
    return key;
  }
  auto key = identity::node_key::load_or_create(cfg.key_file);
  if (!key)
    return key.error();
  log::get("dht")->info("event=node_key key={} file={}", key->fingerprint(), cfg.key_file);
  return std::make_shared<const identity::node_key>(std::move(*key));
}

caf::expected<node_dht> start_node_dht(caf::actor_system& sys, const dht_config& cfg,
                                       const std::vector<std::string>& uids,
                                       const endpoint& expert_ep,
                                       const net_guard::guard_config& guard,
                                       const fault_config& faults,
                                       std::shared_ptr<const identity::node_key> key) {
  for (const auto& uid : uids)
    if (auto parsed = parse_uid(uid); !parsed)
      return parsed.error();
  if (!key) {
    auto loaded = node_key_of(cfg);
    if (!loaded)
      return loaded.error();
    key = std::move(*loaded);
  }
  auto peer = start_io_peer(sys, peer_config_of(cfg), cfg.initial_peers, faults, guard);
  if (!peer)
    return peer.error();
  log::get("dht")->info("event=dht_ready endpoint={} table={} experts={}",
                        peer->ep.to_string(), peer->stats.contacts.size(), uids.size());
  node_dht result{std::move(*peer), std::nullopt, key};
  if (!uids.empty()) {
    declarer_config dc;
    dc.uids = uids;
    dc.expert_ep = expert_ep;
    dc.expiration_s = cfg.expiration_s;
    dc.update_period_s = cfg.update_period();
    dc.clock = unix_time;
    dc.owner = key;
    result.declarer = spawn_declarer(sys, result.peer.peer, std::move(dc));
  }
  return result;
}

void stop_node_dht(caf::actor_system& sys, node_dht& x) {
  if (x.declarer) {
    leave(sys, *x.declarer, std::chrono::seconds{5});
    caf::anon_send_exit(*x.declarer, caf::exit_reason::user_shutdown);
  }
  stop_io_peer(sys, x.peer);
}

} // namespace colony::dht
