#include "runtime/net_guard/outbound_guard.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "messages/errc.hpp"
#include "runtime/logging.hpp"
#include "runtime/net_guard/relay.hpp"

namespace colony::net_guard {

namespace {

using out_clock = std::chrono::steady_clock;

/// One remote endpoint and the local port that stands for it.
struct out_route {
  endpoint remote;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  int listen_fd = -1;
  uint16_t port = 0;
  size_t open = 0;             ///< connections relayed now (thread only)
  out_clock::time_point used;  ///< last route() of it
  uint64_t refusals = 0;
  std::string why;             ///< of the last refusal
};

/// CAF on `down`, the remote on `up`; reader: of the remote's bytes.
struct out_connection : relay_link {
  out_route* route = nullptr;
};

int listen_on_loopback() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    return -1;
  }
  set_nonblocking(fd);
  return fd;
}

} // namespace

struct outbound_guard::impl {
  impl() {
    if (::pipe(wake) == 0)
      set_nonblocking(wake[0]);
    thread = std::thread{[this] { run(); }};
  }

  ~impl() {
    stopping = true;
    poke();
    thread.join();
    for (auto& c : conns)
      close_fds(c);
    for (auto& [ep, r] : routes)
      ::close(r->listen_fd);
    ::close(wake[0]);
    ::close(wake[1]);
  }

  void poke() {
    char c = 1;
    if (wake[1] >= 0)
      (void)::write(wake[1], &c, 1);
  }

  static void close_fds(out_connection& c) {
    if (c.down >= 0)
      ::close(c.down);
    if (c.up >= 0)
      ::close(c.up);
    c.down = c.up = -1;
  }

  /// Closes `c`; `why` (with the remote's claim) is recorded as a refusal.
  void drop(out_connection& c, const char* why) {
    if (c.dead)
      return;
    c.dead = true;
    std::lock_guard<std::mutex> guard{mx}; // recorded before CAF sees the close
    c.route->open -= 1;
    if (why == nullptr)
      return close_fds(c);
    c.route->refusals += 1;
    c.route->why = std::string{why} == "payload_over_limit"
                     ? "its BASP header claimed " + std::to_string(c.reader.claimed())
                         + " bytes, over the limit of " + std::to_string(cfg.max_message_bytes)
                     : "it sent a header of no BASP operation (not a Colony peer)";
    log::get("net")->warn("event=outbound_guard_closed remote={} reason={} claimed={}",
                          c.route->remote.to_string(), why, c.reader.claimed());
    close_fds(c);
  }

  void accept_on(out_route& r) {
    for (;;) {
      int fd = ::accept(r.listen_fd, nullptr, nullptr);
      if (fd < 0)
        return;
      set_nonblocking(fd);
      set_nodelay(fd);
      int up = ::socket(r.addr.ss_family, SOCK_STREAM, 0);
      int rc = -1;
      if (up >= 0) {
        set_nonblocking(up);
        set_nodelay(up);
        rc = ::connect(up, reinterpret_cast<sockaddr*>(&r.addr), r.addr_len);
      }
      if (up < 0 || (rc != 0 && errno != EINPROGRESS)) {
        ::close(fd);
        if (up >= 0)
          ::close(up);
        connect_failed += 1;
        continue;
      }
      out_connection c;
      c.route = &r;
      c.down = fd;
      c.up = up;
      c.up_connected = rc == 0;
      conns.push_back(std::move(c));
      std::lock_guard<std::mutex> guard{mx};
      r.open += 1;
      connections += 1;
    }
  }

  void service(out_connection& c, short down_ev, short up_ev) {
    const char* why = nullptr;
    switch (pump(c, down_ev, up_ev, false, max_payload.load(), why)) {
      case pump_result::ok:
        return;
      case pump_result::closed:
        return drop(c, nullptr);
      case pump_result::upstream_failed:
        connect_failed += 1;
        return drop(c, nullptr);
      case pump_result::refused:
        (std::string{why} == "payload_over_limit" ? oversized : garbage) += 1;
        return drop(c, why);
    }
  }

  void run() {
    std::vector<pollfd> fds;
    std::vector<out_route*> listeners;
    std::vector<out_connection*> order;
    while (!stopping) {
      fds.clear();
      listeners.clear();
      order.clear();
      fds.push_back({wake[0], POLLIN, 0});
      {
        std::lock_guard<std::mutex> guard{mx};
        for (auto& [ep, r] : routes) {
          fds.push_back({r->listen_fd, POLLIN, 0});
          listeners.push_back(r.get());
        }
      }
      for (auto& c : conns) {
        auto [down, up] = c.events();
        fds.push_back({c.down, down, 0});
        fds.push_back({c.up, up, 0});
        order.push_back(&c);
      }
      if (::poll(fds.data(), fds.size(), 500) < 0 && errno != EINTR)
        break;
      if (fds[0].revents & POLLIN) {
        char drain[64];
        while (::read(wake[0], drain, sizeof(drain)) > 0) {
        }
      }
      for (size_t i = 0; i < listeners.size(); ++i)
        if (fds[1 + i].revents & POLLIN)
          accept_on(*listeners[i]);
      auto base = 1 + listeners.size();
      for (size_t i = 0; i < order.size(); ++i) {
        auto down_ev = fds[base + 2 * i].revents;
        auto up_ev = fds[base + 2 * i + 1].revents;
        if (down_ev != 0 || up_ev != 0)
          service(*order[i], down_ev, up_ev);
      }
      conns.remove_if([](const out_connection& c) { return c.dead; });
      retire_idle();
    }
  }

  /// Closes the routes with nothing open that nobody asked for in 10
  /// minutes; over max_routes, also the least recently used ones idle for
  /// a minute (each route holds a file descriptor).
  void retire_idle() {
    std::lock_guard<std::mutex> guard{mx};
    auto now = out_clock::now();
    for (auto i = routes.begin(); i != routes.end();) {
      if (i->second->open == 0 && now - i->second->used > std::chrono::minutes{10}) {
        ::close(i->second->listen_fd);
        i = routes.erase(i);
      } else {
        ++i;
      }
    }
    while (routes.size() > cfg.max_routes) {
      auto victim = routes.end();
      for (auto i = routes.begin(); i != routes.end(); ++i)
        if (i->second->open == 0 && now - i->second->used > std::chrono::minutes{1}
            && (victim == routes.end() || i->second->used < victim->second->used))
          victim = i;
      if (victim == routes.end())
        return;
      ::close(victim->second->listen_fd);
      routes.erase(victim);
    }
  }

  mutable std::mutex mx; ///< guards routes (the map and the routes' fields) and cfg
  outbound_config cfg;
  std::atomic<uint64_t> max_payload{outbound_config{}.max_message_bytes};
  std::map<endpoint, std::unique_ptr<out_route>> routes;
  std::list<out_connection> conns; ///< the thread's only
  int wake[2] = {-1, -1};
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> connections{0}, oversized{0}, garbage{0}, connect_failed{0};
  std::thread thread;
};

outbound_guard::outbound_guard() : impl_(std::make_unique<impl>()) {}

outbound_guard::~outbound_guard() = default;

outbound_guard& outbound_guard::instance() {
  static outbound_guard guard;
  return guard;
}

void outbound_guard::configure(const outbound_config& cfg) {
  std::lock_guard<std::mutex> guard{impl_->mx};
  impl_->cfg = cfg;
  impl_->max_payload = cfg.max_message_bytes;
}

caf::expected<endpoint> outbound_guard::route(const endpoint& remote) {
  {
    std::lock_guard<std::mutex> guard{impl_->mx};
    if (!impl_->cfg.enabled)
      return remote;
    if (auto i = impl_->routes.find(remote); i != impl_->routes.end()) {
      i->second->used = out_clock::now();
      return endpoint{"127.0.0.1", i->second->port};
    }
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  auto service = std::to_string(remote.port);
  if (int rc = getaddrinfo(remote.host.c_str(), service.c_str(), &hints, &res); rc != 0)
    return make_error(errc::unreachable,
                      "cannot resolve " + remote.to_string() + " (" + gai_strerror(rc) + ")");
  auto r = std::make_unique<out_route>();
  r->remote = remote;
  std::memcpy(&r->addr, res->ai_addr, res->ai_addrlen);
  r->addr_len = static_cast<socklen_t>(res->ai_addrlen);
  freeaddrinfo(res);
  r->listen_fd = listen_on_loopback();
  if (r->listen_fd < 0)
    return make_error(errc::io_failed, "outgoing guard: cannot listen on 127.0.0.1 for "
                                         + remote.to_string() + " (" + std::strerror(errno)
                                         + ")");
  r->port = local_port(r->listen_fd);
  r->used = out_clock::now();
  std::lock_guard<std::mutex> guard{impl_->mx};
  if (auto i = impl_->routes.find(remote); i != impl_->routes.end()) {
    ::close(r->listen_fd); // another thread made it meanwhile
    return endpoint{"127.0.0.1", i->second->port};
  }
  auto port = r->port;
  impl_->routes.emplace(remote, std::move(r));
  impl_->poke();
  return endpoint{"127.0.0.1", port};
}

uint64_t outbound_guard::refusals(const endpoint& remote) const {
  std::lock_guard<std::mutex> guard{impl_->mx};
  auto i = impl_->routes.find(remote);
  return i == impl_->routes.end() ? 0 : i->second->refusals;
}

std::string outbound_guard::refusal_since(const endpoint& remote, uint64_t count) const {
  std::lock_guard<std::mutex> guard{impl_->mx};
  auto i = impl_->routes.find(remote);
  if (i == impl_->routes.end() || i->second->refusals <= count)
    return {};
  return i->second->why;
}

outbound_stats outbound_guard::stats() const {
  outbound_stats s;
  s.connections = impl_->connections;
  s.oversized = impl_->oversized;
  s.garbage = impl_->garbage;
  s.connect_failed = impl_->connect_failed;
  std::lock_guard<std::mutex> guard{impl_->mx};
  s.routes = impl_->routes.size();
  return s;
}

} // namespace colony::net_guard
