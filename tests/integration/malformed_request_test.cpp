// Malformed requests against one node (in-process, published on loopback and
// reached from a second actor system): each fails with its colony error and
// the node keeps serving correct requests afterwards.
#include "tests/integration/integration_support.hpp"

namespace colony::it {
namespace {

class MalformedRequestTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    cfg_ = std::make_unique<node_config>(parse_or_throw(ffn_node_yaml()));
    node_ = std::make_unique<in_process_node>(*cfg_);
    client_ = std::make_unique<client>();
  }

  static void TearDownTestSuite() {
    client_.reset();
    node_.reset();
    cfg_.reset();
  }

  remote_expert expert(const std::string& uid = "ffn.0.0") {
    return client_->expert(node_->where(), uid);
  }

  /// A correct forward and backward still succeed, with the right numbers.
  void expect_still_serves() {
    auto local = local_module(*cfg_);
    auto x = seeded_randn({3, 8}, 99);
    auto out = expert("ffn.0.1").forward(blobs({x}));
    ASSERT_TRUE(ok(out));
    EXPECT_TRUE(near(to_tensor((*out)[0]), local_forward(*local, x), 1e-6));
    auto grads = expert().backward(blobs({x}), blobs({torch::ones({3, 8})}));
    ASSERT_TRUE(ok(grads));
    EXPECT_EQ(to_tensor((*grads)[0]).sizes(), x.sizes());
  }

  static inline std::unique_ptr<node_config> cfg_;
  static inline std::unique_ptr<in_process_node> node_;
  static inline std::unique_ptr<client> client_;
};

/// The context string of a failed call ("" when it succeeded).
template <class T>
std::string context(const caf::expected<T>& x) {
  return x ? std::string{} : context_of(x.error());
}

TEST_F(MalformedRequestTest, WrongFeatureSizeIsBadShapeNamingWantedAndGotShapes) {
  auto out = expert().forward(blobs({seeded_randn({3, 5}, 1)}));
  EXPECT_TRUE(fails_with(out, errc::bad_shape));
  EXPECT_NE(context(out).find("[B, 8]"), std::string::npos) << context(out);
  EXPECT_NE(context(out).find("[3, 5]"), std::string::npos) << context(out);
  expect_still_serves();
}

TEST_F(MalformedRequestTest, WrongRankIsBadShape) {
  auto out = expert().forward(blobs({seeded_randn({3, 8, 1}, 2)}));
  EXPECT_TRUE(fails_with(out, errc::bad_shape));
  expect_still_serves();
}

TEST_F(MalformedRequestTest, UnknownUidIsUnknownExpert) {
  auto x = seeded_randn({2, 8}, 3);
  EXPECT_TRUE(fails_with(expert("ffn.9.9").forward(blobs({x})), errc::unknown_expert));
  EXPECT_TRUE(fails_with(expert("ffn.9.9").info(), errc::unknown_expert));
  auto g = seeded_randn({2, 8}, 4);
  EXPECT_TRUE(fails_with(expert("ffn.9.9").backward(blobs({x}), blobs({g})),
                         errc::unknown_expert));
  expect_still_serves();
}

TEST_F(MalformedRequestTest, EmptyTensorListIsBadRequest) {
  EXPECT_TRUE(fails_with(expert().forward({}), errc::bad_request));
  EXPECT_TRUE(fails_with(expert().backward({}, {}), errc::bad_request));
  expect_still_serves();
}

TEST_F(MalformedRequestTest, TooManyInputsIsBadRequest) {
  auto x = seeded_randn({2, 8}, 5);
  EXPECT_TRUE(fails_with(expert().forward(blobs({x, x})), errc::bad_request));
  expect_still_serves();
}

TEST_F(MalformedRequestTest, GarbageBytesAreMalformedPayload) {
  std::vector<tensor_blob> garbage{tensor_blob{std::string(64, '\xff')}};
  EXPECT_TRUE(fails_with(expert().forward(garbage), errc::malformed_payload));
  // A valid encoding cut short is malformed too.
  auto truncated = to_blob(seeded_randn({4, 8}, 6));
  truncated.bytes.resize(truncated.bytes.size() - 7);
  EXPECT_TRUE(fails_with(expert().forward({truncated}), errc::malformed_payload));
  expect_still_serves();
}

TEST_F(MalformedRequestTest, Float64InputIsBadDtype) {
  auto x = seeded_randn({2, 8}, 7).to(torch::kFloat64);
  auto out = expert().forward(blobs({x}));
  EXPECT_TRUE(fails_with(out, errc::bad_dtype));
  EXPECT_NE(context(out).find("float32"), std::string::npos) << context(out);
  expect_still_serves();
}

TEST_F(MalformedRequestTest, BackwardWithWrongNumberOfGradOutputsIsBadRequest) {
  auto x = seeded_randn({2, 8}, 8);
  auto g = seeded_randn({2, 8}, 9);
  EXPECT_TRUE(fails_with(expert().backward(blobs({x}), {}), errc::bad_request));
  EXPECT_TRUE(fails_with(expert().backward(blobs({x}), blobs({g, g})), errc::bad_request));
  expect_still_serves();
}

TEST_F(MalformedRequestTest, BackwardWithGradOutputsBatchMismatchIsBadShape) {
  auto x = seeded_randn({4, 8}, 10);
  auto g = seeded_randn({3, 8}, 11);
  auto out = expert().backward(blobs({x}), blobs({g}));
  EXPECT_TRUE(fails_with(out, errc::bad_shape));
  EXPECT_NE(context(out).find("3"), std::string::npos) << context(out);
  EXPECT_NE(context(out).find("4"), std::string::npos) << context(out);
  expect_still_serves();
}

TEST_F(MalformedRequestTest, RejectedBackwardDoesNotUpdateParameters) {
  auto before = expert("ffn.0.3").info();
  ASSERT_TRUE(ok(before));
  auto x = seeded_randn({4, 8}, 12);
  EXPECT_FALSE(ok(expert("ffn.0.3").backward(blobs({x}), blobs({seeded_randn({4, 5}, 13)}))));
  EXPECT_FALSE(ok(expert("ffn.0.3").backward(blobs({x}), blobs({x.to(torch::kFloat64)}))));
  auto after = expert("ffn.0.3").info();
  ASSERT_TRUE(ok(after));
  EXPECT_EQ(after->updates, before->updates);
  auto out = expert("ffn.0.3").forward(blobs({x}));
  ASSERT_TRUE(ok(out));
  EXPECT_TRUE(near(to_tensor((*out)[0]), local_forward(*local_module(*cfg_), x), 1e-6));
}

} // namespace
} // namespace colony::it
