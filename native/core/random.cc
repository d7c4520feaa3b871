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
  // Fallback: clock and stack address, mixed. Weak, but only used without an OS source.
  uint64_t t = static_cast<uint64_t>(std::chrono::high_resolution_clock::now().time_since_epoch().count());
  uint64_t a = reinterpret_cast<uintptr_t>(&value);
  SplitMix64 mix(t ^ (a << 17));
  return mix.next();
}

}  // namespace gomap
