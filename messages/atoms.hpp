// Atoms of all Colony protocols (CAF 0.17: at most 10 characters).
#pragma once

#include <caf/atom.hpp>

namespace colony {

using list_atom = caf::atom_constant<caf::atom("list")>;
using grant_atom = caf::atom_constant<caf::atom("grant")>;
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using save_atom = caf::atom_constant<caf::atom("save")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using computed_atom = caf::atom_constant<caf::atom("computed")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using defer_atom = caf::atom_constant<caf::atom("defer")>;
using run_atom = caf::atom_constant<caf::atom("run")>;
using fire_atom = caf::atom_constant<caf::atom("fire")>;
using wake_atom = caf::atom_constant<caf::atom("wake")>;
using leave_atom = caf::atom_constant<caf::atom("leave")>;
using step_atom = caf::atom_constant<caf::atom("step")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;
using average_atom = caf::atom_constant<caf::atom("average")>;
using fetch_atom = caf::atom_constant<caf::atom("fetch")>;
using set_state_atom = caf::atom_constant<caf::atom("setstate")>;
using look_atom = caf::atom_constant<caf::atom("look")>;
using close_atom = caf::atom_constant<caf::atom("close")>;

} // namespace colony
