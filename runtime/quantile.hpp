// The q-quantile of a sample by nearest rank (index q x (n - 1)), in
// O(n): the one definition behind progress lines, staleness and the
// gate's learned grace.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace colony {

/// The q-quantile (q clamped to 0..1) of `xs`; T{} when empty.
template <class T>
T quantile(std::vector<T> xs, double q) {
  if (xs.empty())
    return T{};
  auto i = static_cast<size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(xs.size() - 1));
  std::nth_element(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(i), xs.end());
  return xs[i];
}

} // namespace colony
