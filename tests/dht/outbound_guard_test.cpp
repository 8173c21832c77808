// Outgoing connections are guarded too (runtime/net_guard/outbound_guard):
// a hostile server that answers a connect with a BASP header claiming
// 4 GiB, or with bytes of no BASP operation, is cut before CAF reads the
// header; the connect fails with an error that says why, and the client's
// memory stays bounded.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include "actors/client/connect.hpp"
#include "actors/dht/front.hpp"
#include "messages/errc.hpp"
#include "runtime/net_guard/outbound_guard.hpp"
#include "tests/dht/test_support.hpp"

using namespace colony;
using namespace colony::dht::testing;
using namespace std::chrono_literals;

namespace {

/// Resident memory of this process, in KiB.
long rss_kib() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

/// A TCP server on 127.0.0.1 that answers every connection with `bytes`
/// and then keeps it open until destroyed.
class hostile_server {
public:
  explicit hostile_server(std::string bytes) : bytes_(std::move(bytes)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    ::listen(fd_, 8);
    socklen_t len = sizeof(sa);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread{[this] {
      for (int i = 0; i < 8 && !stop_; ++i) { // bounded: a few connects
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0)
          return;
        (void)::send(c, bytes_.data(), bytes_.size(), MSG_NOSIGNAL);
        open_.push_back(c);
      }
    }};
  }

  ~hostile_server() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (int c : open_)
      ::close(c);
  }

  endpoint where() const { return endpoint{"127.0.0.1", port_}; }

private:
  std::string bytes_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> open_;
  std::thread thread_;
};

/// A BASP server handshake header claiming `payload_len` bytes.
std::string header_claiming(uint32_t payload_len) {
  std::string h(32, '\0');
  h[0] = 0x00; // server_handshake
  h[4] = static_cast<char>(payload_len >> 24);
  h[5] = static_cast<char>(payload_len >> 16);
  h[6] = static_cast<char>(payload_len >> 8);
  h[7] = static_cast<char>(payload_len);
  return h;
}

class OutboundGuardTest : public system_fixture {};

} // namespace

TEST_F(OutboundGuardTest, AServerHeaderClaimingFourGiBIsCutAndTheConnectSaysWhy) {
  hostile_server server{header_claiming(0xFFFFFFFFu)};
  auto before_rss = rss_kib();
  auto before = net_guard::outbound_guard::instance().stats();
  auto start = std::chrono::steady_clock::now();
  auto h = net::connect_blocking<dht::peer_front_actor>(sys_, server.where(), 20s, "DHT peer");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(h) << "connected to a hostile server";
  EXPECT_EQ(code_of(h.error()), errc::payload_too_large) << describe(h.error());
  auto text = describe(h.error());
  EXPECT_NE(text.find(server.where().to_string()), std::string::npos) << text;
  EXPECT_NE(text.find("claimed 4294967295 bytes"), std::string::npos) << text;
  EXPECT_LT(took, 10s) << "the cut connection was not noticed";
  EXPECT_LT(rss_kib() - before_rss, 64 * 1024) << "the client allocated what the server claimed";
  EXPECT_EQ(net_guard::outbound_guard::instance().stats().oversized, before.oversized + 1);
}

TEST_F(OutboundGuardTest, BytesOfNoBaspOperationAreCutAsMalformed) {
  hostile_server server{std::string(32, '\xff')};
  auto h = net::connect_blocking<dht::peer_front_actor>(sys_, server.where(), 20s, "DHT peer");
  ASSERT_FALSE(h);
  EXPECT_EQ(code_of(h.error()), errc::malformed_payload) << describe(h.error());
  EXPECT_NE(describe(h.error()).find("not a Colony peer"), std::string::npos)
    << describe(h.error());
}

TEST_F(OutboundGuardTest, AnEndpointThatDoesNotResolveIsUnreachable) {
  auto h = net::connect_blocking<dht::peer_front_actor>(
    sys_, endpoint{"no-such-host.invalid", 4000}, 5s, "DHT peer");
  ASSERT_FALSE(h);
  EXPECT_EQ(code_of(h.error()), errc::unreachable) << describe(h.error());
}
