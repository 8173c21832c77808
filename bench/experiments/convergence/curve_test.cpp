// curve.hpp: trainer node log lines in (the formats of actors/trainer/),
// one curve point per evaluation of the node's model; request totals.
#include <gtest/gtest.h>

#include "bench/experiments/convergence/curve.hpp"

using namespace colony::bench::convergence;

namespace {

const std::string ts = "2026-12-02T05:00:00.000 info trainer ";

std::string eval_line(int version, int samples, double acc) {
  return ts + "model version=" + std::to_string(version) + " samples=" + std::to_string(samples)
         + " test_accuracy=" + std::to_string(acc) + " test_samples=500";
}

std::string progress_line(int t, int step, double loss, int asked, int answered, int failed) {
  return ts + "trainer=" + std::to_string(t) + " step=" + std::to_string(step)
         + " loss=" + std::to_string(loss) + " samples_per_s=10.0 experts_asked="
         + std::to_string(asked) + " experts_answered=" + std::to_string(answered)
         + " p50_ms=1.00 p95_ms=2.00 timeouts=3 anomalies=0 short_samples=1 lost_gradients=0"
           " failed_steps=" + std::to_string(failed) + " version=7";
}

} // namespace

TEST(ConvergenceCurveTest, NumberOfReadsKeyedValuesOnly) {
  EXPECT_EQ(number_of(" a=1.5 b=2", "a").value(), 1.5);
  EXPECT_EQ(number_of(" a=1.5 b=2", "b").value(), 2);
  EXPECT_FALSE(number_of(" ab=1", "b"));
  EXPECT_FALSE(number_of(" a=x", "a"));
}

TEST(ConvergenceCurveTest, EachEvaluationOfTheModelIsAPointWithTheTrainersLatestLoss) {
  curve c;
  EXPECT_TRUE(c.feed(progress_line(0, 10, 2.0, 100, 90, 0), 3.0).empty());
  EXPECT_TRUE(c.feed(progress_line(1, 10, 1.0, 50, 50, 2), 3.5).empty());
  auto p = c.feed(eval_line(20, 160, 0.6), 4.5);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].step, 20u);
  EXPECT_EQ(p[0].samples, 160u);
  EXPECT_DOUBLE_EQ(p[0].accuracy, 0.6);
  EXPECT_DOUBLE_EQ(p[0].loss, 1.5);
  EXPECT_DOUBLE_EQ(p[0].wall_s, 4.5);
  auto& t = c.sums();
  EXPECT_EQ(t.asked, 150u);
  EXPECT_EQ(t.answered, 140u);
  EXPECT_EQ(t.timeouts, 6u);
  EXPECT_EQ(t.short_samples, 2u);
  EXPECT_EQ(t.failed_steps, 2u);
}

TEST(ConvergenceCurveTest, TheLastEvaluationIsTheFinalAccuracyAndOtherLinesAreIgnored) {
  curve c;
  EXPECT_TRUE(c.feed(ts + "event=started trainers=1 dmoe_layers=4 threads=1", 0).empty());
  EXPECT_TRUE(c.feed("2026-12-02T05:00:00.000 info gate trainer=0 step=3 loss=1 experts_asked=1",
                     1).empty());
  c.feed(ts + "trainer=0 event=finished steps=20 failed_steps=0 seconds=9.0", 9.5);
  c.feed(eval_line(20, 80, 0.8125), 9.8);
  auto& t = c.sums();
  ASSERT_TRUE(t.final_accuracy.has_value());
  EXPECT_DOUBLE_EQ(*t.final_accuracy, 0.8125);
  EXPECT_EQ(t.final_samples, 80u);
  EXPECT_EQ(t.finished, 1u);
  EXPECT_DOUBLE_EQ(t.finished_s, 9.5);
  EXPECT_EQ(t.asked, 0u);
}
