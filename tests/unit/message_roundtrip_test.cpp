// Every type registered in messages/registry.cpp survives CAF's binary
// serialization inside an actor system configured like every Colony process.
#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/type_erased_value.hpp>

#include "messages/control_messages.hpp"
#include "messages/errc.hpp"
#include "messages/expert_messages.hpp"
#include "messages/gate_messages.hpp"
#include "runtime/system_config.hpp"

using namespace colony;

namespace {

class MessageRoundTrip : public testing::Test {
protected:
  MessageRoundTrip() : sys_(cfg_) {
    // nop
  }

  /// Serializes `x` and reads it back into a fresh value.
  template <class T>
  T round_trip(T x) {
    caf::binary_serializer::container_type buf;
    caf::binary_serializer sink{sys_, buf};
    auto err = sink(x);
    EXPECT_FALSE(err) << caf::to_string(err);
    EXPECT_FALSE(buf.empty());
    T result{};
    caf::binary_deserializer source{sys_, buf};
    err = source(result);
    EXPECT_FALSE(err) << caf::to_string(err);
    return result;
  }

  /// Checks that `x` comes back with the same textual rendering.
  template <class T>
  void expect_round_trip(T x) {
    auto expected = caf::deep_to_string(x);
    auto result = round_trip(std::move(x));
    EXPECT_EQ(caf::deep_to_string(result), expected);
  }

  system_config cfg_;
  caf::actor_system sys_;
};

tensor_blob blob(std::string bytes) {
  return tensor_blob{std::move(bytes)};
}

/// Bytes with NUL and high-bit characters, like an encoded tensor.
std::string binary_bytes() {
  std::string out;
  for (int i = 0; i < 300; ++i)
    out.push_back(static_cast<char>(i * 7));
  return out;
}

expert_info sample_info() {
  expert_info x;
  x.uid = "ffn.0.3";
  x.module_type = "ffn";
  x.inputs = {tensor_schema{{-1, 512}, "float32"}};
  x.outputs = {tensor_schema{{-1, 512}, "float32"}, tensor_schema{{}, "int64"}};
  x.num_parameters = 1u << 20;
  x.updates = 17;
  x.forward_samples = 4096;
  x.backward_samples = 2048;
  x.forward_batches = 64;
  x.backward_batches = 32;
  x.max_batch_size = 256;
  x.expired_requests = 5;
  x.expired_rows = 1234;
  return x;
}

} // namespace

TEST_F(MessageRoundTrip, TensorBlob) {
  auto result = round_trip(blob(binary_bytes()));
  EXPECT_EQ(result.bytes, binary_bytes());
  EXPECT_EQ(round_trip(blob({})).bytes, "");
}

TEST_F(MessageRoundTrip, TensorSchema) {
  auto result = round_trip(tensor_schema{{-1, 3, 0}, "bfloat16"});
  EXPECT_EQ(result.shape, (std::vector<int64_t>{-1, 3, 0}));
  EXPECT_EQ(result.dtype, "bfloat16");
}

TEST_F(MessageRoundTrip, ForwardRequestAndReply) {
  auto request
    = round_trip(forward_request{"ffn.0.1", {blob(binary_bytes()), blob("x")}, 2500});
  EXPECT_EQ(request.uid, "ffn.0.1");
  EXPECT_EQ(request.budget_ms, 2500u);
  ASSERT_EQ(request.inputs.size(), 2u);
  EXPECT_EQ(request.inputs[0].bytes, binary_bytes());
  EXPECT_EQ(request.inputs[1].bytes, "x");
  auto reply = round_trip(forward_reply{{blob(binary_bytes())}});
  ASSERT_EQ(reply.outputs.size(), 1u);
  EXPECT_EQ(reply.outputs[0].bytes, binary_bytes());
}

TEST_F(MessageRoundTrip, BackwardRequestAndReply) {
  auto request
    = round_trip(backward_request{"ffn.1.0", {blob("in")}, {blob(binary_bytes())}, 77});
  EXPECT_EQ(request.uid, "ffn.1.0");
  EXPECT_EQ(request.budget_ms, 77u);
  ASSERT_EQ(request.inputs.size(), 1u);
  EXPECT_EQ(request.inputs[0].bytes, "in");
  ASSERT_EQ(request.grad_outputs.size(), 1u);
  EXPECT_EQ(request.grad_outputs[0].bytes, binary_bytes());
  auto reply = round_trip(backward_reply{{blob("g0"), blob("g1")}});
  ASSERT_EQ(reply.grad_inputs.size(), 2u);
  EXPECT_EQ(reply.grad_inputs[1].bytes, "g1");
}

TEST_F(MessageRoundTrip, InfoRequestAndExpertInfo) {
  EXPECT_EQ(round_trip(info_request{"ffn.2.2"}).uid, "ffn.2.2");
  expect_round_trip(sample_info());
  auto info = round_trip(sample_info());
  EXPECT_EQ(info.max_batch_size, 256u);
  EXPECT_EQ(info.expired_requests, 5u);
  EXPECT_EQ(info.expired_rows, 1234u);
  ASSERT_EQ(info.outputs.size(), 2u);
  EXPECT_EQ(info.outputs[1].dtype, "int64");
}

TEST_F(MessageRoundTrip, GateRequestsAndRepliesWithRouting) {
  gate_routing r;
  r.batch = 2;
  r.k = 2;
  r.uids = {"ffn.0.1", "ffn.3.2"};
  r.endpoints = {"127.0.0.1:4000", "127.0.0.1:4001"};
  r.slot_expert = {0, 1, 1, -1};
  r.slot_coords = {0, 1, 3, 2, 3, 2, -1, -1};
  r.slot_ok = {1, 0, 1, 0};
  gate_call_stats st{4, 3, 1, 0, 1, 2, {1.5f, 2.25f, 0.75f}};
  expect_round_trip(gate_forward_request{blob(binary_bytes()), {0.5f, -1.f, 3.f}});
  expect_round_trip(gate_forward_reply{blob(binary_bytes()), r, st});
  expect_round_trip(gate_forward_reply{{}, {}, st, make_error(errc::too_few_experts, "s 0")});
  expect_round_trip(gate_backward_request{blob("x"), blob(binary_bytes()), r});
  expect_round_trip(gate_backward_reply{blob(binary_bytes()), {1, 0, 1, 0}, st});
}

TEST_F(MessageRoundTrip, ControlMessagesRoundTrip) {
  tree_entry e{"node/experts/ffn.3/ffn.3.0", "worker", "restarting", "transient", 3, 0.25,
               "colony:diverged: \"nan\" in w", {{"updates", "17"}, {"queue", "2"}}};
  auto entry = round_trip(e);
  EXPECT_EQ(entry.path, e.path);
  EXPECT_EQ(entry.restart, "transient");
  EXPECT_EQ(entry.restarts, 3u);
  EXPECT_EQ(entry.uptime_s, 0.25);
  EXPECT_EQ(entry.last_exit, e.last_exit);
  EXPECT_EQ(entry.details, e.details);
  expect_round_trip(std::vector<tree_entry>{e, tree_entry{}});
  expect_round_trip(node_status{"127.0.0.1:4000", 99.5, {e, e}});
  expert_spec_msg spec;
  spec.max_batch_size = 64;
  spec.module_type = "ffn";
  spec.module_params = {{"dim", 1024}, {"dropout", 0.1}};
  spec.module_seed = 1ull << 40;
  spec.optimizer_type = "sgd";
  spec.optimizer_params = {{"lr", 0.05}, {"warmup_steps", 10}};
  spec.checkpoint_dir = "/tmp/c";
  spec.checkpoint_every_updates = 100;
  spec.checkpoint_load = false;
  spec.checkpoint_on_mismatch = "fresh";
  auto s = round_trip(spec);
  EXPECT_EQ(s.module_params, spec.module_params);
  EXPECT_EQ(s.optimizer_params, spec.optimizer_params);
  EXPECT_EQ(s.module_seed, spec.module_seed);
  EXPECT_FALSE(s.checkpoint_load);
  expect_round_trip(spec);
  auto spawn = round_trip(ctl_spawn{"tok" + binary_bytes(), "ffn.3", 8, spec});
  EXPECT_EQ(spawn.token, "tok" + binary_bytes());
  EXPECT_EQ(spawn.count, 8u);
  EXPECT_EQ(spawn.spec.optimizer_type, "sgd");
  expect_round_trip(ctl_stop{"tok", {"ffn.3.0", "ffn.3.1"}});
  expect_round_trip(ctl_uids{{"ffn.3.4", "ffn.3.5"}});
  expect_round_trip(ctl_status{"tok"});
  auto logs = round_trip(ctl_logs{"tok", 1ull << 50, 77});
  EXPECT_EQ(logs.after, 1ull << 50);
  EXPECT_EQ(logs.max_lines, 77u);
  auto lines = round_trip(ctl_log_lines{{"a=1", "", "b=\"x y\""}, 42, 7});
  EXPECT_EQ(lines.lines, (std::vector<std::string>{"a=1", "", "b=\"x y\""}));
  EXPECT_EQ(lines.next, 42u);
  EXPECT_EQ(lines.missed, 7u);
  auto msg = caf::make_message(ctl_status{"t"}, ctl_logs{}, ctl_uids{}, node_status{},
                               ctl_spawn{}, ctl_stop{}, ctl_log_lines{}, expert_spec_msg{});
  EXPECT_EQ(caf::to_string(round_trip(msg)), caf::to_string(msg));
  for (auto name : {"colony.tree_entry", "colony.tree_entries", "colony.node_status",
                    "colony.expert_spec_msg", "colony.ctl_spawn", "colony.ctl_stop",
                    "colony.ctl_uids", "colony.ctl_status", "colony.ctl_logs",
                    "colony.ctl_log_lines"})
    EXPECT_EQ(cfg_.value_factories_by_name.count(name), 1u) << name;
}

TEST_F(MessageRoundTrip, ColonyErrorKeepsCodeAndContext) {
  auto err = round_trip(make_error(errc::bad_shape, "want [B,4], got [B,3]"));
  EXPECT_EQ(code_of(err), errc::bad_shape);
  EXPECT_EQ(context_of(err), "want [B,4], got [B,3]");
  auto bare = round_trip(make_error(errc::timeout));
  EXPECT_EQ(code_of(bare), errc::timeout);
  EXPECT_EQ(context_of(bare), "");
}

TEST_F(MessageRoundTrip, MessageWithForwardRequestSerializes) {
  auto msg = caf::make_message(forward_request{"ffn.0.0", {blob(binary_bytes())}});
  auto result = round_trip(msg);
  ASSERT_EQ(result.size(), 1u);
  ASSERT_TRUE(result.match_element<forward_request>(0));
  const auto& request = result.get_as<forward_request>(0);
  EXPECT_EQ(request.uid, "ffn.0.0");
  ASSERT_EQ(request.inputs.size(), 1u);
  EXPECT_EQ(request.inputs[0].bytes, binary_bytes());
}

TEST_F(MessageRoundTrip, MessagesOfEveryRegisteredTypeSerialize) {
  auto msg = caf::make_message(blob("b"), tensor_schema{{1}, "int8"}, forward_reply{},
                               backward_request{}, backward_reply{}, info_request{"u"},
                               sample_info());
  auto result = round_trip(msg);
  EXPECT_EQ(caf::to_string(result), caf::to_string(msg));
}

TEST_F(MessageRoundTrip, EveryRegisteredColonyTypeRoundTrips) {
  size_t checked = 0;
  for (const auto& [name, factory] : cfg_.value_factories_by_name) {
    if (name.rfind("colony.", 0) != 0)
      continue;
    auto original = factory();
    caf::binary_serializer::container_type buf;
    caf::binary_serializer sink{sys_, buf};
    ASSERT_FALSE(original->save(sink)) << name;
    auto copy = factory();
    caf::binary_deserializer source{sys_, buf};
    ASSERT_FALSE(copy->load(source)) << name;
    EXPECT_EQ(copy->stringify(), original->stringify()) << name;
    ++checked;
  }
  for (auto name : {"colony.tensor_blob", "colony.tensor_schema", "colony.forward_request",
                    "colony.forward_reply", "colony.backward_request", "colony.backward_reply",
                    "colony.info_request", "colony.expert_info"})
    EXPECT_EQ(cfg_.value_factories_by_name.count(name), 1u) << name;
  EXPECT_GE(checked, 8u);
}
