#include "alloc.h"

#include <atomic>
#include <cstdlib>

namespace gomap {

namespace {
// Countdown to the injected failure; 0 = disarmed. Atomic so that threaded tests stay
// race-free; the relaxed load on the fast path costs one ordinary load.
std::atomic<uint64_t> g_failCountdown{0};
std::atomic<uint64_t> g_allocations{0};
}  // namespace

namespace {
// True when the failure-injection hook says this allocation must fail.
bool injectedFailure() noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (g_failCountdown.load(std::memory_order_relaxed) == 0) return false;
  return g_failCountdown.fetch_sub(1, std::memory_order_relaxed) == 1;
}
}  // namespace

void* allocateBytes(size_t bytes) noexcept {
  if (injectedFailure()) return nullptr;
  return std::malloc(bytes == 0 ? 1 : bytes);
}

void* allocateZeroedBytes(size_t bytes) noexcept {
  if (injectedFailure()) return nullptr;
  return std::calloc(1, bytes == 0 ? 1 : bytes);
}

void freeBytes(void* p) noexcept { std::free(p); }

void failNthAllocation(uint64_t n) noexcept { g_failCountdown.store(n, std::memory_order_relaxed); }

uint64_t allocationCount() noexcept { return g_allocations.load(std::memory_order_relaxed); }

}  // namespace gomap
