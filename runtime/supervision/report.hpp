// Supervision events: each one structured line on the "supervisor" logger,
// in the spirit of OTP's supervisor reports and Ray's actor lifecycle
// events. This is the one place the vocabulary is defined; README's
// "Supervision logs" section lists it for users.
//
//   event            fields (besides event= and node=)
//   child_started    supervisor child restarts [via] [+ start fields]
//   child_exited     supervisor child reason restart (the child's policy)
//   child_restarted  supervisor child restarts backoff_ms intensity window_s
//                    [+ start fields: checkpoint, restored_updates, updates_lost]
//   child_stopped    supervisor child reason (stopped on request or shutdown)
//   restart_failed   supervisor child restarts reason (its start function failed)
//   escalated        supervisor reason restarts intensity window_s
//   gave_up          supervisor child reason (a root that does not escalate
//                    leaves the child stopped; the rest keeps running)
//   node_down        endpoint reason (killed/connection_lost/hung) [silent_ms]
//   node_up          endpoint
//   checkpoint       uid path updates [error]
//   ctl_refused      request peer reason
//   crash_injected   victim victim_id rate_per_min kills (faults.crash_rate_per_min)
//
// Values with spaces, quotes or '=' are quoted ("..."), so that a line
// splits into key=value pairs; log.format json turns each line into one
// JSON object (runtime/logging.hpp).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <spdlog/common.h>

namespace colony::supervision {

enum class event {
  child_started,
  child_exited,
  child_restarted,
  child_stopped,
  restart_failed,
  escalated,
  gave_up,
  node_down,
  node_up,
  checkpoint,
  ctl_refused,
  crash_injected,
};

/// The name in the log line, e.g. "child_restarted".
const char* to_string(event e);

/// Ordered key/value pairs of one event line (values are not yet quoted).
using fields = std::vector<std::pair<std::string, std::string>>;

/// Logs `e` as "event=<e> k=v ... node=<node name>" on the "supervisor"
/// logger at `level`.
void report(event e, const fields& f, spdlog::level::level_enum level = spdlog::level::info);

/// Sets the node= field of every later report (e.g. the node's endpoint);
/// empty omits it. Thread-safe.
void set_node_name(const std::string& name);

/// `v` as a key=value value: unchanged when it has no space, quote, '='
/// or control character, else in double quotes with \" and \\ escaped.
std::string quote(const std::string& v);

/// "event=<e> k=v ..." without the node field (what report() logs).
std::string format_line(event e, const fields& f);

} // namespace colony::supervision
