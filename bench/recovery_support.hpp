// Helpers of bench/recovery: percentiles, colony child processes (a
// `colony dht serve` bootstrap, colony-node expert and trainer nodes) with
// their stderr in a log file, a free loopback port, and an incremental
// reader of a node's log that parses each line's timestamp (the text
// pattern of runtime/log_format.hpp: local time, millisecond precision).
// Every wait is bounded; a child is SIGKILLed and reaped by its owner.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace colony::bench {

using wall = std::chrono::system_clock;
using steady = std::chrono::steady_clock;

/// The pids of the running children (killed by die()).
inline std::vector<pid_t>& live_children() {
  static std::vector<pid_t> pids;
  return pids;
}

/// Prints `what` after the program's name, SIGKILLs every running child
/// and exits with 1.
[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, what.c_str());
  for (auto pid : live_children())
    ::kill(pid, SIGKILL);
  std::exit(1);
}

inline double ms_between(wall::time_point a, wall::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

/// Nearest-rank percentile `p` (0..1) of `v`; 0 for an empty sample.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<size_t>(p * static_cast<double>(v.size()) + 0.999999);
  return v[std::min(v.size(), std::max<size_t>(rank, 1)) - 1];
}

inline std::string read_all(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

inline std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
    s.pop_back();
  return s;
}

/// A loopback port nobody listens on now (bound to port 0, then closed).
inline uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

/// A child process (stdout to `log + ".out"`, stderr to `log`), with one
/// OpenMP thread. SIGKILLed and reaped by stop() or the destructor.
class child {
public:
  child() = default;
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  ~child() { stop(); }

  /// Forks and execs `args` (argv/envp are built before the fork).
  void start(const std::vector<std::string>& args, const std::string& log) {
    stop();
    log_ = log;
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::strncmp(*e, "OMP_NUM_THREADS=", 16) != 0)
        env.emplace_back(*e);
    env.emplace_back("OMP_NUM_THREADS=1");
    std::vector<char*> envp;
    for (auto& e : env)
      envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    auto out_path = log + ".out";
    pid_ = fork();
    if (pid_ < 0)
      die("fork failed");
    if (pid_ == 0) {
      int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out < 0 || err < 0)
        _exit(126);
      dup2(out, STDOUT_FILENO);
      dup2(err, STDERR_FILENO);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    live_children().push_back(pid_);
  }

  /// Waits up to `limit` for a non-empty `ready_file`; its first line.
  std::string wait_ready(const std::string& ready_file, std::chrono::milliseconds limit) {
    auto deadline = steady::now() + limit;
    while (steady::now() < deadline) {
      auto text = trimmed(read_all(ready_file));
      if (!text.empty())
        return text;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        forget();
        die("child exited early (status " + std::to_string(status) + "): " + read_all(log_));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
    die("child not ready after " + std::to_string(limit.count()) + " ms: " + read_all(log_));
  }

  /// SIGKILL and reap.
  void stop() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    forget();
  }

  pid_t pid() const { return pid_; }

private:
  void forget() {
    auto& pids = live_children();
    pids.erase(std::remove(pids.begin(), pids.end(), pid_), pids.end());
    pid_ = -1;
  }

  pid_t pid_ = -1;
  std::string log_;
};

/// One line of a node's log with its timestamp.
struct log_line {
  wall::time_point at;
  std::string text;
};

/// "2024-05-01T12:00:00.123 ..." (local time) -> time point.
inline std::optional<wall::time_point> parse_log_time(const std::string& line) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(line.c_str(), "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1;
  return wall::from_time_t(std::mktime(&tm)) + std::chrono::milliseconds{ms};
}

/// The integer value of `key=` in `line`, or -1.
inline long field_of(const std::string& line, const std::string& key) {
  auto at = line.find(" " + key + "=");
  return at == std::string::npos ? -1 : std::atol(line.c_str() + at + key.size() + 2);
}

/// Reads the complete lines appended to a log file since the last call.
class log_follower {
public:
  explicit log_follower(std::string path) : path_(std::move(path)) {}

  /// New timestamped lines (lines without a timestamp are skipped).
  std::vector<log_line> poll() {
    std::vector<log_line> out;
    std::ifstream in{path_, std::ios::binary};
    if (!in)
      return out;
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string chunk{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
    offset_ += chunk.size();
    partial_ += chunk;
    size_t start = 0;
    for (auto nl = partial_.find('\n'); nl != std::string::npos;
         nl = partial_.find('\n', start)) {
      auto line = partial_.substr(start, nl - start);
      start = nl + 1;
      if (auto at = parse_log_time(line))
        out.push_back({*at, std::move(line)});
    }
    partial_.erase(0, start);
    return out;
  }

  /// Consumes new lines (polling every 5 ms, up to `limit`) until
  /// `pred(line)` holds; that line, or nullopt. Later lines stay queued.
  template <class Pred>
  std::optional<log_line> wait_for(Pred pred, std::chrono::milliseconds limit) {
    auto deadline = steady::now() + limit;
    for (;;) {
      while (next_ < queued_.size())
        if (pred(queued_[next_++]))
          return queued_[next_ - 1];
      queued_ = poll();
      next_ = 0;
      if (queued_.empty()) {
        if (steady::now() >= deadline)
          return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
      }
    }
  }

private:
  std::string path_;
  size_t offset_ = 0;
  std::string partial_;
  std::vector<log_line> queued_;
  size_t next_ = 0;
};

} // namespace colony::bench
