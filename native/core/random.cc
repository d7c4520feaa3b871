#include "random.h"

#include <chrono>
#include <cstring>

#if defined(__linux__)
#include <sys/random.h>
#endif

namespace gomap {

uint64_t entropy64() noexcept {
  uint64_t value = 0;
#if defined(__linux__)
  if (getrandom(&value, sizeof value, 0) == static_cast<ssize_t>(sizeof value)) return value;
#endif
#if defined(__wasm__)
  // The WebAssembly build imports nothing (no clock, no OS): JS gives every map a seed
  // from crypto.getRandomValues, so this is never the source of a map's seed there.
  static uint64_t counter = 0;
  SplitMix64 mix(++counter ^ (static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&value)) << 17));
  return mix.next();
#else
  // Fallback: clock and stack address, mixed. Weak, but only used without an OS source.
  uint64_t t = static_cast<uint64_t>(std::chrono::high_resolution_clock::now().time_since_epoch().count());
  uint64_t a = reinterpret_cast<uintptr_t>(&value);
  SplitMix64 mix(t ^ (a << 17));
  return mix.next();
#endif
}

}  // namespace gomap
