// An expert group's spec <-> its wire form (expert_spec_msg, for `colony
// ctl spawn`). Validation is the node config parser's own: from_wire and
// spec_from_yaml build the group as a one-group config and parse it, so a
// spec sent over the control port obeys exactly the rules of a config file.
// Errors are errc::bad_config naming the key as "spec.optimizer.lr: ...".
#pragma once

#include <cstdint>
#include <string>

#include <caf/expected.hpp>

#include "messages/control_messages.hpp"
#include "runtime/node_config.hpp"

namespace colony {

/// The group's spec without its uid pattern and count; every optimizer
/// parameter is written out.
expert_spec_msg to_wire(const expert_group_config& group);

/// The group "prefix.*" x count with the spec `msg`, validated like a config
/// file (spec.module.type is required: a copy-the-existing-group spawn with
/// an empty module_type never reaches this); an invalid prefix is named as
/// "prefix: ...". Unknown optimizer_params keys and module_params named
/// "type" or "seed" are refused by name.
caf::expected<expert_group_config> from_wire(const expert_spec_msg& msg,
                                             const std::string& prefix, uint32_t count);

/// Reads a `--spec FILE.yaml` text: one group's keys (max_batch_size,
/// module, optimizer, checkpoint; not uid or count) -> its wire form.
caf::expected<expert_spec_msg> spec_from_yaml(const std::string& yaml_text);

} // namespace colony
