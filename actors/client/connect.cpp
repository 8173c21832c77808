#include "actors/client/connect.hpp"

#include <caf/sec.hpp>

#include "messages/errc.hpp"

namespace colony::net {

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

caf::error unreachable(const std::string& what, const endpoint& ep, const std::string& why) {
  return make_error(errc::unreachable, what + " " + ep.to_string() + " unreachable (" + why
                                         + ")");
}

caf::error connect_failure(const std::string& what, const endpoint& ep,
                           uint64_t refusals_before, const std::string& why) {
  auto cut = net_guard::outbound_guard::instance().refusal_since(ep, refusals_before);
  if (cut.empty())
    return unreachable(what, ep, why);
  auto code = cut.rfind("its BASP header claimed", 0) == 0 ? errc::payload_too_large
                                                             : errc::malformed_payload;
  return make_error(code, what + " " + ep.to_string()
                            + " refused by the outgoing guard: " + cut);
}

caf::error classify(const caf::error& err, const endpoint& ep, const std::string& who,
                    caf::timespan timeout, bool lost) {
  if (err == caf::sec::request_timeout && lost)
    return make_error(errc::unreachable, "node " + ep.to_string()
                                           + " unreachable (connection lost during the call)");
  if (err == caf::sec::request_timeout) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
    return make_error(errc::timeout, "no reply from " + who + " within " + std::to_string(ms)
                                       + " ms");
  }
  if (is_connection_loss(err))
    return make_error(errc::unreachable, "node " + ep.to_string() + " unreachable ("
                                           + caf::to_string(err) + ")");
  return err;
}

} // namespace colony::net
