// A fan-out of expert calls that an actor drives, without blocking any
// thread: every request leaves at once (an injected delay is a CAF delayed
// message, never a sleep), answers are fed one by one into a fanout_state
// (fanout_state.hpp) with the caller's quorum predicate and deadline, and
// the caller learns when the fan-out ended. The actor subscribes to its
// nodes in node_connections: when one is lost (connection dropped, or
// hung), its unanswered calls fail at once as errc::unreachable naming the
// node and the reason, instead of waiting for the deadline.
//
//   caller --request(run_atom)--> fanout actor --forward/backward--> nodes
//          <------ done_atom ----  (answers in the shared fanout_result)
//
// The fan-out actor is local and short-lived (one per fan-out); its
// answers are handed over through a shared fanout_result that the caller
// reads only after done_atom arrived. call_many() (remote_expert.hpp) is
// the blocking wrapper over the same actor.
//
// The same end rule carries any other request (spawn_fanout over
// message_call): each call brings its own type-erased send (the request,
// its reply handler), the target actor is monitored so that its loss fails
// the call at once as errc::unreachable, and deadline, quorum and grace
// work as above. The averaging all-reduce (actors/averaging/) sends its
// parts this way.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/client/fanout_state.hpp"
#include "actors/client/remote_expert.hpp"

namespace colony {

/// What one fan-out sends and when it ends.
struct fanout_spec {
  std::vector<expert_call> calls;
  /// Every call ends by then (the actor clock: steady_clock, or virtual
  /// time under CAF's test scheduler); unanswered ones fail as timeouts.
  fanout_state::time_point deadline;
  /// Once `quorum` holds, the fan-out ends this much later.
  std::chrono::nanoseconds grace{0};
  /// Asked after every answer; empty = wait for all answers.
  fanout_state::quorum_fn quorum;
  /// Whether a call to a node that node_connections marks lost reconnects
  /// (the CLI's one-shot calls) or fails at once as unreachable (the gate,
  /// which reconnects on its own terms: gate_actor.cpp).
  bool reconnect_lost = true;
  /// Inspects each successful answer as it arrives (shape, NaN, ...); an
  /// error turns it into a failure. Runs in the fan-out actor. Optional.
  std::function<caf::error(size_t, expert_answer&)> check;
};

/// Filled by the fan-out actor; read by the caller after done_atom.
struct fanout_result {
  std::vector<expert_answer> answers;
  std::vector<double> latency_ms; ///< per call; -1 when unanswered
  size_t answered = 0;
  size_t succeeded = 0;
};

/// Spawns the actor of one fan-out. Send it one request with run_atom (and
/// a timeout past spec.deadline); it replies done_atom when the fan-out
/// ended (all answered, quorum + grace, or the deadline), with `out` filled.
/// `conns` must outlive the fan-out: pass its owner as `keepalive` when the
/// caller may go away first (e.g. a gate that is stopped mid-call).
caf::actor spawn_fanout(caf::actor_system& sys, node_connections& conns, fanout_spec spec,
                        std::shared_ptr<fanout_result> out,
                        std::shared_ptr<const void> keepalive = {});

/// One call of a fan-out of any request: `send` issues the request from the
/// fan-out actor with a timeout of `left` (the time to the deadline) and
/// calls `done` once with its outcome (none = success; the reply itself is
/// the caller's to keep, e.g. captured by `send`). `done` may be called at
/// most once; later calls are ignored.
struct message_call {
  /// Monitored by the fan-out: its down_msg fails the call at once.
  caf::actor target;
  /// Names the target in errors: "averager 127.0.0.1:4000 part 2".
  std::string name;
  std::function<void(caf::event_based_actor* self, caf::timespan left,
                     std::function<void(caf::error)> done)>
    send;
};

/// What a fan-out of message_calls sends and when it ends (same rules as
/// fanout_spec: all answered, quorum + grace, or the deadline).
struct message_fanout_spec {
  std::vector<message_call> calls;
  fanout_state::time_point deadline;
  std::chrono::nanoseconds grace{0};
  fanout_state::quorum_fn quorum;
};

/// Per call: none when it succeeded, else why not (errc::timeout at the
/// deadline, errc::unreachable when its target went down, or the error the
/// call reported).
struct message_fanout_result {
  std::vector<caf::error> errors;
  std::vector<double> latency_ms; ///< per call; -1 when unanswered
  size_t answered = 0;
  size_t succeeded = 0;
};

/// Spawns the actor of one fan-out of message_calls; driven like the other
/// overload (run_atom -> done_atom, `out` filled by then).
caf::actor spawn_fanout(caf::actor_system& sys, message_fanout_spec spec,
                        std::shared_ptr<message_fanout_result> out);

} // namespace colony
