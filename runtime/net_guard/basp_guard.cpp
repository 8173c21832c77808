#include "runtime/net_guard/basp_guard.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

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
#include "runtime/rate_limit.hpp"

namespace colony::net_guard {

namespace {

using clock_type = std::chrono::steady_clock;

std::string address_of(const sockaddr_storage& sa) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (sa.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(sa).sin_addr, buf, sizeof(buf));
  else if (sa.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(sa).sin6_addr, buf, sizeof(buf));
  return buf;
}

/// down: the remote peer; up: CAF's internal port; reader: of `down`.
struct connection : relay_link {
  std::string source;
  clock_type::time_point accepted;
};

} // namespace

struct basp_guard::impl {
  impl(basp_guard& owner, int listen_fd, std::string name)
    : owner(owner), listen_fd(listen_fd), name(std::move(name)) {
    if (::pipe(wake) != 0)
      wake[0] = wake[1] = -1;
    set_nonblocking(wake[0]);
    thread = std::thread{[this] { run(); }};
  }

  ~impl() {
    stopping = true;
    char c = 1;
    if (wake[1] >= 0)
      (void)::write(wake[1], &c, 1);
    thread.join();
    for (auto& c : conns)
      close_fds(c);
    ::close(listen_fd);
    ::close(wake[0]);
    ::close(wake[1]);
  }

  void close_fds(connection& c) {
    if (c.down >= 0)
      ::close(c.down);
    if (c.up >= 0)
      ::close(c.up);
    c.down = c.up = -1;
  }

  void drop(connection& c, const char* why) {
    if (c.dead)
      return;
    c.dead = true;
    // Hand over what CAF already answered, best effort, then close.
    if (c.down >= 0)
      c.to_down.flush(c.down);
    close_fds(c);
    if (--per_source[c.source] == 0)
      per_source.erase(c.source);
    open -= 1;
    if (why != nullptr)
      note(why, c.source);
  }

  void note(const char* why, const std::string& source) {
    auto n = complaints.add(1, clock_type::now());
    if (n > 0)
      log::get("net")->warn("event=guard_closed guard={} reason={} source={} count={}", name,
                            why, source, n);
  }

  void accept_all() {
    auto& cfg = owner.cfg_;
    for (;;) {
      sockaddr_storage sa{};
      socklen_t len = sizeof(sa);
      int fd = ::accept(listen_fd, reinterpret_cast<sockaddr*>(&sa), &len);
      if (fd < 0)
        return;
      auto source = address_of(sa);
      if (open >= cfg.max_connections) {
        ::close(fd);
        refused_total += 1;
        note("max_connections", source);
        continue;
      }
      if (per_source[source] >= cfg.max_connections_per_source) {
        ::close(fd);
        refused_per_source += 1;
        note("max_connections_per_source", source);
        continue;
      }
      set_nonblocking(fd);
      set_nodelay(fd);
      int up = ::socket(AF_INET, SOCK_STREAM, 0);
      if (up < 0) {
        ::close(fd);
        upstream_failed += 1;
        continue;
      }
      set_nonblocking(up);
      set_nodelay(up);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(owner.upstream_port_);
      to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      auto rc = ::connect(up, reinterpret_cast<sockaddr*>(&to), sizeof(to));
      if (rc != 0 && errno != EINPROGRESS) {
        ::close(fd);
        ::close(up);
        upstream_failed += 1;
        continue;
      }
      connection c;
      c.down = fd;
      c.up = up;
      c.up_connected = rc == 0;
      c.source = source;
      c.accepted = clock_type::now();
      conns.push_back(std::move(c));
      per_source[source] += 1;
      open += 1;
      accepted += 1;
    }
  }

  void service(connection& c, short down_ev, short up_ev) {
    const char* why = nullptr;
    auto before = c.reader.messages();
    auto r = pump(c, down_ev, up_ev, true, owner.cfg_.max_message_bytes, why);
    messages += c.reader.messages() - before;
    switch (r) {
      case pump_result::ok:
        return;
      case pump_result::closed:
        return drop(c, nullptr);
      case pump_result::upstream_failed:
        upstream_failed += 1;
        return drop(c, "upstream_refused");
      case pump_result::refused:
        (std::string{why} == "payload_over_limit" ? oversized : garbage) += 1;
        return drop(c, why);
    }
  }

  void run() {
    auto timeout = std::chrono::duration<double>(owner.cfg_.first_message_timeout_s);
    std::vector<pollfd> fds;
    std::vector<connection*> order;
    while (!stopping) {
      fds.clear();
      order.clear();
      fds.push_back({listen_fd, POLLIN, 0});
      fds.push_back({wake[0], POLLIN, 0});
      for (auto& c : conns) {
        auto [down, up] = c.events();
        fds.push_back({c.down, down, 0});
        fds.push_back({c.up, up, 0});
        order.push_back(&c);
      }
      auto rc = ::poll(fds.data(), fds.size(), 500);
      if (rc < 0 && errno != EINTR)
        break;
      if (fds[0].revents & POLLIN)
        accept_all();
      for (size_t i = 0; i < order.size(); ++i) {
        auto& c = *order[i];
        auto down_ev = fds[2 + 2 * i].revents;
        auto up_ev = fds[3 + 2 * i].revents;
        if (down_ev != 0 || up_ev != 0)
          service(c, down_ev, up_ev);
      }
      auto now = clock_type::now();
      for (auto& c : conns)
        if (!c.dead && c.reader.messages() == 0 && now - c.accepted > timeout) {
          first_message_timeouts += 1;
          drop(c, "first_message_timeout");
        }
      conns.remove_if([](const connection& c) { return c.dead; });
    }
  }

  basp_guard& owner;
  int listen_fd;
  std::string name;
  int wake[2] = {-1, -1};
  std::atomic<bool> stopping{false};
  std::list<connection> conns;
  std::map<std::string, uint32_t> per_source;
  rate_limited_counter complaints{std::chrono::seconds{5}};
  std::atomic<uint64_t> accepted{0}, refused_per_source{0}, refused_total{0}, oversized{0},
    garbage{0}, first_message_timeouts{0}, upstream_failed{0}, messages{0}, open{0};
  std::thread thread;
};

caf::expected<std::unique_ptr<basp_guard>>
basp_guard::start(const std::string& host, uint16_t port, uint16_t upstream_port,
                  guard_config cfg, std::string name) {
  auto where = host + ":" + std::to_string(port);
  auto fail = [&](const std::string& why) {
    return make_error(errc::io_failed, "cannot listen on " + where + " (" + why + ")");
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  auto service = std::to_string(port);
  auto node = host.empty() ? nullptr : host.c_str();
  if (int rc = getaddrinfo(node, service.c_str(), &hints, &res); rc != 0)
    return fail(gai_strerror(rc));
  int fd = -1;
  std::string last_error = "no address";
  for (auto* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
      continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      last_error = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0)
    return fail(last_error);
  set_nonblocking(fd);
  auto bound = local_port(fd);
  return std::unique_ptr<basp_guard>{
    new basp_guard(cfg, fd, bound, upstream_port, std::move(name))};
}

basp_guard::basp_guard(guard_config cfg, int listen_fd, uint16_t port, uint16_t upstream_port,
                       std::string name)
  : cfg_(cfg), port_(port), upstream_port_(upstream_port) {
  impl_ = std::make_unique<impl>(*this, listen_fd, std::move(name));
}

basp_guard::~basp_guard() = default;

guard_stats basp_guard::stats() const {
  guard_stats s;
  s.accepted = impl_->accepted;
  s.refused_per_source = impl_->refused_per_source;
  s.refused_total = impl_->refused_total;
  s.oversized = impl_->oversized;
  s.garbage = impl_->garbage;
  s.first_message_timeouts = impl_->first_message_timeouts;
  s.upstream_failed = impl_->upstream_failed;
  s.messages = impl_->messages;
  s.open = impl_->open;
  return s;
}

} // namespace colony::net_guard
