// Randomness for the core: per-map hash seeds (Go's hash0) and iteration start points.
// Each map owns a SplitMix64 stream seeded either from the operating system's entropy
// (the default: attackers cannot predict the seed) or from a fixed seed the caller
// gives (tests and reproducible benchmarks). Re-seeding after clear() draws from the
// same stream, so a fixed-seed map stays reproducible.
#pragma once

#include <cstdint>

namespace gomap {

// 64 bits from the OS entropy source (getrandom / random_device); never fails: falls back
// to mixing the clock and an address if the OS source is unavailable.
uint64_t entropy64() noexcept;

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) noexcept : state_(seed) {}
  uint64_t next() noexcept {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

}  // namespace gomap
