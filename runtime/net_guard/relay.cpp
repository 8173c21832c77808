#include "runtime/net_guard/relay.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace colony::net_guard {

int64_t check_header(const unsigned char* h, uint64_t max_payload) {
  if (h[0] > basp_max_operation)
    return -1;
  uint32_t len = (uint32_t{h[4]} << 24) | (uint32_t{h[5]} << 16) | (uint32_t{h[6]} << 8)
                 | uint32_t{h[7]};
  if (len > max_payload)
    return -2;
  return len;
}

void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

uint16_t local_port(int fd) {
  sockaddr_storage sa{};
  socklen_t len = sizeof(sa);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    return 0;
  if (sa.ss_family == AF_INET)
    return ntohs(reinterpret_cast<sockaddr_in&>(sa).sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6&>(sa).sin6_port);
}

bool pipe_buffer::flush(int fd) {
  while (!empty()) {
    auto n = ::send(fd, bytes.data() + offset, bytes.size() - offset, MSG_NOSIGNAL);
    if (n < 0)
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    offset += static_cast<size_t>(n);
  }
  bytes.clear();
  offset = 0;
  return true;
}

const char* basp_reader::feed(const char* data, size_t n, uint64_t max_payload) {
  size_t i = 0;
  while (i < n) {
    if (payload_left_ > 0) {
      auto take = std::min<uint64_t>(payload_left_, n - i);
      payload_left_ -= take;
      i += take;
      if (payload_left_ == 0)
        ++messages_;
      continue;
    }
    header_[header_have_++] = static_cast<unsigned char>(data[i++]);
    if (header_have_ < basp_header_size)
      continue;
    header_have_ = 0;
    claimed_ = (uint32_t{header_[4]} << 24) | (uint32_t{header_[5]} << 16)
               | (uint32_t{header_[6]} << 8) | uint32_t{header_[7]};
    auto len = check_header(header_, max_payload);
    if (len == -1)
      return "unknown_basp_operation";
    if (len == -2)
      return "payload_over_limit";
    payload_left_ = static_cast<uint64_t>(len);
    if (len == 0)
      ++messages_;
  }
  return nullptr;
}

std::pair<short, short> relay_link::events() const {
  short d = 0, u = 0;
  if (up_connected && to_up.empty())
    d |= POLLIN;
  if (!to_down.empty())
    d |= POLLOUT;
  if (!up_connected || !to_up.empty())
    u |= POLLOUT;
  if (up_connected && to_down.empty())
    u |= POLLIN;
  return {d, u};
}

pump_result pump(relay_link& c, short down_ev, short up_ev, bool check_down,
                 uint64_t max_payload, const char*& why) {
  char buf[relay_buffer_bytes];
  auto gone = [](ssize_t n) { return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR); };
  if (!c.up_connected && (up_ev & (POLLOUT | POLLERR | POLLHUP))) {
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(c.up, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0)
      return pump_result::upstream_failed;
    c.up_connected = true;
  }
  if (c.up_connected && (down_ev & (POLLIN | POLLHUP | POLLERR)) && c.to_up.empty()) {
    auto n = ::recv(c.down, buf, sizeof(buf), 0);
    if (gone(n))
      return pump_result::closed;
    if (n > 0 && check_down && (why = c.reader.feed(buf, static_cast<size_t>(n), max_payload)))
      return pump_result::refused;
    if (n > 0)
      c.to_up.bytes.insert(c.to_up.bytes.end(), buf, buf + n);
  }
  if (c.up_connected && (up_ev & (POLLIN | POLLHUP | POLLERR)) && c.to_down.empty()) {
    auto n = ::recv(c.up, buf, sizeof(buf), 0);
    if (gone(n))
      return pump_result::closed;
    if (n > 0 && !check_down && (why = c.reader.feed(buf, static_cast<size_t>(n), max_payload)))
      return pump_result::refused;
    if (n > 0)
      c.to_down.bytes.insert(c.to_down.bytes.end(), buf, buf + n);
  }
  if (c.up_connected && !c.to_up.flush(c.up))
    return pump_result::closed;
  if (!c.to_down.flush(c.down))
    return pump_result::closed;
  return pump_result::ok;
}

} // namespace colony::net_guard
