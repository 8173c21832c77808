// Branch-free bit manipulation (after F. Giesen's "half to float done
// quic"), written as masked selects so that the bulk loops vectorize (SSE2
// and up). Relies on the default rounding mode (round to nearest even).
#include "messages/wire/half.hpp"

#include <cstring>

namespace colony::wire {

namespace {

inline uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

inline float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

/// 0.5f: adding it aligns a half subnormal's 10 mantissa bits at the bottom
/// of the float mantissa, rounded to nearest even by the FPU.
constexpr uint32_t denorm_magic = 126u << 23;
/// Smallest float whose half is normal (2^-14).
constexpr uint32_t half_min_normal = 113u << 23;
/// 65536.0f: this and everything above becomes Inf (or NaN).
constexpr uint32_t half_overflow = 143u << 23;
constexpr uint32_t float_inf = 0x7f800000u;

/// Branch-free `c ? x : y` (plain ternaries let GCC sink the float adds
/// into branches, which blocks vectorization under -ftrapping-math).
inline uint32_t select(bool c, uint32_t x, uint32_t y) {
  uint32_t m = 0u - static_cast<uint32_t>(c);
  return (x & m) | (y & ~m);
}

/// The half bits of `f` in the low 16 bits.
inline uint32_t to_half(float f) {
  uint32_t x = bits_of(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t a = x & 0x7fffffffu;
  // Normal half: rebias the exponent, add the rounding bias (0xfff plus the
  // lowest kept mantissa bit for ties-to-even). Carries into the exponent,
  // up to Inf for values in [65520, 65536), are exactly right.
  uint32_t normal = (a + 0xc8000fffu + ((a >> 13) & 1u)) >> 13;
  uint32_t sub = bits_of(float_of(a) + float_of(denorm_magic)) - denorm_magic;
  // NaN stays a (quiet) NaN with the top payload bits; Inf stays Inf.
  uint32_t special = select(a > float_inf, 0x7e00u | ((a >> 13) & 0x3ffu), 0x7c00u);
  uint32_t r = select(a < half_min_normal, sub, normal);
  r = select(a >= half_overflow, special, r);
  return r | sign;
}

inline float to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t shifted = static_cast<uint32_t>(h & 0x7fffu) << 13;
  uint32_t exp = shifted & (0x7c00u << 13);
  uint32_t normal = shifted + ((127u - 15u) << 23);
  // Inf/NaN: exponent 31 -> 255, NaN payload kept and made quiet.
  uint32_t quiet = select((shifted & 0x7fe000u) != 0, 0x400000u, 0u);
  uint32_t special = (normal + ((128u - 16u) << 23)) | quiet;
  // Subnormal: build 2^-14 * (1 + m / 1024) and subtract 2^-14 (exact).
  uint32_t sub = bits_of(float_of(normal + (1u << 23)) - float_of(half_min_normal));
  uint32_t r = select(exp == (0x7c00u << 13), special, normal);
  r = select(exp == 0, sub, r);
  return float_of(r | sign);
}

} // namespace

uint16_t float_to_half(float f) {
  return static_cast<uint16_t>(to_half(f));
}

float half_to_float(uint16_t h) {
  return to_float(h);
}

uint16_t float_to_bfloat16(float f) {
  uint32_t x = bits_of(f);
  if ((x & 0x7fffffffu) > float_inf)
    return static_cast<uint16_t>((x >> 16) | 0x40u); // quiet NaN, same sign
  uint32_t rounding_bias = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding_bias) >> 16);
}

float bfloat16_to_float(uint16_t b) {
  return float_of(static_cast<uint32_t>(b) << 16);
}

// Converting a block to 32-bit lanes first and narrowing afterwards keeps
// GCC from narrowing every intermediate to 16 bits (0.83 -> 0.49 ns/element
// with SSE2).
void floats_to_halves(const float* in, uint16_t* out, size_t n) {
  constexpr size_t block = 256;
  uint32_t lanes[block];
  size_t i = 0;
  for (; i + block <= n; i += block) {
    for (size_t j = 0; j < block; ++j)
      lanes[j] = to_half(in[i + j]);
    for (size_t j = 0; j < block; ++j)
      out[i + j] = static_cast<uint16_t>(lanes[j]);
  }
  for (; i < n; ++i)
    out[i] = static_cast<uint16_t>(to_half(in[i]));
}

void halves_to_floats(const uint16_t* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i)
    out[i] = to_float(in[i]);
}

} // namespace colony::wire
