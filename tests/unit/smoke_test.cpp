#include <gtest/gtest.h>

#include "messages/errc.hpp"

TEST(ErrcTest, MakeErrorCarriesCodeAndContext) {
  auto err = colony::make_error(colony::errc::bad_shape, "want [B,4], got [B,3]");
  EXPECT_EQ(colony::code_of(err), colony::errc::bad_shape);
  EXPECT_EQ(colony::context_of(err), "want [B,4], got [B,3]");
  EXPECT_EQ(colony::describe(err), "bad_shape: want [B,4], got [B,3]");
}
