// The corpus of experiment 3 (bench/experiments/lm/text_corpus.hpp):
// tokenization rules, the vocabulary's order and cut, <unk> mapping, the
// split by file and the errors, on tiny texts written by the test.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "bench/experiments/lm/text_corpus.hpp"
#include "messages/errc.hpp"

using namespace colony;
using namespace colony::lm;

namespace {

using strings = std::vector<std::string>;

/// A fresh temporary directory, removed at the end of the test.
class corpus_dir {
public:
  corpus_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lm-corpus-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~corpus_dir() { std::filesystem::remove_all(path_); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream{path_ + "/" + name, std::ios::binary} << text;
  }
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

} // namespace

TEST(LmCorpusTest, TokenizesWordsPunctuationAndLines) {
  EXPECT_EQ(tokenize("Don't stop, Nations' 3,000 men.\nTwo"),
            (strings{"don't", "stop", ",", "nations", "'", "3", ",", "000", "men", ".", "<eos>",
                     "two", "<eos>"}));
}

TEST(LmCorpusTest, MapsCurlyQuotesAndDashesAndKeepsOtherCodePoints) {
  // \u2019 apostrophe, \u201C \u201D quotes, \u2014 em dash, \u00B0 degree sign.
  EXPECT_EQ(tokenize("It\xE2\x80\x99s \xE2\x80\x9C" "free\xE2\x80\x9D\xE2\x80\x94" "now 9\xC2\xB0"),
            (strings{"it's", "\"", "free", "\"", "-", "now", "9", "\xC2\xB0", "<eos>"}));
}

TEST(LmCorpusTest, EmptyLinesAndControlCharactersAddNothing) {
  EXPECT_EQ(tokenize("\n\n a\x02 b \r\n\n"), (strings{"a", "b", "<eos>"}));
  EXPECT_TRUE(tokenize("  \n\t\n").empty());
}

TEST(LmCorpusTest, VocabularyKeepsMostFrequentWithTiesInByteOrder) {
  auto v = vocabulary::build({{"b", 3}, {"a", 3}, {"c", 2}, {"d", 1}, {"<eos>", 9}}, 4);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v.token(0), "<unk>");
  EXPECT_EQ(v.token(1), "<eos>");
  EXPECT_EQ(v.token(2), "a");
  EXPECT_EQ(v.token(3), "b");
  EXPECT_EQ(v.id("b"), 3);
  EXPECT_EQ(v.id("c"), unk_id);
  EXPECT_EQ(v.id("<eos>"), eos_id);
}

TEST(LmCorpusTest, SplitsByFileAndCountsOnlyTrainingFiles) {
  corpus_dir d;
  d.write("1990_a.txt", "the cat. the dog.");       // train: the cat . the dog . <eos>
  d.write("1991_b.txt", "zebra zebra zebra zebra"); // validation
  d.write("1992_c.txt", "the cat sat");             // train
  d.write("1993_d.txt", "the dog");                 // validation
  d.write("notes.md", "ignored ignored");
  corpus_options opts;
  opts.vocab_size = 5; // <unk> <eos> the . cat
  opts.val_every = 2;
  opts.val_offset = 1;
  auto c = load_corpus(d.path(), opts);
  ASSERT_TRUE(c) << describe(c.error());
  EXPECT_EQ(c->train_files, (strings{"1990_a.txt", "1992_c.txt"}));
  EXPECT_EQ(c->valid_files, (strings{"1991_b.txt", "1993_d.txt"}));
  ASSERT_EQ(c->vocab.size(), 5u);
  EXPECT_EQ(c->vocab.token(2), "the"); // 3 times
  EXPECT_EQ(c->vocab.token(3), ".");   // 2 times, "." < "cat"
  EXPECT_EQ(c->vocab.token(4), "cat"); // 2 times; dog (1) and sat (1) are cut
  EXPECT_EQ(c->vocab.id("zebra"), unk_id);
  EXPECT_EQ(c->train, (std::vector<int32_t>{2, 4, 3, 2, 0, 3, 1, 2, 4, 0, 1}));
  EXPECT_EQ(c->valid, (std::vector<int32_t>{0, 0, 0, 0, 1, 2, 0, 1}));
  EXPECT_EQ(c->train_unk, 2u);
  EXPECT_EQ(c->valid_unk, 5u);
}

TEST(LmCorpusTest, MissingOrEmptyDirectoryIsAnError) {
  auto missing = load_corpus("/nonexistent/lm-corpus", {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(code_of(missing.error()), errc::io_failed);
  EXPECT_NE(context_of(missing.error()).find("/nonexistent/lm-corpus"), std::string::npos);
  corpus_dir d;
  auto empty = load_corpus(d.path(), {});
  ASSERT_FALSE(empty);
  EXPECT_EQ(code_of(empty.error()), errc::bad_config);
  EXPECT_NE(context_of(empty.error()).find("no .txt file"), std::string::npos);
}

TEST(LmCorpusTest, SplitThatLeavesNoValidationFileIsAnError) {
  corpus_dir d;
  d.write("a.txt", "one");
  corpus_options opts;
  opts.val_every = 2;
  opts.val_offset = 1; // one file: index 0 trains, nothing validates
  auto c = load_corpus(d.path(), opts);
  ASSERT_FALSE(c);
  EXPECT_EQ(code_of(c.error()), errc::bad_config);
  opts.val_offset = 2;
  EXPECT_EQ(code_of(load_corpus(d.path(), opts).error()), errc::bad_config);
}
