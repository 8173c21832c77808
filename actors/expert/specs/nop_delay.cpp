// Test spec "nop_delay": identity on [B, dim] after sleeping delay_ms per
// batch (to test timeouts and slow experts). It has no parameters.
#include <chrono>
#include <thread>

#include <torch/torch.h>

#include "actors/expert/expert_spec.hpp"

namespace colony::expert {
namespace {

class nop_delay_module : public expert_module {
public:
  explicit nop_delay_module(double delay_ms) : delay_ms_(delay_ms) {
    // nop
  }

  std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& xs) override {
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>{delay_ms_});
    return {xs[0] * 1.0};
  }

private:
  double delay_ms_;
};

caf::expected<built_module> make_nop_delay(spec_params& p) {
  auto dim = p.get_int("dim", 16);
  auto delay = p.get_real("delay_ms", 100.0, 0.0, 3.6e6);
  return built_module{std::make_shared<nop_delay_module>(delay),
                      {tensor_schema{{dim}, "float32"}},
                      {tensor_schema{{dim}, "float32"}}};
}

} // namespace

COLONY_REGISTER_EXPERT_SPEC("nop_delay", make_nop_delay);

} // namespace colony::expert
