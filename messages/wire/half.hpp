// IEEE 754 binary16 and bfloat16 conversions, without torch (the CLI and
// the codec stay torch-free). Round-to-nearest-even, NaN and Inf preserved.
#pragma once

#include <cstddef>
#include <cstdint>

namespace colony::wire {

uint16_t float_to_half(float f);
float half_to_float(uint16_t h);
uint16_t float_to_bfloat16(float f);
float bfloat16_to_float(uint16_t b);

/// Bulk versions over `n` elements.
void floats_to_halves(const float* in, uint16_t* out, size_t n);
void halves_to_floats(const uint16_t* in, float* out, size_t n);

} // namespace colony::wire
