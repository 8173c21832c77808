// A TCP relay on loopback that delays every byte by a fixed one-way delay in
// each direction (a slow link without netem). Bytes keep their order and
// the relay pipelines: throughput is not limited by the delay, unless
// `upload_bytes_per_s` caps the client-to-target direction (a slow uplink:
// the relay reads that slowly, so the sender's socket fills and it waits). Each
// connection has one reader and one writer thread per direction; the
// destructor closes every socket and joins them (bounded: closing a socket
// ends its blocking reads).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace colony::it {

class delay_relay {
public:
  using clock = std::chrono::steady_clock;

  /// Listens on 127.0.0.1 (any free port) and relays to 127.0.0.1:`target`.
  delay_relay(uint16_t target, std::chrono::milliseconds one_way,
              size_t upload_bytes_per_s = 0)
    : target_(target), delay_(one_way), upload_rate_(upload_bytes_per_s) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0
        || ::listen(listen_fd_, 64) != 0)
      throw std::runtime_error("delay_relay: cannot listen");
    socklen_t len = sizeof(sa);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    acceptor_ = std::thread{[this] { accept_loop(); }};
  }

  ~delay_relay() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
    std::lock_guard<std::mutex> guard{mx_};
    for (auto& l : links_)
      l->stop();
    for (auto& l : links_)
      l->join();
  }

  uint16_t port() const { return port_; }

  /// Connections accepted so far.
  size_t connections() const { return accepted_; }

private:
  /// One direction: bytes read from `from` are written to `to` `delay` later.
  struct direction {
    int from = -1;
    int to = -1;
    std::chrono::milliseconds delay{0};
    size_t rate = 0; ///< bytes per second read from `from`; 0 = as fast as it comes
    std::mutex mx;
    std::condition_variable cv;
    std::deque<std::pair<clock::time_point, std::string>> queue;
    bool eof = false;
    std::atomic<bool>* stopping = nullptr;
    std::thread reader, writer;

    void start() {
      reader = std::thread{[this] { read_loop(); }};
      writer = std::thread{[this] { write_loop(); }};
    }

    void read_loop() {
      char buf[64 * 1024];
      // Rate-limited: reads of 1/20 s worth of bytes, each followed by its
      // share of the second (so that stop() is never far away).
      size_t want = rate > 0 ? std::clamp<size_t>(rate / 20, 1, sizeof(buf)) : sizeof(buf);
      for (;;) {
        auto n = ::recv(from, buf, want, 0);
        if (n > 0 && rate > 0)
          std::this_thread::sleep_for(std::chrono::microseconds{
            static_cast<int64_t>(1e6 * static_cast<double>(n) / static_cast<double>(rate))});
        std::lock_guard<std::mutex> guard{mx};
        if (n <= 0) {
          eof = true;
          cv.notify_all();
          return;
        }
        queue.emplace_back(clock::now() + delay, std::string(buf, static_cast<size_t>(n)));
        cv.notify_all();
      }
    }

    void write_loop() {
      for (;;) {
        std::unique_lock<std::mutex> lock{mx};
        cv.wait(lock, [&] { return !queue.empty() || eof || *stopping; });
        if (*stopping)
          return;
        if (queue.empty()) { // eof and all delivered: pass the close on
          ::shutdown(to, SHUT_WR);
          return;
        }
        auto due = queue.front().first;
        if (clock::now() < due) {
          cv.wait_until(lock, due, [&] { return bool{*stopping}; });
          continue;
        }
        auto bytes = std::move(queue.front().second);
        queue.pop_front();
        lock.unlock();
        size_t off = 0;
        while (off < bytes.size()) {
          auto n = ::send(to, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
          if (n <= 0)
            return;
          off += static_cast<size_t>(n);
        }
      }
    }
  };

  struct link {
    int a = -1, b = -1;
    direction ab, ba;
    std::atomic<bool> stopping{false};

    void stop() {
      stopping = true;
      ::shutdown(a, SHUT_RDWR);
      ::shutdown(b, SHUT_RDWR);
      ab.cv.notify_all();
      ba.cv.notify_all();
    }
    void join() {
      for (auto* d : {&ab, &ba}) {
        d->reader.join();
        d->writer.join();
      }
      ::close(a);
      ::close(b);
    }
  };

  void accept_loop() {
    while (!stopping_) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0)
        return;
      int up = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      sa.sin_port = htons(target_);
      if (::connect(up, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
        ::close(fd);
        ::close(up);
        continue;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      auto l = std::make_unique<link>();
      l->a = fd;
      l->b = up;
      for (auto [d, from, to] : {std::tuple{&l->ab, fd, up}, std::tuple{&l->ba, up, fd}}) {
        d->from = from;
        d->to = to;
        d->delay = delay_;
        d->stopping = &l->stopping;
      }
      l->ab.rate = upload_rate_;
      l->ab.start();
      l->ba.start();
      std::lock_guard<std::mutex> guard{mx_};
      links_.push_back(std::move(l));
      ++accepted_;
    }
  }

  uint16_t target_;
  std::chrono::milliseconds delay_;
  size_t upload_rate_ = 0;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> accepted_{0};
  std::thread acceptor_;
  std::mutex mx_;
  std::list<std::unique_ptr<link>> links_;
};

} // namespace colony::it
