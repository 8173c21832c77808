#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "messages/errc.hpp"
#include "actors/dht/node_dht.hpp"
#include "runtime/node_config.hpp"

using namespace colony;

namespace {

constexpr const char* full_config = R"(
node:
  host: 0.0.0.0
  port: 31337
  scheduler_threads: 4
  torch_threads: 8
  compute_slots: 2
  max_message_bytes: 1048576
log:
  level: debug
  file: /tmp/colony.log
experts:
  - uid: ffn.0.*
    count: 16
    max_batch_size: 128
    module:
      type: ffn
      seed: 42
      input_dim: 1024
      hidden_dim: 4096
      output_dim: 1024
    optimizer:
      type: sgd
      lr: 0.05
      momentum: 0.9
      weight_decay: 1e-4
      clip_grad_norm: 1.5
      warmup_steps: 10
      total_steps: 1000
    checkpoint:
      dir: /var/lib/colony/ckpt
      every_updates: 100
      load: false
  - uid: head.1
    module:
      type: linear
      dim: 8
)";

/// A valid config with one expert group whose body lines are `group`.
std::string with_group(const std::string& group) {
  return "experts:\n  - uid: ffn.0.*\n    module:\n      type: ffn\n" + group;
}

/// Asserts that `yaml` fails with bad_config and a context containing every
/// string in `parts`.
void expect_bad(const std::string& yaml, std::initializer_list<std::string> parts) {
  auto cfg = parse_node_config(yaml);
  ASSERT_FALSE(cfg) << "accepted:\n" << yaml;
  EXPECT_EQ(code_of(cfg.error()), errc::bad_config);
  auto ctx = context_of(cfg.error());
  for (const auto& part : parts)
    EXPECT_NE(ctx.find(part), std::string::npos)
      << "context '" << ctx << "' lacks '" << part << "'";
}

} // namespace

TEST(NodeConfigTest, FullConfigParses) {
  auto cfg = parse_node_config(full_config);
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->host, "0.0.0.0");
  EXPECT_EQ(cfg->port, 31337);
  EXPECT_EQ(cfg->scheduler_threads, 4u);
  EXPECT_EQ(cfg->torch_threads, 8u);
  EXPECT_EQ(cfg->compute_slots, 2u);
  EXPECT_EQ(cfg->max_message_bytes, 1048576u);
  EXPECT_EQ(cfg->log.level, "debug");
  EXPECT_EQ(cfg->log.file, "/tmp/colony.log");
  ASSERT_EQ(cfg->experts.size(), 2u);
  const auto& g = cfg->experts[0];
  EXPECT_EQ(g.uid, "ffn.0.*");
  EXPECT_EQ(g.count, 16u);
  EXPECT_EQ(g.max_batch_size, 128u);
  EXPECT_EQ(g.module.type, "ffn");
  EXPECT_EQ(g.module.seed, 42u);
  EXPECT_EQ(g.module.params,
            (std::map<std::string, double>{
              {"input_dim", 1024}, {"hidden_dim", 4096}, {"output_dim", 1024}}));
  EXPECT_EQ(g.optimizer.type, "sgd");
  EXPECT_DOUBLE_EQ(g.optimizer.lr, 0.05);
  EXPECT_DOUBLE_EQ(g.optimizer.momentum, 0.9);
  EXPECT_DOUBLE_EQ(g.optimizer.weight_decay, 1e-4);
  EXPECT_DOUBLE_EQ(g.optimizer.clip_grad_norm, 1.5);
  EXPECT_EQ(g.optimizer.warmup_steps, 10u);
  EXPECT_EQ(g.optimizer.total_steps, 1000u);
  EXPECT_EQ(g.checkpoint.dir, "/var/lib/colony/ckpt");
  EXPECT_EQ(g.checkpoint.every_updates, 100u);
  EXPECT_FALSE(g.checkpoint.load);
  EXPECT_EQ(cfg->experts[1].uid, "head.1");
  EXPECT_EQ(cfg->experts[1].module.params.at("dim"), 8);
}

TEST(NodeConfigTest, DefaultsApply) {
  auto cfg = parse_node_config("experts:\n  - uid: ffn.3\n    module: {type: ffn}\n");
  ASSERT_TRUE(cfg) << describe(cfg.error());
  node_config defaults;
  EXPECT_EQ(cfg->host, defaults.host);
  EXPECT_EQ(cfg->port, defaults.port);
  EXPECT_EQ(cfg->scheduler_threads, defaults.scheduler_threads);
  EXPECT_EQ(cfg->torch_threads, defaults.torch_threads);
  EXPECT_EQ(cfg->compute_slots, defaults.compute_slots);
  EXPECT_EQ(cfg->max_message_bytes, defaults.max_message_bytes);
  EXPECT_EQ(cfg->log.level, "info");
  EXPECT_EQ(cfg->log.file, "");
  EXPECT_EQ(cfg->log.format, "text");
  EXPECT_EQ(cfg->log.max_file_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(cfg->log.max_files, 5u);
  EXPECT_EQ(cfg->log.ring_lines, 10000u);
  ASSERT_EQ(cfg->experts.size(), 1u);
  const auto& g = cfg->experts[0];
  EXPECT_EQ(g.count, 1u);
  EXPECT_EQ(g.max_batch_size, 256u);
  EXPECT_EQ(g.module.seed, 0u);
  EXPECT_TRUE(g.module.params.empty());
  EXPECT_EQ(g.optimizer.type, "adam");
  EXPECT_DOUBLE_EQ(g.optimizer.lr, 1e-3);
  EXPECT_DOUBLE_EQ(g.optimizer.beta1, 0.9);
  EXPECT_DOUBLE_EQ(g.optimizer.beta2, 0.999);
  EXPECT_DOUBLE_EQ(g.optimizer.eps, 1e-8);
  EXPECT_EQ(g.checkpoint.dir, "");
  EXPECT_EQ(g.checkpoint.every_updates, 0u);
  EXPECT_TRUE(g.checkpoint.load);
}

TEST(NodeConfigTest, NullSectionsMeanDefaults) {
  auto cfg = parse_node_config(with_group("    optimizer:\n    checkpoint:\n")
                               + "node:\nlog:\n");
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->experts[0].optimizer.type, "adam");
}

TEST(NodeConfigTest, UnknownKeysAreRejected) {
  expect_bad("foo: 1\n" + with_group(""), {"unknown key 'foo'", "top level",
                                           "node, log, experts"});
  expect_bad("node:\n  prot: 80\n" + with_group(""), {"unknown key 'prot' in node"});
  expect_bad("log:\n  levle: info\n" + with_group(""), {"unknown key 'levle' in log"});
  expect_bad(with_group("    optimizer:\n      foo: 1\n"),
             {"unknown key 'foo' in experts[0].optimizer", "lr", "momentum"});
  expect_bad(with_group("    checkpoint:\n      path: /x\n"),
             {"unknown key 'path' in experts[0].checkpoint", "every_updates"});
  expect_bad(with_group("    replicas: 2\n"), {"unknown key 'replicas' in experts[0]"});
}

TEST(NodeConfigTest, LogSectionKeysParse) {
  auto cfg = parse_node_config("log:\n  level: warn\n  file: /tmp/n.log\n  format: json\n"
                               "  max_file_bytes: 4096\n  max_files: 3\n  ring_lines: 50\n"
                               + with_group(""));
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->log.level, "warn");
  EXPECT_EQ(cfg->log.file, "/tmp/n.log");
  EXPECT_EQ(cfg->log.format, "json");
  EXPECT_EQ(cfg->log.max_file_bytes, 4096u);
  EXPECT_EQ(cfg->log.max_files, 3u);
  EXPECT_EQ(cfg->log.ring_lines, 50u);
}

TEST(NodeConfigTest, BadLogValuesAreRejectedNamingTheKey) {
  auto log = [](const std::string& line) { return "log:\n  " + line + "\n" + with_group(""); };
  expect_bad(log("format: xml"), {"log.format", "'xml' is not one of text|json"});
  expect_bad(log("max_files: 0"), {"log.max_files: 0 out of range"});
  expect_bad(log("ring_lines: -1"), {"log.ring_lines: -1 out of range"});
  expect_bad(log("ring_lines: 0"), {"log.ring_lines"});
  expect_bad(log("max_file_bytes: 10"), {"log.max_file_bytes: 10 out of range"});
  expect_bad(log("max_file_bytes: big"), {"log.max_file_bytes: expected an integer"});
  expect_bad(log("file: [a]"), {"log.file: expected a string"});
}

TEST(NodeConfigTest, DuplicateKeysAreRejected) {
  expect_bad("node:\n  port: 1\n  port: 2\n" + with_group(""), {"node.port", "duplicate"});
}

TEST(NodeConfigTest, WrongTypesAreRejected) {
  expect_bad(with_group("    optimizer:\n      lr: fast\n"),
             {"experts[0].optimizer.lr: expected a number, got 'fast'"});
  expect_bad("node:\n  port: eighty\n" + with_group(""),
             {"node.port: expected an integer, got 'eighty'"});
  expect_bad("node:\n  scheduler_threads: 1.5\n" + with_group(""),
             {"node.scheduler_threads: expected an integer"});
  expect_bad("node:\n  host: [a, b]\n" + with_group(""), {"node.host: expected a string"});
  expect_bad("node: 5\n" + with_group(""), {"node: expected a map, got '5'"});
  expect_bad(with_group("    checkpoint:\n      load: maybe\n"),
             {"experts[0].checkpoint.load: expected true or false, got 'maybe'"});
  expect_bad(with_group("      hidden_dim: big\n"),
             {"experts[0].module.hidden_dim: expected a number, got 'big'"});
  expect_bad(with_group("      seed: -1\n"), {"experts[0].module.seed"});
  expect_bad("experts: {uid: a.0}\n", {"experts: expected a list"});
  expect_bad("experts:\n  - 7\n", {"experts[0]: expected a map, got '7'"});
  expect_bad("- 1\n- 2\n", {"top level", "expected a map"});
  expect_bad("log:\n  level: verbose\n" + with_group(""),
             {"log.level", "'verbose'", "trace|debug|info|warn|error|off"});
  expect_bad(with_group("    optimizer:\n      type: rmsprop\n"),
             {"experts[0].optimizer.type", "adam|sgd"});
}

TEST(NodeConfigTest, OutOfRangeValuesAreRejected) {
  expect_bad("node:\n  port: 70000\n" + with_group(""),
             {"node.port: 70000 out of range 0..65535"});
  expect_bad("node:\n  port: -1\n" + with_group(""), {"node.port: -1 out of range"});
  expect_bad("node:\n  scheduler_threads: 0\n" + with_group(""),
             {"node.scheduler_threads: 0 out of range"});
  expect_bad("node:\n  compute_slots: 0\n" + with_group(""), {"node.compute_slots"});
  expect_bad("node:\n  max_message_bytes: 1000\n" + with_group(""),
             {"node.max_message_bytes: 1000 out of range >= 1024"});
  expect_bad("node:\n  max_message_bytes: 99999999999999999999999\n" + with_group(""),
             {"node.max_message_bytes", "out of range"});
  expect_bad("experts:\n  - uid: a.*\n    count: 0\n    module: {type: ffn}\n",
             {"experts[0].count: 0 out of range"});
  expect_bad(with_group("    max_batch_size: 0\n"), {"experts[0].max_batch_size"});
}

TEST(NodeConfigTest, OptimizerRangesAreChecked) {
  auto opt = [](const std::string& body) {
    return with_group("    optimizer:\n      " + body + "\n");
  };
  expect_bad(opt("lr: 0"), {"experts[0].optimizer.lr: 0 out of range > 0"});
  expect_bad(opt("lr: -1e-3"), {"experts[0].optimizer.lr"});
  expect_bad(opt("momentum: 1"), {"experts[0].optimizer.momentum: 1 out of range [0, 1)"});
  expect_bad(opt("beta1: -0.1"), {"experts[0].optimizer.beta1"});
  expect_bad(opt("beta2: 1.0"), {"experts[0].optimizer.beta2"});
  expect_bad(opt("eps: 0"), {"experts[0].optimizer.eps"});
  expect_bad(opt("weight_decay: -1"), {"experts[0].optimizer.weight_decay"});
  expect_bad(opt("clip_grad_norm: -0.5"), {"experts[0].optimizer.clip_grad_norm"});
  expect_bad(opt("lr: .inf"), {"experts[0].optimizer.lr: expected a number"});
  expect_bad(opt("warmup_steps: -3"), {"experts[0].optimizer.warmup_steps"});
  expect_bad(opt("warmup_steps: 100\n      total_steps: 100"),
             {"experts[0].optimizer.total_steps", "warmup_steps"});
  EXPECT_TRUE(parse_node_config(opt("warmup_steps: 100\n      total_steps: 0")));
  EXPECT_TRUE(parse_node_config(opt("momentum: 0\n      beta1: 0\n      weight_decay: 0")));
}

TEST(NodeConfigTest, AccumulateRowsParsesAndDefaultsToZero) {
  auto cfg = parse_node_config(with_group("    optimizer:\n      accumulate_rows: 256\n"));
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->experts[0].optimizer.accumulate_rows, 256u);
  cfg = parse_node_config(with_group(""));
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->experts[0].optimizer.accumulate_rows, 0u);
}

TEST(NodeConfigTest, BadAccumulateRowsAreRejected) {
  auto opt = [](const std::string& value) {
    return with_group("    optimizer:\n      accumulate_rows: " + value + "\n");
  };
  expect_bad(opt("-8"), {"experts[0].optimizer.accumulate_rows: -8 out of range >= 0"});
  expect_bad(opt("2.5"),
             {"experts[0].optimizer.accumulate_rows: expected an integer, got '2.5'"});
  expect_bad(opt("many"), {"experts[0].optimizer.accumulate_rows: expected an integer"});
}

TEST(NodeConfigTest, CheckpointOnMismatchParsesAndDefaultsToFail) {
  auto cfg = parse_node_config(with_group("    checkpoint:\n      on_mismatch: fresh\n"));
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->experts[0].checkpoint.on_mismatch, "fresh");
  cfg = parse_node_config(with_group("    checkpoint:\n      on_mismatch: fail\n"));
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->experts[0].checkpoint.on_mismatch, "fail");
  cfg = parse_node_config(with_group("    checkpoint:\n      dir: /x\n"));
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->experts[0].checkpoint.on_mismatch, "fail");
}

TEST(NodeConfigTest, BadCheckpointOnMismatchIsRejectedNamingTheKey) {
  auto cfg = parse_node_config(with_group("    checkpoint:\n      on_mismatch: overwrite\n"));
  ASSERT_FALSE(cfg);
  EXPECT_EQ(code_of(cfg.error()), errc::bad_config);
  EXPECT_EQ(context_of(cfg.error()),
            "experts[0].checkpoint.on_mismatch: 'overwrite' is not one of fail|fresh");
  expect_bad(with_group("    checkpoint:\n      on_mismatch: [fail]\n"),
             {"experts[0].checkpoint.on_mismatch: expected a string"});
}

TEST(NodeConfigTest, MissingRequiredKeysAreRejected) {
  expect_bad("node:\n  port: 1\n", {"experts: required"});
  expect_bad("", {"experts: required"});
  expect_bad("experts: []\n", {"experts", "non-empty"});
  expect_bad("experts:\n  - module: {type: ffn}\n", {"experts[0].uid: required"});
  expect_bad("experts:\n  - uid: a.0\n", {"experts[0].module: required"});
  expect_bad("experts:\n  - uid: a.0\n    module: {dim: 4}\n",
             {"experts[0].module.type: required"});
  expect_bad("experts:\n  - uid: a.0\n    module: {type: ''}\n",
             {"experts[0].module.type"});
}

TEST(NodeConfigTest, BadUidsAreRejected) {
  for (auto uid : {"ffn", "ffn.", ".0", "1ffn.0", "ffn.01", "ffn.*.0", "ffn.-1", "ffn.0.",
                   "ffn..0", "ffn.a", "ffn.0*", "ffn-x.0", "*", "ffn.0.**", "ffn.+1",
                   "ffn.9223372036854775808", ".*", "ffn.*.*"}) {
    SCOPED_TRACE(uid);
    expect_bad(std::string{"experts:\n  - uid: '"} + uid + "'\n    module: {type: ffn}\n",
               {"experts[0].uid", std::string{"'"} + uid + "'"});
  }
  std::string long_uid = "a";
  for (int i = 0; i < 50000; ++i)
    long_uid += ".1";
  EXPECT_TRUE(parse_node_config("experts:\n  - uid: " + long_uid + "\n    module: {type: ffn}\n"));
  for (auto uid : {"ffn.0", "ffn.*", "ffn_2.0.15", "_x.0.*", "A9.10.0"}) {
    SCOPED_TRACE(uid);
    auto cfg = parse_node_config(std::string{"experts:\n  - uid: '"} + uid
                                 + "'\n    module: {type: ffn}\n");
    EXPECT_TRUE(cfg) << describe(cfg.error());
  }
}

TEST(NodeConfigTest, CountAboveOneNeedsStar) {
  expect_bad("experts:\n  - uid: ffn.0.1\n    count: 4\n    module: {type: ffn}\n",
             {"experts[0].count", "ffn.0.1", "'*'"});
}

TEST(NodeConfigTest, DuplicateUidsAreRejected) {
  auto two = [](const std::string& a, long long count_a, const std::string& b) {
    return "experts:\n  - uid: " + a + "\n    count: " + std::to_string(count_a)
           + "\n    module: {type: ffn}\n  - uid: " + b + "\n    module: {type: ffn}\n";
  };
  expect_bad(two("ffn.0.*", 4, "ffn.0.3"), {"experts[1].uid", "'ffn.0.3'", "experts[0]"});
  expect_bad(two("ffn.0.*", 4, "ffn.0.*"), {"experts[1].uid", "'ffn.0.0'"});
  expect_bad(two("ffn.0.7", 1, "ffn.0.7"), {"experts[1].uid", "'ffn.0.7'"});
  expect_bad("experts:\n  - uid: a.2\n    module: {type: ffn}\n"
             "  - uid: a.*\n    count: 3\n    module: {type: ffn}\n",
             {"experts[1].uid", "'a.2'"});
  expect_bad(two("big.*", 4000000000, "big.3999999999"), {"'big.3999999999'"});
  EXPECT_TRUE(parse_node_config(two("big.*", 4000000000, "big.4000000000")));
  EXPECT_TRUE(parse_node_config(two("ffn.0.*", 4, "ffn.0.4")));
  EXPECT_TRUE(parse_node_config(two("ffn.0.*", 4, "ffn.1.0")));
  EXPECT_TRUE(parse_node_config(two("ffn.*", 4, "ffn.0.0")));
  EXPECT_TRUE(parse_node_config(two("ffn.0.*", 4, "ffn.0.9223372036854775807")));
}

TEST(NodeConfigTest, SyntaxErrorsNameTheLine) {
  expect_bad("node:\n  port: 1\n  host: [a, b\nlog: {}\n", {"line"});
  expect_bad("node:\n\tport: 1\n", {"line"});
}

TEST(NodeConfigTest, ExpandUids) {
  expert_group_config g;
  g.uid = "ffn.0.*";
  g.count = 3;
  EXPECT_EQ(expand_uids(g), (std::vector<std::string>{"ffn.0.0", "ffn.0.1", "ffn.0.2"}));
  g.count = 1;
  EXPECT_EQ(expand_uids(g), (std::vector<std::string>{"ffn.0.0"}));
  g.uid = "head.*";
  g.count = 12;
  auto uids = expand_uids(g);
  ASSERT_EQ(uids.size(), 12u);
  EXPECT_EQ(uids.back(), "head.11");
  g.uid = "ffn.2.5";
  g.count = 1;
  EXPECT_EQ(expand_uids(g), (std::vector<std::string>{"ffn.2.5"}));
}

TEST(NodeConfigTest, LoadMissingFileIsIoFailed) {
  auto cfg = load_node_config("/nonexistent/colony/node.yaml");
  ASSERT_FALSE(cfg);
  EXPECT_EQ(code_of(cfg.error()), errc::io_failed);
  EXPECT_NE(context_of(cfg.error()).find("/nonexistent/colony/node.yaml"), std::string::npos);
  EXPECT_EQ(code_of(load_node_config("/tmp").error()), errc::io_failed);
}

TEST(NodeConfigTest, LoadReadsAFile) {
  auto path = testing::TempDir() + "node_config_test.yaml";
  {
    std::ofstream out{path};
    out << full_config;
  }
  auto cfg = load_node_config(path);
  ASSERT_TRUE(cfg) << describe(cfg.error());
  EXPECT_EQ(cfg->port, 31337);
  {
    std::ofstream out{path};
    out << "node:\n  port: 70000\n";
  }
  auto bad_cfg = load_node_config(path);
  ASSERT_FALSE(bad_cfg);
  EXPECT_EQ(code_of(bad_cfg.error()), errc::bad_config);
  EXPECT_NE(context_of(bad_cfg.error()).find("node.port"), std::string::npos);
  std::remove(path.c_str());
}

TEST(NodeConfigTest, ShippedConfigsParse) {
  std::string src = __FILE__;
  auto root = src.substr(0, src.rfind("tests/unit/"));
  auto local = load_node_config(root + "deploy/configs/local-node.yaml");
  ASSERT_TRUE(local) << describe(local.error());
  EXPECT_EQ(expand_uids(local->experts.at(0)),
            (std::vector<std::string>{"ffn.0.0", "ffn.0.1", "ffn.0.2", "ffn.0.3"}));
  EXPECT_EQ(local->experts[0].checkpoint.dir, "/tmp/colony-ckpt");
  auto bench = load_node_config(root + "deploy/configs/bench-node.yaml");
  ASSERT_TRUE(bench) << describe(bench.error());
  EXPECT_EQ(bench->experts.at(0).max_batch_size, 1024u);
  EXPECT_EQ(bench->experts[0].optimizer.type, "sgd");
  EXPECT_TRUE(bench->experts[0].checkpoint.dir.empty());
}

TEST(NodeConfigTest, DhtSectionParses) {
  auto cfg = parse_node_config(with_group("")
                               + "node: {host: 10.0.0.5}\n"
                                 "dht:\n"
                                 "  port: 4100\n"
                                 "  initial_peers: [10.0.0.1:4100, 'peer.example:4101']\n"
                                 "  client_mode: true\n"
                                 "  expiration_s: 30\n"
                                 "  update_period_s: 5\n"
                                 "  rpc_timeout_ms: 1500\n"
                                 "  k: 16\n"
                                 "  alpha: 4\n"
                                 "  num_replicas: 3\n"
                                 "  values_wanted: 2\n"
                                 "  value_grace_ms: 400\n"
                                 "  rpc_timeout_min_ms: 200\n"
                                 "  republish_s: 45\n"
                                 "  hand_off: false\n"
                                 "  read_repair: false\n");
  ASSERT_TRUE(cfg) << describe(cfg.error());
  ASSERT_TRUE(cfg->dht);
  const auto& d = *cfg->dht;
  EXPECT_EQ(d.host, "10.0.0.5"); // the node's host by default
  EXPECT_EQ(d.port, 4100);
  EXPECT_EQ(d.initial_peers, (std::vector<std::string>{"10.0.0.1:4100", "peer.example:4101"}));
  EXPECT_TRUE(d.client_mode);
  EXPECT_DOUBLE_EQ(d.expiration_s, 30);
  EXPECT_DOUBLE_EQ(d.update_period(), 5);
  EXPECT_EQ(d.rpc_timeout_ms, 1500u);
  EXPECT_EQ(d.k, 16u);
  EXPECT_EQ(d.alpha, 4u);
  EXPECT_EQ(d.num_replicas, 3u);
  EXPECT_EQ(d.values_wanted, 2u);
  EXPECT_EQ(d.value_grace_ms, 400u);
  auto peer = dht::peer_config_of(d);
  EXPECT_EQ(peer.values_wanted, 2u);
  EXPECT_EQ(peer.value_grace, std::chrono::milliseconds{400});
  EXPECT_EQ(peer.rpc_timeout_min, std::chrono::milliseconds{200});
  EXPECT_DOUBLE_EQ(peer.republish_s, 45);
  EXPECT_FALSE(peer.hand_off);
  EXPECT_FALSE(peer.read_repair);
}

TEST(NodeConfigTest, DhtDefaultsAndAbsence) {
  auto without = parse_node_config(with_group(""));
  ASSERT_TRUE(without);
  EXPECT_FALSE(without->dht);
  auto cfg = parse_node_config(with_group("") + "dht: {host: 127.0.0.2}\n");
  ASSERT_TRUE(cfg) << describe(cfg.error());
  ASSERT_TRUE(cfg->dht);
  EXPECT_EQ(cfg->dht->host, "127.0.0.2");
  EXPECT_EQ(cfg->dht->port, 0);
  EXPECT_TRUE(cfg->dht->initial_peers.empty());
  EXPECT_FALSE(cfg->dht->client_mode);
  EXPECT_DOUBLE_EQ(cfg->dht->expiration_s, 60);
  EXPECT_DOUBLE_EQ(cfg->dht->update_period(), 20);
  EXPECT_EQ(cfg->dht->rpc_timeout_ms, 3000u);
  EXPECT_EQ(cfg->dht->k, 20u);
  EXPECT_EQ(cfg->dht->alpha, 3u);
  EXPECT_EQ(cfg->dht->num_replicas, 5u);
  EXPECT_EQ(cfg->dht->values_wanted, 3u);
  EXPECT_EQ(cfg->dht->value_grace_ms, 250u);
}

TEST(NodeConfigTest, DhtSectionIsValidated) {
  expect_bad(with_group("") + "dht: {prot: 1}\n", {"unknown key 'prot' in dht", "initial_peers"});
  expect_bad(with_group("") + "dht: {initial_peers: 10.0.0.1:4000}\n",
             {"dht.initial_peers", "expected a list"});
  expect_bad(with_group("") + "dht: {initial_peers: [10.0.0.1:4000, nohost]}\n",
             {"dht.initial_peers[1]", "nohost"});
  expect_bad(with_group("") + "dht: {initial_peers: ['h:0']}\n",
             {"dht.initial_peers[0]", "out of range"});
  expect_bad(with_group("") + "dht: {expiration_s: 0}\n", {"dht.expiration_s", "out of range"});
  expect_bad(with_group("") + "dht: {k: 0}\n", {"dht.k", "out of range"});
  expect_bad(with_group("") + "dht: {rpc_timeout_ms: soon}\n",
             {"dht.rpc_timeout_ms", "expected an integer"});
  expect_bad(with_group("") + "dht: {expiration_s: 10, update_period_s: 10}\n",
             {"dht.update_period_s", "must be less than expiration_s (10)"});
  expect_bad(with_group("") + "dht: 5\n", {"dht", "expected a map"});
}

TEST(NodeConfigTest, DhtTimeoutFloorAboveTheMaximumIsRefused) {
  auto cfg = parse_node_config(with_group("") + "dht: {rpc_timeout_ms: 1000, rpc_timeout_min_ms: 2000}\n");
  ASSERT_FALSE(cfg);
  EXPECT_NE(describe(cfg.error()).find("dht.rpc_timeout_min_ms"), std::string::npos)
    << describe(cfg.error());
}
