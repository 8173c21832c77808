// The text corpus of experiment 3 (the DMoE language model): a documented,
// deterministic tokenization of plain-text files, a frequency-cut
// vocabulary built on the training files only, and a fixed train /
// validation split by file. Torch-free.
//
// Tokenization (tokenize()):
//   - ASCII letters are lowercased; a word is a maximal run of letters and
//     digits, with an apostrophe kept inside it when it sits between two
//     of them ("don't", "nation's"; "nations'" -> "nations" "'").
//   - Every other printable character is a token of its own (", . ; - $").
//   - UTF-8: the curly apostrophes U+2018/U+2019 count as "'", the curly
//     quotes U+201C/U+201D as '"', the dashes U+2010..U+2015 as "-"; any
//     other non-ASCII code point is a token of its own.
//   - Spaces and control characters separate tokens; each non-empty line
//     ends with the token <eos> (the addresses are mostly one line each, so
//     <eos> mostly marks the end of an address).
// Vocabulary: id 0 = <unk>, id 1 = <eos>, then the `size - 2` most frequent
// training tokens by descending count, ties in byte order; other tokens
// map to <unk>.
// Split: the files sorted by name (the State of the Union files start with
// the year); file i is validation when i % val_every == val_offset.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/expected.hpp>

namespace colony::lm {

inline constexpr const char* unk_token = "<unk>";
inline constexpr const char* eos_token = "<eos>";
inline constexpr int32_t unk_id = 0;
inline constexpr int32_t eos_id = 1;

/// The tokens of `text` per the rules above.
std::vector<std::string> tokenize(const std::string& text);

/// Token <-> id.
class vocabulary {
public:
  /// <unk>, <eos>, then the `size - 2` most frequent of `counts` (ties in
  /// byte order). `size` < 2 is raised to 2.
  static vocabulary build(const std::map<std::string, uint64_t>& counts, size_t size);

  /// The id of `token`, unk_id when it is not in the vocabulary.
  int32_t id(const std::string& token) const;

  const std::string& token(int32_t id) const { return tokens_.at(static_cast<size_t>(id)); }
  size_t size() const { return tokens_.size(); }

private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t> ids_;
};

struct corpus_options {
  size_t vocab_size = 8000; ///< including <unk> and <eos>
  size_t val_every = 10;    ///< every val_every-th file is validation ...
  size_t val_offset = 9;    ///< ... the one at this index modulo val_every
};

/// A tokenized corpus: both streams are the files' tokens in name order.
struct corpus {
  vocabulary vocab;
  std::vector<std::string> train_files, valid_files; ///< file names, sorted
  std::vector<int32_t> train, valid;                 ///< token ids
  uint64_t train_unk = 0, valid_unk = 0;             ///< tokens mapped to <unk>
};

/// Reads every `*.txt` file of `dir`. Errors: io_failed when `dir` is not
/// a readable directory or a file cannot be read; bad_config when it has no
/// .txt file, the options leave no training or no validation file, or
/// val_offset >= val_every.
caf::expected<corpus> load_corpus(const std::string& dir, const corpus_options& opts);

} // namespace colony::lm
