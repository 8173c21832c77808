#include "messages/registry.hpp"

#include "messages/averaging_messages.hpp"
#include "messages/control_messages.hpp"
#include "messages/dht_messages.hpp"
#include "messages/errc.hpp"
#include "messages/expert_messages.hpp"
#include "messages/gate_messages.hpp"

namespace colony {

void register_messages(caf::actor_system_config& cfg) {
  cfg.add_message_type<tensor_blob>("colony.tensor_blob");
  cfg.add_message_type<tensor_chunk>("colony.tensor_chunk");
  cfg.add_message_type<tensor_schema>("colony.tensor_schema");
  cfg.add_message_type<forward_request>("colony.forward_request");
  cfg.add_message_type<forward_reply>("colony.forward_reply");
  cfg.add_message_type<backward_request>("colony.backward_request");
  cfg.add_message_type<backward_reply>("colony.backward_reply");
  cfg.add_message_type<info_request>("colony.info_request");
  cfg.add_message_type<expert_info>("colony.expert_info");
  cfg.add_message_type<gate_routing>("colony.gate_routing");
  cfg.add_message_type<gate_call_stats>("colony.gate_call_stats");
  cfg.add_message_type<gate_forward_request>("colony.gate_forward_request");
  cfg.add_message_type<gate_forward_reply>("colony.gate_forward_reply");
  cfg.add_message_type<gate_backward_request>("colony.gate_backward_request");
  cfg.add_message_type<gate_backward_reply>("colony.gate_backward_reply");
  cfg.add_message_type<dht_peer>("colony.dht_peer");
  cfg.add_message_type<dht_value>("colony.dht_value");
  cfg.add_message_type<dht_record>("colony.dht_record");
  cfg.add_message_type<dht_ping>("colony.dht_ping");
  cfg.add_message_type<dht_pong>("colony.dht_pong");
  cfg.add_message_type<dht_store_item>("colony.dht_store_item");
  cfg.add_message_type<dht_store_request>("colony.dht_store_request");
  cfg.add_message_type<dht_store_reply>("colony.dht_store_reply");
  cfg.add_message_type<dht_find_request>("colony.dht_find_request");
  cfg.add_message_type<dht_find_result>("colony.dht_find_result");
  cfg.add_message_type<dht_find_reply>("colony.dht_find_reply");
  cfg.add_message_type<dht_bootstrap_request>("colony.dht_bootstrap_request");
  cfg.add_message_type<dht_put_item>("colony.dht_put_item");
  cfg.add_message_type<dht_put_request>("colony.dht_put_request");
  cfg.add_message_type<dht_put_reply>("colony.dht_put_reply");
  cfg.add_message_type<dht_get_request>("colony.dht_get_request");
  cfg.add_message_type<dht_get_result>("colony.dht_get_result");
  cfg.add_message_type<dht_get_reply>("colony.dht_get_reply");
  cfg.add_message_type<dht_peer_stats>("colony.dht_peer_stats");
  cfg.add_message_type<tree_entry>("colony.tree_entry");
  cfg.add_message_type<std::vector<tree_entry>>("colony.tree_entries");
  cfg.add_message_type<node_status>("colony.node_status");
  cfg.add_message_type<expert_spec_msg>("colony.expert_spec_msg");
  cfg.add_message_type<ctl_spawn>("colony.ctl_spawn");
  cfg.add_message_type<ctl_stop>("colony.ctl_stop");
  cfg.add_message_type<ctl_uids>("colony.ctl_uids");
  cfg.add_message_type<ctl_status>("colony.ctl_status");
  cfg.add_message_type<ctl_logs>("colony.ctl_logs");
  cfg.add_message_type<ctl_log_lines>("colony.ctl_log_lines");
  cfg.add_message_type<avg_join>("colony.avg_join");
  cfg.add_message_type<avg_group>("colony.avg_group");
  cfg.add_message_type<avg_part>("colony.avg_part");
  cfg.add_message_type<avg_part_result>("colony.avg_part_result");
  cfg.add_message_type<avg_state_request>("colony.avg_state_request");
  cfg.add_message_type<avg_state_chunk>("colony.avg_state_chunk");
  cfg.add_error_category(errc_category,
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           auto name = to_string(static_cast<errc>(code));
                           if (ctx.size() == 1 && ctx.match_element<std::string>(0))
                             return "colony:" + name + " " + ctx.get_as<std::string>(0);
                           return "colony:" + name;
                         });
}

} // namespace colony
