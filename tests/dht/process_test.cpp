// DHT peers in separate OS processes on loopback: `colony dht serve`
// processes, colony-node with a dht: section, and the CLI; forged records
// in a 20-process swarm. Ports are chosen by the OS; every wait is bounded.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/dht/expert_directory.hpp"
#include "actors/dht/io_peer.hpp"
#include "actors/dht/sealed_value.hpp"
#include "actors/dht/wire.hpp"
#include "messages/errc.hpp"
#include "tests/dht/child_process.hpp"
#include "tests/dht/test_support.hpp"

using namespace colony;
using namespace colony::dht;
using namespace colony::dht::testing;
using namespace std::chrono_literals;

namespace {

/// A TCP port nobody listens on (bound once by us, then released).
uint16_t closed_port() {
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

bool lists(const dht_peer_stats& stats, const std::string& ep) {
  for (const auto& c : stats.contacts)
    if (c.host + ":" + std::to_string(c.port) == ep)
      return true;
  return false;
}

class DhtProcessTest : public system_fixture {
protected:
  DhtProcessTest() {
    char tmpl[] = "/tmp/colony-dht-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }

  ~DhtProcessTest() override {
    std::filesystem::remove_all(dir_);
  }

  /// Starts `colony dht serve` with `args`; its DHT endpoint.
  std::string serve(const std::string& name, std::vector<std::string> args) {
    auto ready = dir_ + "/" + name + ".ready";
    std::vector<std::string> argv{COLONY_CLI_BIN, "dht", "serve", "--ready-file", ready,
                                  "--rpc-timeout-ms", "1000"};
    argv.insert(argv.end(), args.begin(), args.end());
    procs_[name] = std::make_unique<child_process>(argv, dir_ + "/" + name + ".out",
                                                   dir_ + "/" + name + ".err");
    auto ep = child_process::wait_file(ready, 10s);
    EXPECT_TRUE(ep) << name << " did not start: " << procs_[name]->err();
    return ep.value_or("127.0.0.1:1");
  }

  /// A client-mode peer in this process, joined via `initial`.
  client join(const std::string& initial) {
    peer_config cfg;
    cfg.client_mode = true;
    cfg.rpc_timeout = 1000ms;
    auto p = start_io_peer(sys_, cfg, {initial});
    EXPECT_TRUE(p) << describe(p.error());
    peers_.push_back(*p);
    return client{sys_, p->peer, 10s};
  }

  /// A blocking client of the peer published at `ep` in another process.
  client remote(const std::string& ep) {
    auto parsed = parse_endpoint(ep);
    auto h = caf::io::remote_actor<peer_front_actor>(sys_, parsed->host, parsed->port);
    EXPECT_TRUE(h) << sys_.render(h.error());
    return client{sys_, *h, 10s};
  }

  run_result cli(std::vector<std::string> args) {
    args.insert(args.begin(), COLONY_CLI_BIN);
    return run(std::move(args), dir_);
  }

  void TearDown() override {
    for (auto& p : peers_)
      stop_io_peer(sys_, p);
  }

  std::string dir_;
  std::map<std::string, std::unique_ptr<child_process>> procs_;
  std::vector<io_peer> peers_;
};

/// Polls `pred` every 50 ms, at most `limit`.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  do {
    if (pred())
      return true;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return pred();
}

} // namespace

TEST_F(DhtProcessTest, DeclareOnOneFindFromAnotherAndSurviveASigkill) {
  auto e1 = serve("p1", {});
  auto e2 = serve("p2", {"--peer", e1, "--experts", "ffn.0.0,ffn.0.1", "--expert-endpoint",
                         "127.0.0.1:7000", "--expiration-s", "2", "--update-period-s", "0.5"});
  auto e3 = serve("p3", {"--peer", e1});
  auto finder = join(e3);
  const endpoint expert_ep{"127.0.0.1", 7000};
  auto declared = [&] {
    auto eps = get_experts(finder, {"ffn.0.0", "ffn.0.1"});
    return eps && (*eps)[0] == expert_ep && (*eps)[1] == expert_ep;
  };
  ASSERT_TRUE(eventually(declared, 5s));

  auto listed = cli({"experts", "list", "ffn.", "--peer", e3});
  EXPECT_EQ(listed.code, 0) << listed.err;
  EXPECT_EQ(listed.out, "ffn.0.0 127.0.0.1:7000\nffn.0.1 127.0.0.1:7000\n");
  auto stored = cli({"dht", "store", "k", "v", "--ttl", "30", "--peer", e1});
  EXPECT_EQ(stored.code, 0) << stored.err;
  auto got = cli({"dht", "get", "k", "--peer", e3});
  EXPECT_EQ(got.code, 0) << got.err;
  EXPECT_EQ(got.out.substr(0, 2), "v ");

  procs_["p2"]->kill(SIGKILL);
  auto c1 = remote(e1);
  auto c3 = remote(e3);
  auto acks = c1.store("after", "kill", unix_time() + 30);
  ASSERT_TRUE(acks) << describe(acks.error());
  EXPECT_EQ(*acks, 2u); // p1 itself and p3; p2 is gone
  auto after = c3.get_one("after");
  ASSERT_TRUE(after) << describe(after.error());
  EXPECT_TRUE(after->found);
  ASSERT_TRUE(c3.store("after3", "kill", unix_time() + 30)); // p3 also contacts p2
  EXPECT_FALSE(lists(*c1.stats(), e2)) << "p1 still lists the dead peer";
  EXPECT_FALSE(lists(*c3.stats(), e2)) << "p3 still lists the dead peer";
  EXPECT_TRUE(lists(*c1.stats(), e3));
  auto vanished = [&] {
    auto eps = get_experts(finder, {"ffn.0.0", "ffn.0.1"});
    return eps && !(*eps)[0] && !(*eps)[1];
  };
  EXPECT_TRUE(eventually(vanished, 4s)) << "experts of the dead node did not expire";
}

TEST_F(DhtProcessTest, BootstrapFailsFastWhenNoInitialPeerAnswers) {
  auto nobody = "127.0.0.1:" + std::to_string(closed_port());
  peer_config cfg;
  cfg.rpc_timeout = 1000ms;
  auto start = std::chrono::steady_clock::now();
  auto p = start_io_peer(sys_, cfg, {nobody});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(p);
  EXPECT_EQ(code_of(p.error()), errc::bootstrap_failed);
  EXPECT_NE(context_of(p.error()).find(nobody), std::string::npos) << describe(p.error());
  EXPECT_LT(took, 1500ms);

  auto get = cli({"dht", "get", "k", "--peer", nobody, "--rpc-timeout-ms", "1000"});
  EXPECT_EQ(get.code, 2);
  EXPECT_EQ(get.err.rfind("colony: error: ", 0), 0u) << get.err;
  EXPECT_NE(get.err.find("bootstrap_failed"), std::string::npos) << get.err;
  EXPECT_NE(get.err.find(nobody), std::string::npos) << get.err;
  EXPECT_EQ(std::count(get.err.begin(), get.err.end(), '\n'), 1) << get.err;
  auto served = cli({"dht", "serve", "--peer", nobody, "--rpc-timeout-ms", "1000"});
  EXPECT_EQ(served.code, 2) << served.err;
}

TEST_F(DhtProcessTest, ColonyNodeDeclaresItsExpertsUnderItsEndpoint) {
  auto e1 = serve("p1", {});
  auto config = dir_ + "/node.yaml";
  std::ofstream{config} << "node: {host: 127.0.0.1, port: 0}\n"
                           "experts:\n"
                           "  - uid: ffn.5.*\n"
                           "    count: 2\n"
                           "    module: {type: nop_delay, dim: 4, delay_ms: 0}\n"
                           "dht:\n"
                           "  initial_peers: ["
                        << e1 << "]\n"
                                 "  expiration_s: 3\n"
                                 "  update_period_s: 0.3\n";
  auto ready = dir_ + "/node.ready";
  auto dht_ready = dir_ + "/node.dht";
  child_process node{{COLONY_NODE_BIN, "--config", config, "--ready-file", ready,
                      "--dht-ready-file", dht_ready},
                     dir_ + "/node.out", dir_ + "/node.err"};
  auto node_ep = child_process::wait_file(ready, 30s);
  ASSERT_TRUE(node_ep) << node.err();
  ASSERT_TRUE(child_process::wait_file(dht_ready, 1s)) << node.err();
  auto finder = join(e1);
  auto declared = [&] {
    auto eps = get_experts(finder, {"ffn.5.0", "ffn.5.1"});
    return eps && (*eps)[0] && (*eps)[0]->to_string() == *node_ep && (*eps)[1]
           && (*eps)[1]->to_string() == *node_ep;
  };
  EXPECT_TRUE(eventually(declared, 5s)) << node.err();
  auto redeclared = [&] {
    auto log = node.err();
    size_t n = 0;
    for (auto pos = log.find("event=declare experts=2 withdrawn=0 acks="); pos != std::string::npos;
         pos = log.find("event=declare experts=2 withdrawn=0 acks=", pos + 1))
      ++n;
    return n >= 2;
  };
  EXPECT_TRUE(eventually(redeclared, 5s)) << node.err();
  node.kill(SIGTERM);
  EXPECT_EQ(node.wait_exit(1s), 0) << node.err();
}

// Records nobody can forge, across 20 processes: an honest `colony dht
// serve` declares ffn.0.0 sealed by its key file, 19 more join. A hostile
// peer (a client-mode peer of this process) puts forgeries of ffn.0.0 and
// of its prefix entry, signed by its own key or unsigned: the replicas,
// which hold the honest records, refuse them all. A tampered copy of the
// honest record (another endpoint, or a later expiration) is refused by
// every one of the 20 peers. Readers see the honest endpoint only.
TEST_F(DhtProcessTest, ForgedDeclarationsAreRefusedByTwentyProcessesAndReachNoReader) {
  const endpoint honest_ep{"127.0.0.1", 7000};
  auto key_file = dir_ + "/honest.key";
  auto first = serve("honest", {"--experts", "ffn.0.0", "--expert-endpoint", "127.0.0.1:7000",
                                "--key-file", key_file, "--update-period-s", "1"});
  struct stat st{};
  ASSERT_EQ(::stat(key_file.c_str(), &st), 0) << "the key file was not created";
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::vector<std::string> eps{first};
  for (int i = 1; i < 20; ++i)
    eps.push_back(serve("p" + std::to_string(i), {"--peer", first}));
  // The 5 replicas of ffn.0.0 among the 20, by id.
  auto uid_key = node_id::of_key("ffn.0.0");
  std::vector<std::pair<node_id, std::string>> by_id;
  for (const auto& ep : eps) {
    auto st = remote(ep).stats();
    ASSERT_TRUE(st) << describe(st.error());
    by_id.emplace_back(*id_from_wire(st->self.id), ep);
  }
  std::sort(by_id.begin(), by_id.end(),
            [&](const auto& a, const auto& b) { return nearer(uid_key, a.first, b.first); });
  auto holds_honest = [&](const std::string& ep) {
    caf::scoped_actor self{sys_};
    bool ok = false;
    auto front = caf::io::remote_actor<peer_front_actor>(sys_, "127.0.0.1",
                                                         parse_endpoint(ep)->port);
    if (!front)
      return false;
    self->request(*front, 5s, dht_find_request{dht_peer{}, true, {to_wire(uid_key)}})
      .receive(
        [&](const dht_find_reply& r) {
          ok = r.results.size() == 1 && r.results[0].found
               && expert_endpoint("ffn.0.0", dht_get_result{true, r.results[0].value, 0})
                    == honest_ep;
        },
        [](caf::error&) {});
    return ok;
  };
  ASSERT_TRUE(eventually(
    [&] {
      for (size_t i = 0; i < 5; ++i)
        if (!holds_honest(by_id[i].second))
          return false;
      return true;
    },
    30s))
    << "the honest declaration did not reach its 5 replicas";

  // Forgeries through a hostile peer's put: its own key, and unsigned.
  auto hostile_key = identity::node_key::generate();
  auto exp = unix_time() + 300; // later than the honest records
  auto forged = [&](const std::string& key, bool has_subkey, const std::string& subkey) {
    return dht_put_item{key, has_subkey, subkey,
                        seal(hostile_key, node_id::of_key(key), has_subkey, subkey,
                             "127.0.0.1:6666", exp),
                        exp};
  };
  auto hostile = join(eps[3]);
  auto acks = hostile.put({forged("ffn.0.0", false, ""), forged("ffn.0.", true, "0"),
                           dht_put_item{"ffn.0.0", false, "", "127.0.0.1:6666", exp},
                           dht_put_item{"ffn.0.", true, "0", "127.0.0.1:6666", exp}});
  ASSERT_TRUE(acks) << describe(acks.error());
  EXPECT_EQ(*acks, (std::vector<uint32_t>{0, 0, 0, 0})) << "a replica took a forgery";

  // A tampered honest record, stored directly on every peer.
  auto got = hostile.get_one("ffn.0.0");
  ASSERT_TRUE(got && got->found && !got->value.values.empty());
  auto honest_value = got->value.values.front();
  auto moved = honest_value.value;
  moved.replace(moved.size() - 4, 4, "6666"); // 127.0.0.1:7000 -> :6666
  std::vector<dht_store_item> tampered{
    {to_wire(uid_key), false, "", moved, honest_value.expiration},
    {to_wire(uid_key), false, "", honest_value.value, honest_value.expiration + 100}};
  for (const auto& ep : eps) {
    auto front = caf::io::remote_actor<peer_front_actor>(sys_, "127.0.0.1",
                                                         parse_endpoint(ep)->port);
    ASSERT_TRUE(front);
    caf::scoped_actor self{sys_};
    self->request(*front, 5s, dht_store_request{dht_peer{}, true, tampered})
      .receive(
        [&](const dht_store_reply& r) {
          EXPECT_EQ(r.accepted, (std::vector<uint8_t>{0, 0})) << ep << " took a tampered record";
        },
        [&](caf::error& err) { ADD_FAILURE() << ep << ": " << describe(err); });
  }
  uint64_t refused = 0;
  for (size_t i = 0; i < 5; ++i)
    refused += value_or(remote(by_id[i].second).stats(), dht_peer_stats{}).refused;
  EXPECT_GE(refused, 5u * 2); // each replica: at least the two tampered items

  // Readers through three different peers see the honest endpoint only.
  for (auto i : {5, 11, 17}) {
    auto reader = join(eps[static_cast<size_t>(i)]);
    auto found = get_experts(reader, {"ffn.0.0"});
    ASSERT_TRUE(found) << describe(found.error());
    EXPECT_EQ((*found)[0], honest_ep);
    auto row = get_active_successors(reader, "ffn.0.");
    ASSERT_TRUE(row) << describe(row.error());
    EXPECT_EQ(*row, (std::map<int64_t, endpoint>{{0, honest_ep}}));
  }
}

TEST_F(DhtProcessTest, AKeyFileReadableByOthersIsRefusedAtStart) {
  auto key_file = dir_ + "/open.key";
  {
    auto made = identity::node_key::load_or_create(key_file);
    ASSERT_TRUE(made) << describe(made.error());
  }
  ASSERT_EQ(::chmod(key_file.c_str(), 0644), 0);
  auto served = cli({"dht", "serve", "--key-file", key_file, "--experts", "ffn.0.0",
                     "--expert-endpoint", "127.0.0.1:7000"});
  EXPECT_EQ(served.code, 2) << served.err;
  EXPECT_NE(served.err.find(key_file), std::string::npos) << served.err;
  EXPECT_NE(served.err.find("chmod 600"), std::string::npos) << served.err;
}
