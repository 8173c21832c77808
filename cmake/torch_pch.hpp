// Precompiled header for the few targets that use LibTorch (see NOTES: one TU
// with <torch/torch.h> costs ~16 s; with this PCH ~8 s).
#pragma once
#include <torch/torch.h>
