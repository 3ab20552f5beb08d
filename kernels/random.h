#pragma once

#include <cstdint>

#include "kernels/backend.h"
#include "kernels/column.h"

namespace kernels {

// How to draw one column's random values. Numbers are uniform in [min, max]
// (integers inclusive, rounded into the type's range); strings have a length
// uniform in [min, max] (clamped to the width of fixed strings) and letters
// and digits as characters. A nullable column gets nulls with probability
// `null_fraction`.
struct RandomSpec {
  double min = 0;
  double max = 0;
  double null_fraction = 0;
  uint64_t seed = 0;    // the same seed gives the same values on every backend
  uint64_t stream = 0;  // distinguishes columns and batches drawn with one seed
};

// A new column of `rows` random values.
Column RandomColumn(PhysType type, int32_t width, bool nullable, int64_t rows,
                    const RandomSpec& spec, const Exec& exec);

// The counter-based generator behind RandomColumn: 64 random bits for
// (seed, stream, row, draw). Exposed so tests can recompute values.
KERNELS_HD inline uint64_t RandomBits(uint64_t seed, uint64_t stream, uint64_t row, uint64_t draw) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull ^ (stream + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull;
  z ^= (row + 1) * 0x94D049BB133111EBull;
  z += draw * 0xD6E8FEB86659FD93ull;
  for (int k = 0; k < 2; ++k) {
    z ^= z >> 30;
    z *= 0xBF58476D1CE4E5B9ull;
    z ^= z >> 27;
    z *= 0x94D049BB133111EBull;
    z ^= z >> 31;
  }
  return z;
}

// A double uniform in [0, 1) from RandomBits.
KERNELS_HD inline double RandomUnit(uint64_t bits) {
  return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace kernels
