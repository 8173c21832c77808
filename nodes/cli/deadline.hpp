// The CLI's bound on time: every one-shot command ends within its
// --timeout-ms plus `watchdog_grace`, whatever the peer does (a silent
// peer that sent a handshake and then nothing, a node that reads a large
// upload slowly, a fan-out that does not come back).
//
// Two parts. The command's own calls share one deadline (command_deadline::
// left()), so that connecting, the info call and the call itself end by
// it with the timeout error. A watchdog thread ends the process with exit
// code 2 and that error if the command still runs `watchdog_grace` after
// the deadline. And the CLI leaves through finish(), which does not wait
// for the actor system's orderly shutdown: that flushes what is still
// queued for peers (an upload cut short by the deadline) and waits for
// connection attempts in flight, both as long as the peer makes it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace colony::cli {

/// How long a command may overrun its deadline before the watchdog ends it.
constexpr std::chrono::milliseconds watchdog_grace{1000};

/// One command's deadline and its watchdog (armed from construction until
/// disarm() or destruction).
class command_deadline {
public:
  using clock = std::chrono::steady_clock;

  /// `what` names the command in the timeout error ("expert forward").
  command_deadline(std::string what, std::chrono::milliseconds limit);
  ~command_deadline();

  command_deadline(const command_deadline&) = delete;
  command_deadline& operator=(const command_deadline&) = delete;

  /// Time left until the deadline; zero once it passed.
  std::chrono::milliseconds left() const;

  /// A new deadline `limit` from now (each further call of --repeat).
  void restart(std::chrono::milliseconds limit);

  /// Stops watching: the command's network part is over.
  void disarm();

private:
  void watch();

  std::string what_;
  mutable std::mutex mx_;
  std::condition_variable cv_;
  std::chrono::milliseconds limit_;
  clock::time_point deadline_;
  bool armed_ = true;
  std::thread watchdog_;
};

/// Flushes stdout and stderr and ends the process with `rc` at once,
/// without the actor system's orderly shutdown (see above).
[[noreturn]] void finish(int rc);

} // namespace colony::cli
