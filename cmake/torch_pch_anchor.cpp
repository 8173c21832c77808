// The one translation unit of the targets that build Colony's torch
// precompiled header once for everyone (CMakeLists.txt: colony_use_torch).
int colony_torch_pch_anchor() { return 0; }
