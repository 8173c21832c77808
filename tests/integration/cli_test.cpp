// The `colony` CLI end to end against a colony-node process: exit codes and
// the lines it prints, torch.save files in and out, usage errors.
#include <algorithm>

#include <torch/csrc/jit/serialization/pickle.h>

#include "tests/integration/integration_support.hpp"

namespace colony::it {
namespace {

class CliTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<temp_dir>();
    write_file(dir_->file("node.yaml"), ffn_node_yaml());
    node_ = std::make_unique<node_process>(*dir_, dir_->file("node.yaml"), "cli");
  }

  static void TearDownTestSuite() {
    node_.reset();
    dir_.reset();
  }

  void SetUp() override { ASSERT_TRUE(node_->ready()) << node_->error(); }

  static command_result run_cli(std::vector<std::string> args) {
    args.insert(args.begin(), COLONY_CLI_BIN);
    return run_command(args, *dir_);
  }

  static std::string node_arg() { return node_->where().to_string(); }

  static inline std::unique_ptr<temp_dir> dir_;
  static inline std::unique_ptr<node_process> node_;
};

/// Writes `v` (a tensor or a list of tensors) as torch.save would.
void save_pt(const std::string& path, const c10::IValue& v) {
  auto bytes = torch::pickle_save(v);
  write_file(path, std::string{bytes.begin(), bytes.end()});
}

/// Reads a torch.save file of one tensor (throws when it is something else).
torch::Tensor load_pt(const std::string& path) {
  auto text = read_file(path);
  return torch::pickle_load(std::vector<char>{text.begin(), text.end()}).toTensor();
}

/// The single stderr line of a failed run (empty when there are others).
std::string only_line(const std::string& err) {
  auto ls = lines_of(err);
  return ls.size() == 1 ? ls[0] : std::string{};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool has_line(const std::string& text, const std::string& line) {
  auto ls = lines_of(text);
  return std::find(ls.begin(), ls.end(), line) != ls.end();
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

TEST_F(CliTest, ExpertInfoPrintsSchemaAndExitsZero) {
  auto r = run_cli({"expert", "info", "--node", node_arg(), "--uid", "ffn.0.1"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has_line(r.out, "uid: ffn.0.1")) << r.out;
  EXPECT_TRUE(has_line(r.out, "module: ffn")) << r.out;
  EXPECT_TRUE(has_line(r.out, "input[0]: [B, 8] float32")) << r.out;
  EXPECT_TRUE(has_line(r.out, "output[0]: [B, 8] float32")) << r.out;
  EXPECT_TRUE(has_line(r.out, "max_batch_size: 64")) << r.out;
  EXPECT_TRUE(has_line(r.out, "parameters: " + std::to_string(8 * 16 + 16 + 16 * 8 + 8)))
    << r.out;
}

TEST_F(CliTest, ExpertForwardPrintsOutputShapeAndExitsZero) {
  auto r = run_cli({"expert", "forward", "--node", node_arg(), "--uid", "ffn.0.2", "--batch",
                   "4"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has_line(r.out, "output[0]: [4, 8] float32")) << r.out;
  EXPECT_NE(r.out.find("round_trip_ms:"), std::string::npos) << r.out;
}

TEST_F(CliTest, ExpertListPrintsEveryUid) {
  auto r = run_cli({"expert", "list", "--node", node_arg()});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines_of(r.out),
            (std::vector<std::string>{"ffn.0.0", "ffn.0.1", "ffn.0.2", "ffn.0.3"}));
}

TEST_F(CliTest, UnknownUidExitsTwoWithOneErrorLine) {
  auto r = run_cli({"expert", "info", "--node", node_arg(), "--uid", "ffn.7.7"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2);
  auto ls = lines_of(r.err);
  ASSERT_EQ(ls.size(), 1u) << r.err;
  EXPECT_TRUE(starts_with(ls[0], "colony: error:")) << ls[0];
  EXPECT_NE(ls[0].find("unknown_expert"), std::string::npos) << ls[0];
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(CliTest, DeadPortExitsTwoMentioningUnreachable) {
  auto port = dead_port();
  auto r = run_cli({"expert", "forward", "--node", "127.0.0.1:" + std::to_string(port), "--uid",
                   "ffn.0.0", "--batch", "4", "--timeout-ms", "2000"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2);
  auto ls = lines_of(r.err);
  ASSERT_EQ(ls.size(), 1u) << r.err;
  EXPECT_TRUE(starts_with(ls[0], "colony: error:")) << ls[0];
  EXPECT_NE(ls[0].find("unreachable"), std::string::npos) << ls[0];
  EXPECT_LT(r.took_ms, 10000);
}

TEST_F(CliTest, ForwardOfAnInputFileWritesOutputsEqualToTheLocalModule) {
  auto x = seeded_randn({3, 8}, 41);
  save_pt(dir_->file("fwd_in.pt"), x);
  auto out_path = dir_->file("fwd_out.pt");
  auto r = run_cli({"expert", "forward", "--node", node_arg(), "--uid", "ffn.0.2", "--input",
                    dir_->file("fwd_in.pt"), "--output", out_path});
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has_line(r.out, "output[0]: [3, 8] float32")) << r.out;
  auto local = local_module(parse_or_throw(ffn_node_yaml()));
  EXPECT_TRUE(near(load_pt(out_path), local_forward(*local, x), 1e-6));
}

TEST_F(CliTest, BackwardWritesInputGradientsEqualToLocalAutograd) {
  auto x = seeded_randn({4, 8}, 51);
  auto g = seeded_randn({4, 8}, 52);
  save_pt(dir_->file("bwd_x.pt"), x);
  save_pt(dir_->file("bwd_g.pt"), g);
  auto out_path = dir_->file("bwd_out.pt");
  auto r = run_cli({"expert", "backward", "--node", node_arg(), "--uid", "ffn.0.3", "--input",
                    dir_->file("bwd_x.pt"), "--grad", dir_->file("bwd_g.pt"), "--output",
                    out_path});
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has_line(r.out, "grad_input[0]: [4, 8] float32")) << r.out;
  auto local = local_module(parse_or_throw(ffn_node_yaml()));
  auto leaf = x.clone().requires_grad_(true);
  torch::autograd::backward(local->forward({leaf}), {g});
  EXPECT_TRUE(near(load_pt(out_path), leaf.grad(), 1e-6));
}

TEST_F(CliTest, WrongShapedInputFileFailsNamingBothShapes) {
  save_pt(dir_->file("wrong.pt"), seeded_randn({3, 5}, 61));
  auto r = run_cli({"expert", "forward", "--node", node_arg(), "--uid", "ffn.0.2", "--input",
                    dir_->file("wrong.pt")});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2);
  auto line = only_line(r.err);
  EXPECT_TRUE(starts_with(line, "colony: error: bad_shape")) << r.err;
  EXPECT_TRUE(contains(line, "input[0] is [3, 5] float32")) << line;
  EXPECT_TRUE(contains(line, "wants [B, 8] float32")) << line;
  EXPECT_TRUE(contains(line, "wrong.pt")) << line;
}

TEST_F(CliTest, FileOfTwoTensorsForOneInputFailsNamingTheCount) {
  save_pt(dir_->file("two.pt"), c10::IValue(std::vector<torch::Tensor>{
                                  seeded_randn({2, 8}, 62), seeded_randn({2, 8}, 63)}));
  auto r = run_cli({"expert", "forward", "--node", node_arg(), "--uid", "ffn.0.2", "--input",
                    dir_->file("two.pt")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(only_line(r.err), "2 tensor(s) given, the expert takes 1 input(s)"))
    << r.err;
}

TEST_F(CliTest, MissingOrGarbageInputFileFailsNamingTheFile) {
  auto missing = dir_->file("missing.pt");
  auto r = run_cli({"expert", "forward", "--node", node_arg(), "--uid", "ffn.0.2", "--input",
                    missing});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(only_line(r.err), "cannot read '" + missing + "'")) << r.err;
  write_file(dir_->file("garbage.pt"), "this is not a tensor");
  r = run_cli({"expert", "backward", "--node", node_arg(), "--uid", "ffn.0.2", "--input",
               dir_->file("garbage.pt"), "--grad", dir_->file("garbage.pt")});
  EXPECT_EQ(r.exit_code, 2);
  auto line = only_line(r.err);
  EXPECT_TRUE(contains(line, "'" + dir_->file("garbage.pt") + "' is not a torch.save file"))
    << r.err;
}

TEST_F(CliTest, TensorEncodeThenDecodeRoundTripsAPtFile) {
  for (auto t : {seeded_randn({2, 3, 4}, 71), torch::arange(6, torch::kInt64).reshape({3, 2}),
                 seeded_randn({5}, 72).to(torch::kHalf)}) {
    save_pt(dir_->file("rt.pt"), t);
    auto enc = run_cli({"tensor", "encode", "--input", dir_->file("rt.pt"), "--output",
                        dir_->file("rt.bin")});
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
    auto wire_t = wire::decode_tensor(read_file(dir_->file("rt.bin")));
    ASSERT_TRUE(ok(wire_t));
    EXPECT_TRUE(torch::equal(*wire_t, t)) << t.dtype();
    auto dec = run_cli({"tensor", "decode", "--input", dir_->file("rt.bin"), "--output",
                        dir_->file("rt_back.pt")});
    ASSERT_EQ(dec.exit_code, 0) << dec.err;
    auto back = load_pt(dir_->file("rt_back.pt"));
    EXPECT_EQ(back.dtype(), t.dtype());
    EXPECT_TRUE(torch::equal(back, t)) << t.dtype();
  }
}

/// Python's torch.save (Debian python3-torch) of a bare tensor, a list of
/// one, a tuple of one and a list of three: colony-pt reads each tensor with
/// its values, and `expert forward` takes the one-item list end to end
/// (LibTorch 1.13 alone refuses it: Python pickles [x] with APPEND).
TEST_F(CliTest, ReadsTensorsListsAndTuplesThatPythonTorchSaveWrote) {
  auto script = "import sys, torch\n"
                "x = torch.arange(24, dtype=torch.float32).reshape(3, 8) / 10\n"
                "d = sys.argv[1]\n"
                "torch.save(x, d + '/bare.pt')\n"
                "torch.save([x], d + '/list1.pt')\n"
                "torch.save((x,), d + '/tuple1.pt')\n"
                "torch.save([x, x + 1, x + 2], d + '/list3.pt')\n";
  auto py = run_command({"/usr/bin/python3", "-c", script, dir_->path()}, *dir_, 120s);
  ASSERT_EQ(py.exit_code, 0) << "python3-torch (deploy/setup.sh installs it): " << py.err;
  auto x = torch::arange(24, torch::kFloat32).reshape({3, 8}) / 10;
  std::string pt_bin = std::filesystem::path{COLONY_CLI_BIN}.parent_path() / "colony-pt";
  for (auto [name, count] : std::vector<std::pair<std::string, int>>{
         {"bare", 1}, {"list1", 1}, {"tuple1", 1}, {"list3", 3}}) {
    SCOPED_TRACE(name);
    auto r = run_command({pt_bin, "read", dir_->file(name + ".pt"), dir_->file(name + ".t"),
                          "none"},
                         *dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, std::to_string(count) + "\n");
    for (int i = 0; i < count; ++i) {
      auto t = wire::decode_tensor(read_file(dir_->file(name + ".t" + std::to_string(i))));
      ASSERT_TRUE(ok(t));
      EXPECT_TRUE(torch::equal(*t, x + i)) << "tensor " << i;
    }
  }
  auto fwd = run_cli({"expert", "forward", "--node", node_arg(), "--uid", "ffn.0.2", "--input",
                      dir_->file("list1.pt"), "--output", dir_->file("list1_out.pt")});
  ASSERT_EQ(fwd.exit_code, 0) << fwd.err;
  auto local = local_module(parse_or_throw(ffn_node_yaml()));
  EXPECT_TRUE(near(load_pt(dir_->file("list1_out.pt")), local_forward(*local, x), 1e-6));
}

TEST_F(CliTest, TensorEncodeWithFloat16CompressionDecodesToHalfPrecisionValues) {
  auto t = seeded_randn({4, 4}, 73);
  save_pt(dir_->file("c.pt"), t);
  auto enc = run_cli({"tensor", "encode", "--input", dir_->file("c.pt"), "--output",
                      dir_->file("c.bin"), "--compression", "float16"});
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  auto dec = run_cli({"tensor", "decode", "--input", dir_->file("c.bin"), "--output",
                      dir_->file("c_back.pt")});
  ASSERT_EQ(dec.exit_code, 0) << dec.err;
  EXPECT_TRUE(torch::equal(load_pt(dir_->file("c_back.pt")), t.to(torch::kHalf).to(torch::kFloat)));
}

TEST_F(CliTest, TensorDecodeOfGarbageFailsNamingTheFile) {
  write_file(dir_->file("bad.bin"), "\xff\xff\xff garbage");
  auto r = run_cli({"tensor", "decode", "--input", dir_->file("bad.bin"), "--output",
                    dir_->file("bad.pt")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(only_line(r.err), "bad.bin")) << r.err;
}

TEST_F(CliTest, UnknownSubcommandIsNamedWithTheValidOnes) {
  auto r = run_cli({"expert", "frobnicate"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "colony expert: unknown subcommand 'frobnicate'; valid "
                              "subcommands: info, forward, backward, list"))
    << r.err;
  r = run_cli({"frob"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.err, "colony: unknown subcommand 'frob'; valid subcommands: expert, "
                              "tensor, dht, experts"))
    << r.err;
  r = run_cli({"tensor"});
  EXPECT_TRUE(contains(r.err, "colony tensor: a subcommand is required; valid subcommands: "
                              "encode, decode"))
    << r.err;
}

TEST_F(CliTest, DhtStoreRejectsTtlsOutsideTheRangeNamingTheValue) {
  for (std::string ttl : {"nan", "1e12", "0", "inf", "-1"}) {
    auto r = run_cli({"dht", "store", "k", "v", "--ttl", ttl, "--peer", "127.0.0.1:1"});
    EXPECT_NE(r.exit_code, 0) << ttl;
    EXPECT_NE(r.exit_code, 2) << ttl << ": must fail at parse time";
    EXPECT_TRUE(contains(r.err, "--ttl: must be a number of seconds in (0, 2592000], got " + ttl))
      << r.err;
    EXPECT_LT(r.err.size(), 200u) << r.err;
  }
}

TEST_F(CliTest, UnbracketedIpv6NodeFailsAskingForBrackets) {
  auto r = run_cli({"expert", "info", "--node", "::1:80", "--uid", "ffn.0.0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(only_line(r.err), "use [ADDR]:PORT")) << r.err;
  r = run_cli({"expert", "info", "--node", "[::1", "--uid", "ffn.0.0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(only_line(r.err), "missing ']'")) << r.err;
}

/// True when a TCP socket can bind to ::1 here.
bool has_ipv6_loopback() {
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

TEST(CliIpv6Test, NodeOnIpv6LoopbackAnswersInfoAtBracketedEndpoint) {
  if (!has_ipv6_loopback())
    GTEST_SKIP() << "no IPv6 loopback (::1) on this machine";
  temp_dir dir;
  auto yaml = ffn_node_yaml();
  auto host = yaml.find("host: 127.0.0.1");
  ASSERT_NE(host, std::string::npos);
  yaml.replace(host, 15, "host: \"::1\"");
  write_file(dir.file("node6.yaml"), yaml);
  node_process node{dir, dir.file("node6.yaml"), "node6"};
  ASSERT_TRUE(node.ready()) << node.error();
  EXPECT_EQ(node.where().host, "::1");
  auto where = node.where().to_string();
  EXPECT_EQ(where, "[::1]:" + std::to_string(node.where().port));
  auto r = run_command({COLONY_CLI_BIN, "expert", "info", "--node", where, "--uid", "ffn.0.0"},
                       dir);
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has_line(r.out, "uid: ffn.0.0")) << r.out;
}

} // namespace
} // namespace colony::it
