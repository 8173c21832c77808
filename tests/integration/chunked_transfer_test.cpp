// Large tensors travel in chunks both ways between two actor systems over
// loopback and arrive bit-identical.
#include <gtest/gtest.h>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <torch/torch.h>

#include "actors/client/remote_expert.hpp"
#include "actors/expert/expert_host.hpp"
#include "messages/chunking.hpp"
#include "messages/errc.hpp"
#include "messages/wire/torch_tensor.hpp"
#include "runtime/node_config.hpp"
#include "runtime/system_config.hpp"

using namespace colony;

namespace {

node_config nop_node(int64_t dim, uint32_t max_batch) {
  auto cfg = parse_node_config(R"(
experts:
  - uid: big.0
    max_batch_size: )" + std::to_string(max_batch) + R"(
    module: {type: nop_delay, dim: )" + std::to_string(dim) + R"(, delay_ms: 0}
)");
  EXPECT_TRUE(cfg) << describe(cfg.error());
  return *cfg;
}

struct published_node {
  system_config server_cfg;
  caf::actor_system server_sys{server_cfg};
  expert_host host;
  endpoint ep;

  explicit published_node(const node_config& cfg) {
    auto h = spawn_expert_host(server_sys, cfg);
    EXPECT_TRUE(h);
    host = *h;
    auto port = caf::io::publish(host.server, 0, "127.0.0.1", true);
    EXPECT_TRUE(port);
    ep = endpoint{"127.0.0.1", *port};
  }

  ~published_node() { stop_expert_host(host); }
};

} // namespace

TEST(ChunkedTransferTest, LargeForwardAndBackwardRoundTripExactly) {
  constexpr int64_t dim = 4096;
  published_node node{nop_node(dim, 4096)};
  system_config client_cfg;
  caf::actor_system client_sys{client_cfg};
  node_connections conns{client_sys};
  remote_expert e{conns, node.ep, "big.0", std::chrono::seconds{60}};
  // 1024 x 4096 float32 = 16 MiB: four times the chunk size each way.
  auto x = torch::randn({1024, dim});
  auto bytes = wire::encode_tensor(x);
  ASSERT_TRUE(bytes);
  ASSERT_GT(bytes->size(), 3 * default_chunk_bytes);
  auto y = e.forward({tensor_blob{*bytes}});
  ASSERT_TRUE(y) << describe(y.error());
  auto yt = wire::decode_tensor(std::move((*y)[0].bytes));
  ASSERT_TRUE(yt);
  EXPECT_TRUE(torch::equal(*yt, x));
  auto g = wire::encode_tensor(x * 2);
  auto gx = e.backward({tensor_blob{*bytes}}, {tensor_blob{*g}});
  ASSERT_TRUE(gx) << describe(gx.error());
  auto gxt = wire::decode_tensor(std::move((*gx)[0].bytes));
  ASSERT_TRUE(gxt);
  EXPECT_TRUE(torch::equal(*gxt, x * 2));
  // The node keeps serving small requests afterwards.
  auto small = wire::encode_tensor(torch::ones({2, dim}));
  EXPECT_TRUE(e.forward({tensor_blob{*small}}));
}

TEST(ChunkedTransferTest, ChunkedRequestOverTheNodeLimitIsRefused) {
  constexpr int64_t dim = 4096;
  auto cfg = nop_node(dim, 4096);
  cfg.max_message_bytes = size_t{6} << 20;
  published_node node{cfg};
  system_config client_cfg;
  caf::actor_system client_sys{client_cfg};
  node_connections conns{client_sys};
  remote_expert e{conns, node.ep, "big.0", std::chrono::seconds{30}};
  auto bytes = wire::encode_tensor(torch::randn({512, dim})); // 8 MiB
  auto y = e.forward({tensor_blob{*bytes}});
  ASSERT_FALSE(y);
  // The real reason, not "1 of 2 chunks arrived".
  EXPECT_EQ(code_of(y.error()), errc::payload_too_large) << describe(y.error());
  EXPECT_NE(context_of(y.error()).find("over the limit of 6291456 bytes"), std::string::npos)
    << describe(y.error());
  auto small = wire::encode_tensor(torch::ones({2, dim}));
  EXPECT_TRUE(e.forward({tensor_blob{*small}}));
}
