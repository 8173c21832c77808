#include "messages/errc.hpp"

#include <caf/sec.hpp>

namespace colony {

std::string to_string(errc x) {
  switch (x) {
    case errc::none: return "none";
    case errc::unknown_expert: return "unknown_expert";
    case errc::bad_shape: return "bad_shape";
    case errc::bad_dtype: return "bad_dtype";
    case errc::malformed_payload: return "malformed_payload";
    case errc::payload_too_large: return "payload_too_large";
    case errc::bad_request: return "bad_request";
    case errc::unreachable: return "unreachable";
    case errc::timeout: return "timeout";
    case errc::compute_failed: return "compute_failed";
    case errc::bad_config: return "bad_config";
    case errc::io_failed: return "io_failed";
    case errc::not_found: return "not_found";
    case errc::bootstrap_failed: return "bootstrap_failed";
    case errc::too_few_experts: return "too_few_experts";
    case errc::expert_restarting: return "expert_restarting";
    case errc::injected_failure: return "injected_failure";
    case errc::unauthorized: return "unauthorized";
    case errc::diverged: return "diverged";
    case errc::gave_up: return "gave_up";
    case errc::expert_unavailable: return "expert_unavailable";
  }
  return "errc(" + std::to_string(static_cast<int>(x)) + ")";
}

caf::error make_error(errc code, std::string context) {
  if (context.empty())
    return caf::error{static_cast<uint8_t>(code), errc_category};
  return caf::error{static_cast<uint8_t>(code), errc_category,
                    caf::make_message(std::move(context))};
}

errc code_of(const caf::error& err) {
  if (!err || err.category() != errc_category)
    return errc::none;
  return static_cast<errc>(err.code());
}

std::string context_of(const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return {};
}

std::string describe(const caf::error& err) {
  if (!err)
    return "no error";
  if (err.category() == errc_category) {
    auto ctx = context_of(err);
    auto name = to_string(static_cast<errc>(err.code()));
    return ctx.empty() ? name : name + ": " + ctx;
  }
  if (err.category() == caf::atom("system"))
    return "system: " + caf::to_string(static_cast<caf::sec>(err.code()))
           + (err.context().empty() ? "" : " " + caf::to_string(err.context()));
  return caf::to_string(err);
}

} // namespace colony
