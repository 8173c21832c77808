// Hostile bytes against the ports colony-node and `colony dht serve`
// publish: the guard (runtime/net_guard) checks every BASP header before
// CAF sees it, so a header that claims 4 GiB costs nothing, garbage is cut,
// and one source cannot hold more than max_connections_per_source
// connections. Without it, one such header drove colony-node to 4 GB.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <random>

#include "runtime/net_guard/basp_guard.hpp"
#include "tests/dht/child_process.hpp"
#include "tests/integration/integration_support.hpp"

namespace colony::it {
namespace {

/// Resident memory of `pid` in MiB (VmRSS), or -1.
double rss_mib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stod(line.substr(6)) / 1024.0;
  return -1;
}

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// A well-formed BASP header claiming `payload_len` bytes: a
/// client_handshake with zero actor ids, which CAF 0.17.6 accepts as valid
/// and then sizes its read buffer for.
std::string basp_header(uint32_t payload_len) {
  std::string h(net_guard::basp_header_size, '\0');
  h[0] = 0x01;
  for (int i = 0; i < 4; ++i)
    h[4 + i] = static_cast<char>((payload_len >> (24 - 8 * i)) & 0xFF);
  return h;
}

/// True once the peer closed `fd` (reads drain what CAF sent first).
bool closed_by_peer(int fd, std::chrono::milliseconds limit) {
  auto deadline = steady::now() + limit;
  char buf[4096];
  while (steady::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0)
      continue;
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      return true;
  }
  return false;
}

/// Opens `n` connections to `port` and sends `bytes(i)` on each; returns
/// the descriptors (-1 where the connect failed).
template <class Bytes>
std::vector<int> attack(uint16_t port, int n, Bytes bytes) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = connect_to(port);
    if (fd >= 0) {
      auto b = bytes(i);
      (void)::send(fd, b.data(), b.size(), MSG_NOSIGNAL);
    }
    fds.push_back(fd);
  }
  return fds;
}

void close_all(std::vector<int>& fds) {
  for (auto fd : fds)
    if (fd >= 0)
      ::close(fd);
  fds.clear();
}

double percentile(std::vector<double> xs, double q) {
  std::sort(xs.begin(), xs.end());
  return xs[static_cast<size_t>(q * (xs.size() - 1))];
}

class GuardTest : public ::testing::Test {
protected:
  void SetUp() override {
    write_file(dir_.file("node.yaml"), ffn_node_yaml());
    node_ = std::make_unique<node_process>(dir_, dir_.file("node.yaml"), "guarded");
    ASSERT_TRUE(node_->ready()) << node_->error();
  }

  temp_dir dir_;
  std::unique_ptr<node_process> node_;
};

TEST(GuardHeaderTest, ChecksOperationAndLength) {
  auto h = basp_header(100);
  auto p = reinterpret_cast<const unsigned char*>(h.data());
  EXPECT_EQ(net_guard::check_header(p, 100), 100);
  EXPECT_EQ(net_guard::check_header(p, 99), -2);
  auto big = basp_header(0xFFFFFFFFu);
  EXPECT_EQ(net_guard::check_header(reinterpret_cast<const unsigned char*>(big.data()),
                                    uint64_t{5} << 20),
            -2);
  h[0] = 0x07; // no such BASP operation
  EXPECT_EQ(net_guard::check_header(p, 100), -1);
}

TEST_F(GuardTest, HundredFourGigabyteHeadersCostNoMemoryAndInfoKeepsAnswering) {
  client c;
  auto remote = c.expert(node_->where(), "ffn.0.0", 5s);
  ASSERT_TRUE(ok(remote.info()));
  auto before = rss_mib(node_->pid());
  ASSERT_GT(before, 0);
  // The attack is spread over about 2 s while info calls (in-process and
  // the CLI, each on a fresh connection) go on.
  std::atomic<bool> attacking{true};
  std::vector<int> fds;
  std::thread attacker{[&] {
    for (int i = 0; i < 100; ++i) {
      auto one = attack(node_->where().port, 1, [](int) { return basp_header(0xFFFFFFFFu); });
      fds.push_back(one[0]);
      std::this_thread::sleep_for(20ms);
    }
    attacking = false;
  }};
  std::vector<double> info_ms;
  std::vector<command_result> cli_runs;
  double peak = before;
  while (attacking || info_ms.size() < 200) {
    auto start = steady::now();
    EXPECT_TRUE(ok(remote.info())) << "info failed during the attack";
    info_ms.push_back(ms_since(start));
    peak = std::max(peak, rss_mib(node_->pid()));
    if (attacking && cli_runs.size() < 3 && info_ms.size() % 50 == 0)
      cli_runs.push_back(run_command({COLONY_CLI_BIN, "expert", "info", "--node",
                                      node_->where().to_string(), "--uid", "ffn.0.1"},
                                     dir_));
  }
  attacker.join();
  int closed = 0;
  for (auto fd : fds)
    closed += fd < 0 || closed_by_peer(fd, 5s);
  peak = std::max(peak, rss_mib(node_->pid()));
  close_all(fds);
  std::cout << "rss before " << before << " MiB, peak " << peak << " MiB; " << info_ms.size()
            << " info calls p50 " << percentile(info_ms, 0.5) << " ms p99 "
            << percentile(info_ms, 0.99) << " ms; " << cli_runs.size() << " CLI runs"
            << std::endl;
  EXPECT_EQ(closed, 100) << "every oversized connection is cut";
  EXPECT_LT(peak - before, 64.0) << "MiB grown by 100 headers claiming 4 GiB each";
  EXPECT_LT(percentile(info_ms, 0.99), 100.0);
  EXPECT_FALSE(cli_runs.empty());
  for (auto& r : cli_runs)
    EXPECT_EQ(r.exit_code, 0) << "colony expert info during the attack: " << r.err;
}

TEST_F(GuardTest, OneSourceHoldsAtMostItsConnectionCapOfMaximalHeaders) {
  client c;
  auto remote = c.expert(node_->where(), "ffn.0.0", 5s);
  ASSERT_TRUE(ok(remote.info()));
  auto before = rss_mib(node_->pid());
  net_guard::guard_config defaults;
  auto max = static_cast<uint32_t>(defaults.max_message_bytes);
  // Legal headers that announce the largest message and never send it: CAF
  // reserves the buffer, so these are what an attacker can still cost.
  auto fds = attack(node_->where().port, 100, [&](int) { return basp_header(max); });
  int refused = 0;
  for (auto fd : fds)
    refused += fd < 0 || closed_by_peer(fd, 100ms);
  std::vector<double> info_ms;
  for (int i = 0; i < 50; ++i) {
    auto start = steady::now();
    ASSERT_TRUE(ok(remote.info()));
    info_ms.push_back(ms_since(start));
  }
  auto peak = rss_mib(node_->pid());
  close_all(fds);
  auto cap = defaults.max_connections_per_source;
  // The client's own connection counts against the cap of 127.0.0.1 too.
  EXPECT_GE(refused, 100 - static_cast<int>(cap));
  double bound = cap * (max / 1048576.0 + 2 * net_guard::relay_buffer_bytes / 1048576.0) + 32;
  std::cout << "refused " << refused << " of 100; rss before " << before << " MiB, peak "
            << peak << " MiB (bound " << bound << " MiB)" << std::endl;
  EXPECT_LT(peak - before, bound);
  EXPECT_LT(percentile(info_ms, 0.99), 100.0);
}

TEST_F(GuardTest, RandomGarbageConnectionsAreCutWithoutGrowth) {
  client c;
  auto remote = c.expert(node_->where(), "ffn.0.0", 5s);
  ASSERT_TRUE(ok(remote.info()));
  auto before = rss_mib(node_->pid());
  std::mt19937 gen{1};
  double peak = before;
  for (int round = 0; round < 10; ++round) {
    auto fds = attack(node_->where().port, 30, [&](int) {
      std::string b(64, '\0');
      for (auto& ch : b)
        ch = static_cast<char>(gen());
      return b;
    });
    ASSERT_TRUE(ok(remote.info()));
    peak = std::max(peak, rss_mib(node_->pid()));
    close_all(fds);
  }
  EXPECT_LT(peak - before, 64.0) << "MiB grown by 300 garbage connections";
  ASSERT_TRUE(ok(remote.info()));
}

using dht::testing::child_process;

TEST(GuardDhtTest, DhtServeSurvivesOversizedHeaders) {
  temp_dir dir;
  auto ready = dir.file("dht.ready");
  child_process serve{{COLONY_CLI_BIN, "dht", "serve", "--ready-file", ready},
                      dir.file("dht.out"), dir.file("dht.err")};
  auto text = child_process::wait_file(ready, 20s).value_or("");
  auto ep = parse_endpoint(text);
  ASSERT_TRUE(ep) << "dht serve did not start: " << serve.err();
  auto pid = serve.pid();
  auto before = rss_mib(pid);
  auto fds = attack(ep->port, 100, [](int) { return basp_header(0xFFFFFFFFu); });
  int closed = 0;
  for (auto fd : fds)
    closed += fd < 0 || closed_by_peer(fd, 5s);
  auto peak = rss_mib(pid);
  close_all(fds);
  auto get = run_command({COLONY_CLI_BIN, "dht", "get", "some.key", "--peer", text}, dir);
  EXPECT_EQ(closed, 100);
  EXPECT_LT(peak - before, 32.0);
  // Not found is exit 2 with a "not found" line; unreachable would say so.
  EXPECT_EQ(get.err.find("unreachable"), std::string::npos) << get.err;
  EXPECT_FALSE(get.timed_out);
}

} // namespace
} // namespace colony::it

namespace colony::it {
namespace {

TEST(GuardConfigTest, NodeGuardSectionAppliesToItsDhtPortToo) {
  temp_dir dir;
  write_file(dir.file("node.yaml"), ffn_node_yaml() + R"(dht:
  port: 0
guard:
  max_connections_per_source: 2
)");
  auto dht_ready = dir.file("dht.ready");
  child_process node{{COLONY_NODE_BIN, "--config", dir.file("node.yaml"), "--dht-ready-file",
                      dht_ready},
                     dir.file("node.out"), dir.file("node.err")};
  auto ep = parse_endpoint(child_process::wait_file(dht_ready, 20s).value_or(""));
  ASSERT_TRUE(ep) << "no DHT endpoint: " << node.err();
  auto fds = attack(ep->port, 5, [](int) { return std::string{}; });
  int refused = 0;
  for (auto fd : fds)
    refused += fd < 0 || closed_by_peer(fd, 300ms);
  close_all(fds);
  EXPECT_EQ(refused, 3) << "5 connections from one source with a cap of 2";
}

} // namespace
} // namespace colony::it
