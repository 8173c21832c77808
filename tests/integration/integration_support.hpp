// Shared helpers of the loopback integration tests: temp dirs, colony-node
// child processes, bounded command runs, tensor <-> blob conversions, local
// reference modules and an in-process node published on 127.0.0.1.
//
// Every wait here is bounded in time; every child process is killed and
// reaped by its owner's destructor, also when an assertion failed.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <torch/torch.h>

#include "actors/client/remote_expert.hpp"
#include "actors/expert/expert_host.hpp"
#include "actors/expert/expert_spec.hpp"
#include "messages/errc.hpp"
#include "messages/wire/torch_tensor.hpp"
#include "runtime/node_config.hpp"
#include "runtime/system_config.hpp"

extern char** environ;

namespace colony::it {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

inline double ms_since(steady::time_point start) {
  return std::chrono::duration<double, std::milli>(steady::now() - start).count();
}

// -- files ----------------------------------------------------------------------

/// A fresh directory from mkdtemp, removed with everything in it.
class temp_dir {
public:
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "colony-it-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed: " + std::string{std::strerror(errno)});
    path_ = buf.data();
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << text;
  if (!out)
    throw std::runtime_error("cannot write " + path);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

/// The last `n` characters of a file (for failure messages).
inline std::string tail_of(const std::string& path, size_t n = 2000) {
  auto text = read_file(path);
  return text.size() <= n ? text : text.substr(text.size() - n);
}

// -- child processes ------------------------------------------------------------

/// argv/envp built before fork(): the child only calls async-signal-safe
/// functions (open, dup2, execve, _exit).
struct exec_spec {
  std::vector<std::string> args;
  std::string stdout_path;
  std::string stderr_path;
};

/// The environment of the children: ours plus one OpenMP thread (two cores
/// are shared between the test, the node and the compiler).
inline std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "OMP_NUM_THREADS=", 16) != 0)
      env.emplace_back(*e);
  env.emplace_back("OMP_NUM_THREADS=1");
  return env;
}

/// Forks and execs `spec`; returns the child's pid (throws on fork failure).
inline pid_t spawn_process(const exec_spec& spec) {
  std::vector<char*> argv;
  for (auto& a : spec.args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto env_strings = child_environment();
  std::vector<char*> envp;
  for (auto& e : env_strings)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  auto pid = fork();
  if (pid < 0)
    throw std::runtime_error("fork failed: " + std::string{std::strerror(errno)});
  if (pid == 0) {
    int out = open(spec.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(spec.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0)
      _exit(126);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    close(out);
    close(err);
    // The test process may have signals blocked on this thread; exec keeps
    // the mask, and colony-node relies on a clean mask for sigwait.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

/// Waits up to `limit` for `pid` to exit; returns its raw wait status.
inline std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds limit) {
  auto deadline = steady::now() + limit;
  for (;;) {
    int status = 0;
    auto r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return status;
    if (r < 0)
      return std::nullopt;
    if (steady::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

/// Result of a bounded command run.
struct command_result {
  int exit_code = -1; ///< -1 when killed or timed out
  bool timed_out = false;
  std::string out;
  std::string err;
  double took_ms = 0;
};

/// Runs `args` with stdout/stderr captured in `dir`, killing it after `limit`.
inline command_result run_command(const std::vector<std::string>& args, const temp_dir& dir,
                                  std::chrono::milliseconds limit = 20s) {
  static int counter = 0;
  auto tag = std::to_string(++counter);
  exec_spec spec{args, dir.file("cmd" + tag + ".out"), dir.file("cmd" + tag + ".err")};
  command_result res;
  auto start = steady::now();
  auto pid = spawn_process(spec);
  auto status = wait_exit(pid, limit);
  if (!status) {
    res.timed_out = true;
    kill(pid, SIGKILL);
    int ignored = 0;
    waitpid(pid, &ignored, 0);
  } else if (WIFEXITED(*status)) {
    res.exit_code = WEXITSTATUS(*status);
  }
  res.took_ms = ms_since(start);
  res.out = read_file(spec.stdout_path);
  res.err = read_file(spec.stderr_path);
  return res;
}

/// Lines of `text`.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

/// A colony-node child process. Its destructor SIGKILLs and reaps it if it
/// is still running.
class node_process {
public:
  /// Starts `colony-node --config config_path --ready-file ...` and waits
  /// up to `limit` for the ready file. Fails the current test (fatal) when
  /// the node exits or does not become ready.
  node_process(const temp_dir& dir, const std::string& config_path, const std::string& tag,
               std::chrono::milliseconds limit = 30s)
    : ready_path_(dir.file(tag + ".ready")), log_path_(dir.file(tag + ".log")) {
    std::error_code ec;
    std::filesystem::remove(ready_path_, ec);
    exec_spec spec{{COLONY_NODE_BIN, "--config", config_path, "--ready-file", ready_path_},
                   dir.file(tag + ".stdout"), log_path_};
    pid_ = spawn_process(spec);
    auto deadline = steady::now() + limit;
    while (steady::now() < deadline) {
      if (std::filesystem::exists(ready_path_)) {
        auto text = read_file(ready_path_);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
          text.pop_back();
        auto ep = parse_endpoint(text);
        if (ep) {
          endpoint_ = *ep;
          return;
        }
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        error_ = "colony-node exited early (status " + std::to_string(status) + "): "
                 + tail_of(log_path_);
        return;
      }
      std::this_thread::sleep_for(10ms);
    }
    error_ = "colony-node not ready after " + std::to_string(limit.count()) + " ms: "
             + tail_of(log_path_);
  }

  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  ~node_process() { kill_now(); }

  /// Empty when the node came up.
  const std::string& error() const { return error_; }
  bool ready() const { return error_.empty(); }
  const endpoint& where() const { return endpoint_; }
  pid_t pid() const { return pid_; }
  std::string log() const { return tail_of(log_path_); }

  /// SIGKILL and reap (a SIGKILLed process exits; the wait is bounded anyway).
  void kill_now() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGKILL);
    wait_exit(pid_, 10s);
    pid_ = -1;
  }

  /// Waits up to `limit` for the node to exit by itself; the raw status.
  std::optional<int> wait(std::chrono::milliseconds limit) {
    if (pid_ <= 0)
      return std::nullopt;
    auto status = wait_exit(pid_, limit);
    if (status)
      pid_ = -1;
    return status;
  }

  /// Sends `sig` and waits up to `limit` for the exit; returns the status.
  std::optional<int> stop(int sig, std::chrono::milliseconds limit) {
    if (pid_ <= 0)
      return std::nullopt;
    ::kill(pid_, sig);
    auto status = wait_exit(pid_, limit);
    if (status)
      pid_ = -1;
    return status;
  }

private:
  pid_t pid_ = -1;
  std::string ready_path_;
  std::string log_path_;
  endpoint endpoint_;
  std::string error_;
};

/// Starts `colony dht serve` as a DHT bootstrap peer (its pid in `pid`) and
/// returns its HOST:PORT once its ready file appears (empty after 30 s).
inline std::string bootstrap_peer(const temp_dir& dir, pid_t& pid) {
  auto ready = dir.file("bootstrap.ready");
  pid = spawn_process(exec_spec{{COLONY_CLI_BIN, "dht", "serve", "--port", "0", "--ready-file",
                                 ready, "--log-level", "warn"},
                                dir.file("bootstrap.out"), dir.file("bootstrap.log")});
  auto deadline = steady::now() + 30s;
  while (read_file(ready).empty() && steady::now() < deadline)
    std::this_thread::sleep_for(20ms);
  auto ep = read_file(ready);
  while (!ep.empty() && ep.back() == '\n')
    ep.pop_back();
  return ep;
}

/// A loopback port with no listener: bound to port 0, then closed.
inline uint16_t dead_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// -- tensors --------------------------------------------------------------------

/// A float32 tensor of standard normal values from its own generator.
inline torch::Tensor seeded_randn(std::vector<int64_t> shape, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randn(shape, gen, torch::kFloat32);
}

inline tensor_blob to_blob(const torch::Tensor& t) {
  auto bytes = wire::encode_tensor(t);
  if (!bytes)
    throw std::runtime_error("encode_tensor: " + describe(bytes.error()));
  return tensor_blob{std::move(*bytes)};
}

inline std::vector<tensor_blob> blobs(std::initializer_list<torch::Tensor> ts) {
  std::vector<tensor_blob> out;
  for (auto& t : ts)
    out.push_back(to_blob(t));
  return out;
}

/// Decodes a blob into an owning tensor (throws on error).
inline torch::Tensor to_tensor(const tensor_blob& b) {
  auto t = wire::decode_tensor(b.bytes);
  if (!t)
    throw std::runtime_error("decode_tensor: " + describe(t.error()));
  return t->clone();
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

/// gtest predicate: same shape and max |a - b| <= tol.
inline ::testing::AssertionResult near(const torch::Tensor& a, const torch::Tensor& b,
                                       double tol) {
  if (a.sizes() != b.sizes())
    return ::testing::AssertionFailure() << "shapes differ: " << a.sizes() << " vs "
                                         << b.sizes();
  auto d = max_abs_diff(a, b);
  if (d > tol)
    return ::testing::AssertionFailure() << "max |a - b| = " << d << " > " << tol;
  return ::testing::AssertionSuccess();
}

/// gtest predicate on an expected value: shows the colony error on failure.
template <class T>
::testing::AssertionResult ok(const caf::expected<T>& x) {
  if (x)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << describe(x.error());
}

/// gtest predicate: `x` failed with colony error `code`.
template <class T>
::testing::AssertionResult fails_with(const caf::expected<T>& x, errc code) {
  if (x)
    return ::testing::AssertionFailure() << "succeeded, want " << to_string(code);
  if (code_of(x.error()) != code)
    return ::testing::AssertionFailure() << "got " << describe(x.error()) << ", want "
                                         << to_string(code);
  return ::testing::AssertionSuccess();
}

// -- configs and local references -----------------------------------------------

/// The node config used by most tests: `count` ffn experts 8 -> 16 -> 8 with
/// SGD (no momentum), seeded, plus `extra` YAML appended to the experts list.
/// The node: and log: sections of the tests' node configs, then "experts:".
inline std::string test_node_header() {
  return R"(node:
  host: 127.0.0.1
  port: 0
  scheduler_threads: 2
  torch_threads: 1
  compute_slots: 1
log:
  level: warn
experts:
)";
}

inline std::string ffn_node_yaml(const std::string& checkpoint_dir = {},
                                 const std::string& extra = {}) {
  std::string yaml = test_node_header() + R"(  - uid: ffn.0.*
    count: 4
    max_batch_size: 64
    module:
      type: ffn
      seed: 7
      input_dim: 8
      hidden_dim: 16
      output_dim: 8
    optimizer:
      type: sgd
      lr: 0.1
)";
  if (!checkpoint_dir.empty())
    yaml += "    checkpoint:\n      dir: " + checkpoint_dir + "\n      every_updates: 0\n";
  return yaml + extra;
}

inline node_config parse_or_throw(const std::string& yaml) {
  auto cfg = parse_node_config(yaml);
  if (!cfg)
    throw std::runtime_error("parse_node_config: " + describe(cfg.error()));
  return std::move(*cfg);
}

/// The module of expert group `g` of `cfg`, built locally (same seed).
inline std::shared_ptr<expert::expert_module> local_module(const node_config& cfg,
                                                           size_t g = 0) {
  auto built = expert::make_module(cfg.experts.at(g).module);
  if (!built)
    throw std::runtime_error("make_module: " + describe(built.error()));
  return built->module;
}

/// Local forward without autograd.
inline torch::Tensor local_forward(expert::expert_module& m, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  return m.forward({x})[0];
}

// -- in-process node ------------------------------------------------------------

/// Options of the client and server actor systems of the tests.
inline system_options test_system_options() {
  system_options opts;
  opts.scheduler_threads = 2;
  return opts;
}

/// A node inside the test process: its own actor system with the experts of
/// `cfg` (same factory as colony-node), published on 127.0.0.1 port 0. The
/// clients use another actor system, so every request crosses loopback TCP.
class in_process_node {
public:
  explicit in_process_node(const node_config& cfg, std::function<void()> on_change = {},
                           expert_supervision sup = {})
    : sys_cfg_(test_system_options()), sys_(sys_cfg_) {
    auto host = spawn_expert_host(sys_, cfg, std::move(on_change), std::move(sup));
    if (!host)
      throw std::runtime_error("spawn_expert_host: " + describe(host.error()));
    host_ = std::move(*host);
    auto port = caf::io::publish(host_.server, 0, "127.0.0.1", true);
    if (!port)
      throw std::runtime_error("publish: " + sys_.render(port.error()));
    endpoint_ = endpoint{"127.0.0.1", *port};
  }

  /// Stops the experts; the actor system's destructor then waits for all
  /// actors and threads. That wait is bounded by a watchdog: a shutdown that
  /// hangs (e.g. an actor that is never destroyed) aborts the test binary
  /// with a message instead of blocking it forever.
  ~in_process_node() {
    sys_.middleman().unpublish(host_.server, endpoint_.port);
    stop_expert_host(host_);
    host_ = expert_host{};
    watchdog_ = std::thread{[this] {
      std::unique_lock<std::mutex> guard{mx_};
      if (!cv_.wait_for(guard, shutdown_limit, [this] { return destroyed_; })) {
        std::fprintf(stderr, "in_process_node: actor system shutdown still blocked after %lld s "
                             "(an actor or thread never finished); aborting\n",
                     static_cast<long long>(shutdown_limit.count()));
        std::fflush(stderr);
        std::abort();
      }
    }};
  }

  const endpoint& where() const { return endpoint_; }
  caf::actor_system& system() { return sys_; }
  expert_host& host() { return host_; }

private:
  static constexpr std::chrono::seconds shutdown_limit{15};

  /// Declared first, so destroyed last: it outlives ~actor_system and is
  /// told when that returned.
  struct watchdog_guard {
    in_process_node* self;
    ~watchdog_guard() {
      {
        std::lock_guard<std::mutex> guard{self->mx_};
        self->destroyed_ = true;
      }
      self->cv_.notify_all();
      if (self->watchdog_.joinable())
        self->watchdog_.join();
    }
  };

  std::mutex mx_;
  std::condition_variable cv_;
  bool destroyed_ = false;
  std::thread watchdog_;
  watchdog_guard watchdog_guard_{this};
  system_config sys_cfg_;
  caf::actor_system sys_;
  expert_host host_;
  endpoint endpoint_;
};

/// A client actor system with a connection cache.
class client {
public:
  client() : cfg_(test_system_options()), sys_(cfg_), conns_(sys_) {}

  node_connections& conns() { return conns_; }
  caf::actor_system& system() { return sys_; }

  remote_expert expert(const endpoint& ep, const std::string& uid,
                       caf::timespan timeout = std::chrono::seconds{5}) {
    return remote_expert{conns_, ep, uid, timeout};
  }

private:
  system_config cfg_;
  caf::actor_system sys_;
  node_connections conns_;
};

} // namespace colony::it
