// prefetchForRead: start loading a cache line that a lookup will read soon.
//
// Batched lookups (GoMap::getMany, ConcurrentMap::loadMany) hash a window of keys ahead
// and touch their home buckets before they are needed, so the cache misses of
// independent lookups overlap instead of being paid one after the other.
//
// On native targets this is the compiler's prefetch hint. WebAssembly has no prefetch
// instruction (clang drops __builtin_prefetch for wasm32), so there the bucket's first
// byte is really loaded and folded into a sink that is never read: the load's value is
// needed by nothing that follows, so the CPU running the JIT-compiled code keeps going
// while the miss is outstanding, and several misses overlap within its out-of-order
// window. The sink is a volatile global: the load cannot be optimized away.
//
// A real load that misses holds up retirement until it arrives, so the CPU overlaps only
// the misses whose loads are close together in the instruction stream (within its
// reorder window). kPrefetchIsLoad tells batched lookups to issue them in tight groups.
#pragma once

#include <cstdint>

namespace gomap {

#if defined(__wasm__)
inline constexpr bool kPrefetchIsLoad = true;
namespace prefetch_detail {
inline volatile uint8_t sink;
}
inline void prefetchForRead(const void* p) {
  prefetch_detail::sink = *static_cast<const uint8_t*>(p);
}
#else
inline constexpr bool kPrefetchIsLoad = false;
inline void prefetchForRead(const void* p) { __builtin_prefetch(p); }
#endif

}  // namespace gomap
