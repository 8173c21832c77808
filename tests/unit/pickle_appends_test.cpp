// The pickle rewrite that lets LibTorch 1.13 read one-item lists. The
// programs are what Python 3.11's pickle.dumps(v, protocol=2) writes; each
// expected rewrite was checked to unpickle to the same value in Python.
#include <gtest/gtest.h>

#include "nodes/cli/pickle_appends.hpp"

using colony::cli::rewrite_single_appends;

namespace {

std::string bytes(const char* s, size_t n) {
  return std::string{s, n};
}

#define PICKLE(lit) bytes(lit, sizeof(lit) - 1)

} // namespace

TEST(PickleAppendsTest, OneItemListBecomesMarkAppends) {
  // [7]
  auto out = rewrite_single_appends(PICKLE("\x80\x02]q\x00K\x07" "a."));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, PICKLE("\x80\x02]q\x00(K\x07" "e."));
}

TEST(PickleAppendsTest, OneItemListInsideATupleKeepsTheTuple) {
  // ([7],)
  auto out = rewrite_single_appends(PICKLE("\x80\x02]q\x00K\x07" "a\x85q\x01."));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, PICKLE("\x80\x02]q\x00(K\x07" "e\x85q\x01."));
}

TEST(PickleAppendsTest, MarkGoesBeforeTheWholeItemNotItsLastOpcode) {
  // [(1,)]: the item is K 1 TUPLE1 BINPUT, so the MARK precedes K.
  auto out = rewrite_single_appends(PICKLE("\x80\x02]q\x00K\x01\x85q\x01" "a."));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, PICKLE("\x80\x02]q\x00(K\x01\x85q\x01" "e."));
}

TEST(PickleAppendsTest, NestedListsRewriteOnlyTheirOneItemAppends) {
  // [[1], [2, 3]]: the outer and the second inner list already use APPENDS.
  auto out =
    rewrite_single_appends(PICKLE("\x80\x02]q\x00(]q\x01K\x01" "a]q\x02(K\x02K\x03" "ee."));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, PICKLE("\x80\x02]q\x00(]q\x01(K\x01" "e]q\x02(K\x02K\x03" "ee."));
}

TEST(PickleAppendsTest, ProgramsWithoutAppendAreLeftAlone) {
  EXPECT_FALSE(rewrite_single_appends(PICKLE("\x80\x02]q\x00.")));                 // []
  EXPECT_FALSE(rewrite_single_appends(PICKLE("\x80\x02]q\x00(K\x02K\x03" "e."))); // [2, 3]
}

TEST(PickleAppendsTest, FramesAreDroppedSinceTheirLengthsNoLongerHold) {
  // protocol 4: PROTO 4, FRAME 6, EMPTY_LIST, MEMOIZE, K 7, APPEND, STOP
  auto out = rewrite_single_appends(
    PICKLE("\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00]\x94K\x07" "a."));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, PICKLE("\x80\x04]\x94(K\x07" "e."));
}

TEST(PickleAppendsTest, HostileOrUnknownProgramsAreLeftToTheUnpickler) {
  EXPECT_FALSE(rewrite_single_appends(PICKLE("\x80\x02" "a.")));          // APPEND on nothing
  EXPECT_FALSE(rewrite_single_appends(PICKLE("\x80\x02K\x07" "a.")));     // no list below
  EXPECT_FALSE(rewrite_single_appends(PICKLE("\x80\x02]X\xff\xff\xff\x7f" "a"))); // truncated
  EXPECT_FALSE(rewrite_single_appends(PICKLE("\x80\x02]K\x07" "a")));     // no STOP
  EXPECT_FALSE(rewrite_single_appends(PICKLE("\x80\x02]\xffK\x07" "a."))); // unknown opcode
  EXPECT_FALSE(rewrite_single_appends(""));
}
