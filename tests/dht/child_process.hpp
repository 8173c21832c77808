// A child OS process for loopback tests: started with posix_spawn, stdout
// and stderr to files, killed (SIGKILL) and reaped by its destructor.
// Every wait is bounded.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace colony::dht::testing {

/// A running child process.
class child_process {
public:
  /// Starts `argv` with stdout to `out_file`, stderr to `err_file`.
  child_process(std::vector<std::string> argv, std::string out_file, std::string err_file)
    : out_file_(std::move(out_file)), err_file_(std::move(err_file)) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_file_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_file_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }

  ~child_process() {
    kill(SIGKILL);
  }

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  bool started() const { return pid_ > 0; }

  /// The process id, or -1 once reaped (or when the start failed).
  pid_t pid() const { return pid_; }

  /// Sends `sig` and, for SIGKILL/SIGTERM, reaps the process (at most 10 s).
  void kill(int sig) {
    if (pid_ <= 0)
      return;
    ::kill(pid_, sig);
    if (sig == SIGKILL || sig == SIGTERM)
      wait_exit(std::chrono::seconds{10});
  }

  /// Waits until the process exits; its exit status, or none on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    return pid_ > 0 ? std::nullopt : status_;
  }

  std::string out() const { return read(out_file_); }
  std::string err() const { return read(err_file_); }

  /// The first line of `path` once it exists (at most `limit`).
  static std::optional<std::string> wait_file(const std::string& path,
                                              std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in{path};
      std::string line;
      if (in && std::getline(in, line) && !line.empty())
        return line;
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    return std::nullopt;
  }

  static std::string read(const std::string& path) {
    std::ifstream in{path};
    return std::string{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  }

private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_file_;
  std::string err_file_;
};

/// Runs `argv` to completion (at most `limit`): exit code, stdout, stderr.
struct run_result {
  std::optional<int> code;
  std::string out;
  std::string err;
};

inline run_result run(std::vector<std::string> argv, const std::string& dir,
                      std::chrono::milliseconds limit = std::chrono::seconds{20}) {
  static int counter = 0;
  auto base = dir + "/run" + std::to_string(counter++);
  child_process p{std::move(argv), base + ".out", base + ".err"};
  auto code = p.wait_exit(limit);
  return {code, p.out(), p.err()};
}

} // namespace colony::dht::testing
