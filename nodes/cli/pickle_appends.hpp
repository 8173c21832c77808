// Makes Python's pickles of one-item lists readable by LibTorch 1.13
// (pure: no torch, no CAF).
//
// Python pickles a list of one element as EMPTY_LIST <item> APPEND ('a'),
// and lists of several as EMPTY_LIST MARK <items> APPENDS ('e'). LibTorch
// 1.13's unpickler knows APPENDS but not APPEND ("Unknown opcode for
// unpickling at 0x61"), so torch.save([x]) could not be read. The rewrite
// walks the opcodes, tracking where each value on the pickle stack began,
// and turns every `<item> APPEND` into `MARK <item> APPENDS`: the same
// program for any unpickler. Protocol 4+ FRAME opcodes are dropped (frames
// are optional hints and their lengths would no longer hold).
#pragma once

#include <optional>
#include <string>

namespace colony::cli {

/// The rewritten program, or nothing when it needs no change or holds an
/// opcode the walker does not model (the caller then unpickles the original
/// and reports the unpickler's own error). Linear in the size of `pickle`.
std::optional<std::string> rewrite_single_appends(const std::string& pickle);

} // namespace colony::cli
