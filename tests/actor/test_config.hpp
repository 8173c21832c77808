// The actor system config of the actor tests: Colony's message types and
// CAF's deterministic test scheduler (actors run when the test says so).
#pragma once

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>

#include "messages/registry.hpp"

namespace colony::actor_test {

struct test_config : caf::actor_system_config {
  test_config() {
    register_messages(*this);
    set("scheduler.policy", caf::atom("testing"));
  }
};

} // namespace colony::actor_test
