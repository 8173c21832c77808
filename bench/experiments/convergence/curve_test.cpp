// curve.hpp: trainer log lines in (the formats of trainer_actor.cpp), curve
// points out once every trainer has evaluated a step; request totals.
#include <gtest/gtest.h>

#include "bench/experiments/convergence/curve.hpp"

using namespace colony::bench::convergence;

namespace {

const std::string ts = "2026-12-02T05:00:00.000 info trainer ";

std::string eval_line(int t, int step, double acc) {
  return ts + "trainer=" + std::to_string(t) + " step=" + std::to_string(step)
         + " test_accuracy=" + std::to_string(acc);
}

std::string progress_line(int t, int step, double loss, int asked, int answered, int failed) {
  return ts + "trainer=" + std::to_string(t) + " step=" + std::to_string(step)
         + " loss=" + std::to_string(loss) + " samples_per_s=10.0 experts_asked="
         + std::to_string(asked) + " experts_answered=" + std::to_string(answered)
         + " p50_ms=1.00 p95_ms=2.00 timeouts=3 anomalies=0 short_samples=1 failed_steps="
         + std::to_string(failed);
}

} // namespace

TEST(ConvergenceCurveTest, NumberOfReadsKeyedValuesOnly) {
  EXPECT_EQ(number_of(" a=1.5 b=2", "a").value(), 1.5);
  EXPECT_EQ(number_of(" a=1.5 b=2", "b").value(), 2);
  EXPECT_FALSE(number_of(" ab=1", "b"));
  EXPECT_FALSE(number_of(" a=x", "a"));
}

TEST(ConvergenceCurveTest, APointWaitsForEveryTrainerAndAveragesThem) {
  curve c{2, 8};
  EXPECT_TRUE(c.feed(eval_line(0, 10, 0.5), 3.0).empty());
  EXPECT_TRUE(c.feed(progress_line(0, 10, 2.0, 100, 90, 0), 3.0).empty());
  EXPECT_TRUE(c.feed(eval_line(1, 10, 0.7), 4.5).empty());
  auto p = c.feed(progress_line(1, 10, 1.0, 50, 50, 2), 4.6);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].step, 10u);
  EXPECT_DOUBLE_EQ(p[0].accuracy, 0.6);
  EXPECT_DOUBLE_EQ(p[0].accuracy_min, 0.5);
  EXPECT_DOUBLE_EQ(p[0].accuracy_max, 0.7);
  EXPECT_DOUBLE_EQ(p[0].loss, 1.5);
  EXPECT_DOUBLE_EQ(p[0].wall_s, 4.5);        // the last evaluation
  EXPECT_EQ(p[0].samples, (10u + 8u) * 8u);  // trainer 1 failed 2 of its 10 steps
  auto& t = c.sums();
  EXPECT_EQ(t.asked, 150u);
  EXPECT_EQ(t.answered, 140u);
  EXPECT_EQ(t.timeouts, 6u);
  EXPECT_EQ(t.short_samples, 2u);
  EXPECT_EQ(t.failed_steps, 2u);
}

TEST(ConvergenceCurveTest, FinishedLinesGiveTheFinalAccuracyAndOtherLinesAreIgnored) {
  curve c{1, 4};
  EXPECT_TRUE(c.feed(ts + "event=started trainers=1 dmoe_layers=4 threads=1", 0).empty());
  EXPECT_TRUE(c.feed("2026-12-02T05:00:00.000 info gate trainer=0 step=3 loss=1 experts_asked=1",
                     1).empty());
  c.feed(ts + "trainer=0 event=finished steps=20 failed_steps=0 test_accuracy=0.8125 "
              "seconds=9.0", 9.5);
  auto& t = c.sums();
  ASSERT_EQ(t.final_accuracy.size(), 1u);
  EXPECT_DOUBLE_EQ(t.final_accuracy[0], 0.8125);
  EXPECT_DOUBLE_EQ(t.finished_s, 9.5);
  EXPECT_EQ(t.asked, 0u);
}
