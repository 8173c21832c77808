#include "messages/registry.hpp"

#include "messages/errc.hpp"
#include "messages/expert_messages.hpp"

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
  cfg.add_error_category(errc_category,
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           auto name = to_string(static_cast<errc>(code));
                           if (ctx.size() == 1 && ctx.match_element<std::string>(0))
                             return "colony:" + name + " " + ctx.get_as<std::string>(0);
                           return "colony:" + name;
                         });
}

} // namespace colony
