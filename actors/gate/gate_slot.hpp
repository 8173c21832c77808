// The current handle of a gate that its supervisor may restart: the DMoE
// layers of a model hold the slot, not the actor, so that a restarted gate
// takes over their next call. Thread-safe.
#pragma once

#include <memory>
#include <mutex>

#include "actors/gate/gate_actor.hpp"

namespace colony::gate {

class gate_slot {
public:
  explicit gate_slot(gate_actor handle) : handle_(std::move(handle)) {}

  gate_actor get() const {
    std::lock_guard<std::mutex> guard{mx_};
    return handle_;
  }

  void set(gate_actor handle) {
    std::lock_guard<std::mutex> guard{mx_};
    handle_ = std::move(handle);
  }

private:
  mutable std::mutex mx_;
  gate_actor handle_;
};

using gate_ref = std::shared_ptr<gate_slot>;

} // namespace colony::gate
