#include <gtest/gtest.h>

#include "messages/errc.hpp"
#include "runtime/fault_injection.hpp"

using namespace colony;
using namespace std::chrono_literals;

TEST(FaultInjectionTest, NoopByDefault) {
  fault_injection f;
  EXPECT_TRUE(f.is_noop());
  for (int i = 0; i < 100; ++i) {
    auto v = f.next();
    EXPECT_FALSE(v.drop);
    EXPECT_EQ(v.delay, 0ns);
  }
}

TEST(FaultInjectionTest, SameSeedSameVerdicts) {
  fault_config cfg{fault_config::delay_kind::exponential, 100, 0.1, 42};
  fault_injection a{cfg};
  fault_injection b{cfg};
  for (int i = 0; i < 1000; ++i) {
    auto x = a.next();
    auto y = b.next();
    EXPECT_EQ(x.drop, y.drop);
    EXPECT_EQ(x.delay, y.delay);
  }
}

TEST(FaultInjectionTest, DistributionsHaveTheirMeanAndDropRate) {
  using kind = fault_config::delay_kind;
  for (auto k : {kind::fixed, kind::exponential, kind::uniform}) {
    fault_injection f{fault_config{k, 100, 0.1, 7}};
    double sum_ms = 0;
    int drops = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
      auto v = f.next();
      sum_ms += std::chrono::duration<double, std::milli>(v.delay).count();
      drops += v.drop ? 1 : 0;
    }
    EXPECT_NEAR(sum_ms / n, 100, 3) << static_cast<int>(k);
    EXPECT_NEAR(drops / double(n), 0.1, 0.01) << static_cast<int>(k);
  }
}

TEST(FaultInjectionTest, SetReconfiguresWhileInUse) {
  fault_injection f;
  f.set(fault_config{fault_config::delay_kind::fixed, 25, 0, 1});
  EXPECT_FALSE(f.is_noop());
  EXPECT_EQ(f.next().delay, 25ms);
  f.set(fault_config{});
  EXPECT_TRUE(f.is_noop());
  EXPECT_EQ(f.next().delay, 0ns);
}

TEST(FaultInjectionTest, ParsesDelayKinds) {
  EXPECT_EQ(*parse_delay_kind("exponential"), fault_config::delay_kind::exponential);
  auto bad = parse_delay_kind("gaussian");
  ASSERT_FALSE(bad);
  EXPECT_EQ(code_of(bad.error()), errc::bad_config);
}
