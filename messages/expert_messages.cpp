#include "messages/expert_messages.hpp"

namespace colony {

std::string shape_string(const tensor_schema& s) {
  std::string out = "[B";
  for (auto d : s.shape)
    out += ", " + (d < 0 ? std::string{"*"} : std::to_string(d));
  return out + "]";
}

} // namespace colony
