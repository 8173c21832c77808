// Names and parsing of strategies and restart policies, and the child spec
// of a nested supervisor (supervisor.hpp).
#include <chrono>

#include "messages/errc.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace colony::supervision {

const char* to_string(strategy s) {
  switch (s) {
    case strategy::one_for_one: return "one_for_one";
    case strategy::one_for_all: return "one_for_all";
    case strategy::rest_for_one: return "rest_for_one";
  }
  return "unknown";
}

const char* to_string(restart_policy r) {
  switch (r) {
    case restart_policy::permanent: return "permanent";
    case restart_policy::transient: return "transient";
    case restart_policy::temporary: return "temporary";
  }
  return "unknown";
}

caf::expected<strategy> parse_strategy(const std::string& text, const std::string& key) {
  for (auto s : {strategy::one_for_one, strategy::one_for_all, strategy::rest_for_one})
    if (text == to_string(s))
      return s;
  return make_error(errc::bad_config, key + ": unknown strategy \"" + text
                                        + "\" (one_for_one, one_for_all, rest_for_one)");
}

caf::expected<restart_policy> parse_restart_policy(const std::string& text,
                                                   const std::string& key) {
  for (auto r : {restart_policy::permanent, restart_policy::transient,
                 restart_policy::temporary})
    if (text == to_string(r))
      return r;
  return make_error(errc::bad_config, key + ": unknown restart policy \"" + text
                                        + "\" (permanent, transient, temporary)");
}

child_spec supervisor_child(supervisor_config cfg,
                            std::function<std::vector<child_spec>()> make_children,
                            restart_policy restart) {
  child_spec spec;
  spec.id = cfg.id;
  spec.restart = restart;
  spec.is_supervisor = true;
  // A supervisor stops its own children one by one, each within its own
  // shutdown timeout: give it time before the kill.
  spec.shutdown = std::chrono::seconds{60};
  spec.start = [cfg, make_children](caf::actor_system& sys,
                                    const start_context&) -> caf::expected<started> {
    return started{spawn_supervisor(sys, cfg, make_children()), {}};
  };
  return spec;
}

} // namespace colony::supervision
