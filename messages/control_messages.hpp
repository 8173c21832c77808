// CAF message types of a node's control plane (actors/control/): the
// supervision tree's status, an expert group's spec in wire form (for
// `colony ctl spawn`), and the token-carrying control requests. Only the
// control port carries these; the data-plane handles never do.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace colony {

/// One row of a node's supervision tree, flattened parent first: `path` is
/// the ids from the root down, joined by '/', e.g. "node/experts/ffn.0/ffn.0.3".
struct tree_entry {
  std::string path;
  std::string kind;      ///< "supervisor" or "worker"
  std::string state;     ///< "running", "restarting", "stopped" or "failed"
  std::string restart;   ///< "permanent", "transient" or "temporary"
  uint32_t restarts = 0; ///< restarts of this child so far
  double uptime_s = 0;   ///< since its latest (re)start; 0 unless running
  std::string last_exit; ///< reason of its latest abnormal exit, or empty
  /// Worker facts the node adds (experts: updates, forward_rows, queue, ...).
  std::map<std::string, std::string> details;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tree_entry& x) {
  return f(caf::meta::type_name("tree_entry"), x.path, x.kind, x.state, x.restart, x.restarts,
           x.uptime_s, x.last_exit, x.details);
}

/// `colony ctl status`: the node and its tree.
struct node_status {
  std::string node;      ///< the node's data-plane endpoint
  double uptime_s = 0;
  std::vector<tree_entry> tree;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("node_status"), x.node, x.uptime_s, x.tree);
}

/// An expert group's spec on the wire: the fields of expert_group_config
/// (runtime/node_config.hpp) without its uid pattern and count, which the
/// spawn request carries. runtime/expert_spec_wire.hpp converts both ways.
struct expert_spec_msg {
  uint32_t max_batch_size = 256;
  std::string module_type;
  std::map<std::string, double> module_params;
  uint64_t module_seed = 0;
  std::string optimizer_type = "adam";
  /// lr, momentum, beta1, beta2, eps, weight_decay, clip_grad_norm,
  /// warmup_steps, total_steps, accumulate_rows (absent = default).
  std::map<std::string, double> optimizer_params;
  std::string checkpoint_dir;
  uint64_t checkpoint_every_updates = 0;
  bool checkpoint_load = true;
  std::string checkpoint_on_mismatch = "fail";
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, expert_spec_msg& x) {
  return f(caf::meta::type_name("expert_spec_msg"), x.max_batch_size, x.module_type,
           x.module_params, x.module_seed, x.optimizer_type, x.optimizer_params,
           x.checkpoint_dir, x.checkpoint_every_updates, x.checkpoint_load,
           x.checkpoint_on_mismatch);
}

/// Adds `count` experts under `prefix` (uids prefix.N with the lowest free
/// N) to a live node. Reply: ctl_uids with the new uids.
struct ctl_spawn {
  std::string token;
  std::string prefix;
  uint32_t count = 1;
  expert_spec_msg spec;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ctl_spawn& x) {
  return f(caf::meta::type_name("ctl_spawn"), x.token, x.prefix, x.count, x.spec);
}

/// Stops (checkpoints, then removes) the named experts. Reply: ctl_uids
/// with the uids stopped.
struct ctl_stop {
  std::string token;
  std::vector<std::string> uids;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ctl_stop& x) {
  return f(caf::meta::type_name("ctl_stop"), x.token, x.uids);
}

/// A list of expert uids (reply to ctl_spawn and ctl_stop).
struct ctl_uids {
  std::vector<std::string> uids;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ctl_uids& x) {
  return f(caf::meta::type_name("ctl_uids"), x.uids);
}

/// Reply: node_status.
struct ctl_status {
  std::string token;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ctl_status& x) {
  return f(caf::meta::type_name("ctl_status"), x.token);
}

/// The node's recent log lines with sequence numbers above `after`, at most
/// `max_lines` (capped by the node). Reply: ctl_log_lines.
struct ctl_logs {
  std::string token;
  uint64_t after = 0;
  uint32_t max_lines = 1000;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ctl_logs& x) {
  return f(caf::meta::type_name("ctl_logs"), x.token, x.after, x.max_lines);
}

/// Log lines in order; `next` is the `after` of the next poll; `missed`
/// counts lines that left the ring before this poll could read them.
struct ctl_log_lines {
  std::vector<std::string> lines;
  uint64_t next = 0;
  uint64_t missed = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ctl_log_lines& x) {
  return f(caf::meta::type_name("ctl_log_lines"), x.lines, x.next, x.missed);
}

} // namespace colony
