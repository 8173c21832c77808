// Chunked transfer of large tensor payloads, without actors.
#include <gtest/gtest.h>

#include "messages/chunking.hpp"
#include "messages/errc.hpp"

using namespace colony;

namespace {

tensor_blob blob_of(size_t n, char seed) {
  tensor_blob b;
  for (size_t i = 0; i < n; ++i)
    b.bytes.push_back(static_cast<char>(seed + i % 251));
  return b;
}

} // namespace

TEST(ChunkingTest, SmallBlobStaysInline) {
  auto b = blob_of(100, 1);
  EXPECT_TRUE(split_blob(b, 7, 100).empty());
  EXPECT_EQ(b.bytes.size(), 100u);
  EXPECT_EQ(b.chunks, 0u);
}

TEST(ChunkingTest, LargeBlobSplitsAndAssemblesBackExactly) {
  auto original = blob_of(1000, 3);
  auto b = original;
  auto chunks = split_blob(b, 42, 300);
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_TRUE(b.bytes.empty());
  EXPECT_EQ(b.transfer, 42u);
  EXPECT_EQ(b.chunks, 4u);
  EXPECT_EQ(chunks.back().bytes.size(), 100u);
  chunk_assembler a{1 << 20};
  std::vector<tensor_blob> blobs{b};
  EXPECT_FALSE(a.ready(9, blobs));
  for (auto& c : chunks)
    ASSERT_FALSE(a.add(9, c, 0));
  EXPECT_TRUE(a.ready(9, blobs));
  ASSERT_FALSE(a.restore(9, blobs));
  EXPECT_EQ(blobs[0].bytes, original.bytes);
  EXPECT_EQ(blobs[0].chunks, 0u);
  EXPECT_EQ(a.size(), 0u);
}

TEST(ChunkingTest, SendersAreKeptApart) {
  auto b = blob_of(10, 0);
  auto chunks = split_blob(b, 1, 4);
  chunk_assembler a{1 << 20};
  for (auto& c : chunks)
    ASSERT_FALSE(a.add(1, c, 0));
  std::vector<tensor_blob> blobs{b};
  auto err = a.restore(2, blobs);
  EXPECT_EQ(code_of(err), errc::malformed_payload);
  EXPECT_TRUE(a.ready(1, {b}));
}

TEST(ChunkingTest, MissingOrOutOfOrderChunksAreMalformed) {
  auto b = blob_of(10, 0);
  auto chunks = split_blob(b, 5, 4);
  chunk_assembler a{1 << 20};
  ASSERT_FALSE(a.add(1, chunks[0], 0));
  EXPECT_EQ(code_of(a.add(1, chunks[2], 0)), errc::malformed_payload);
  // The failed transfer stays failed: its later chunks are dropped and the
  // request that references it learns the first reason.
  ASSERT_FALSE(a.add(1, chunks[1], 0));
  std::vector<tensor_blob> blobs{b};
  auto err = a.restore(1, blobs);
  EXPECT_EQ(code_of(err), errc::malformed_payload);
  EXPECT_NE(context_of(err).find("chunk 2 arrived, want 1"), std::string::npos);
  EXPECT_EQ(a.failed(), 0u);
}

TEST(ChunkingTest, IncompleteTransferIsMalformed) {
  auto b = blob_of(10, 0);
  auto chunks = split_blob(b, 5, 4);
  chunk_assembler a{1 << 20};
  ASSERT_FALSE(a.add(1, chunks[0], 0));
  ASSERT_FALSE(a.add(1, chunks[1], 0));
  std::vector<tensor_blob> blobs{b};
  EXPECT_FALSE(a.ready(1, blobs));
  auto err = a.restore(1, blobs);
  EXPECT_EQ(code_of(err), errc::malformed_payload);
  EXPECT_NE(context_of(err).find("2 of 3 chunks"), std::string::npos);
}

TEST(ChunkingTest, TransferOverTheLimitIsRefused) {
  auto b = blob_of(1000, 0);
  auto chunks = split_blob(b, 5, 400);
  chunk_assembler a{700};
  ASSERT_FALSE(a.add(1, chunks[0], 0));
  EXPECT_EQ(code_of(a.add(1, chunks[1], 0)), errc::payload_too_large);
  EXPECT_EQ(a.size(), 0u);
  // The rest of the transfer is dropped without holding bytes, and the
  // request gets the real reason (not "1 of 3 chunks arrived").
  ASSERT_FALSE(a.add(1, chunks[2], 0));
  EXPECT_EQ(a.size(), 0u);
  std::vector<tensor_blob> blobs{b};
  EXPECT_TRUE(a.ready(1, blobs));
  auto err = a.restore(1, blobs);
  EXPECT_EQ(code_of(err), errc::payload_too_large);
  EXPECT_NE(context_of(err).find("over the limit of 700 bytes"), std::string::npos);
}

TEST(ChunkingTest, RememberedFailuresAreBoundedAndExpire) {
  chunk_assembler a{4, 3};
  for (uint64_t t = 1; t <= 5; ++t) {
    auto b = blob_of(10, 0);
    auto chunks = split_blob(b, t, 5);
    EXPECT_EQ(code_of(a.add(1, chunks[0], double(t))), errc::payload_too_large);
  }
  EXPECT_EQ(a.failed(), 3u);
  a.expire(100.0, 60.0);
  EXPECT_EQ(a.failed(), 0u);
}

TEST(ChunkingTest, AbandonedTransfersExpire) {
  auto b = blob_of(10, 0);
  auto chunks = split_blob(b, 5, 4);
  chunk_assembler a{1 << 20};
  ASSERT_FALSE(a.add(1, chunks[0], 10.0));
  EXPECT_EQ(a.expire(50.0, 60.0), 0u);
  EXPECT_EQ(a.expire(80.0, 60.0), 1u);
  EXPECT_EQ(a.size(), 0u);
}

TEST(ChunkingTest, SplitRequestKeepsInlineBytesWithinOneChunk) {
  std::vector<tensor_blob> inputs{blob_of(300, 1), blob_of(300, 2), blob_of(50, 3)};
  std::vector<tensor_blob> grads{blob_of(500, 4)};
  uint64_t next = 1;
  auto chunks = split_request({&inputs, &grads}, 400, [&] { return next++; });
  size_t inline_bytes = 0;
  for (auto* v : {&inputs, &grads})
    for (auto& b : *v)
      inline_bytes += b.bytes.size();
  EXPECT_LE(inline_bytes, 400u);
  EXPECT_EQ(inputs[0].chunks, 0u) << "the first blob fits and stays inline";
  EXPECT_EQ(inputs[1].chunks, 1u) << "300 + 300 > 400: the second is sent as a chunk";
  EXPECT_EQ(inputs[2].chunks, 0u);
  EXPECT_EQ(grads[0].chunks, 2u);
  chunk_assembler a{1 << 20};
  for (auto& c : chunks)
    ASSERT_FALSE(a.add(1, c, 0));
  ASSERT_FALSE(a.restore(1, inputs));
  ASSERT_FALSE(a.restore(1, grads));
  EXPECT_EQ(inputs[1].bytes, blob_of(300, 2).bytes);
  EXPECT_EQ(grads[0].bytes, blob_of(500, 4).bytes);
}
