#include "alloc.h"

#include <atomic>
#include <cstdlib>

#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

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

#if defined(__linux__)
namespace {
constexpr size_t kHugePage = size_t{2} << 20;
// Blocks from this size on are mapped directly (and may use huge pages).
constexpr size_t kMapThreshold = size_t{4} << 20;

size_t roundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

void* mapHuge(size_t bytes) noexcept {
  size_t length = roundUp(bytes, kHugePage);
  if (length < bytes || length > SIZE_MAX - kHugePage) return nullptr;
  // Over-map by one huge page, then trim head and tail so the block is 2 MiB-aligned.
  void* raw = mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = roundUp(start, kHugePage);
  if (aligned > start) munmap(raw, aligned - start);
  uintptr_t end = aligned + length;
  uintptr_t rawEnd = start + length + kHugePage;
  if (rawEnd > end) munmap(reinterpret_cast<void*>(end), rawEnd - end);
  void* block = reinterpret_cast<void*>(aligned);
  madvise(block, length, MADV_HUGEPAGE);  // advice only: failure is harmless
  return block;
}
}  // namespace
#endif

void* allocateZeroedBytes(size_t bytes) noexcept {
  if (injectedFailure()) return nullptr;
#if defined(__linux__)
  if (bytes >= kMapThreshold) return mapHuge(bytes);
#endif
  return std::calloc(1, bytes == 0 ? 1 : bytes);
}

size_t zeroedFootprint(size_t bytes) noexcept {
#if defined(__linux__)
  if (bytes >= kMapThreshold) return roundUp(bytes, kHugePage);
#endif
  return bytes;
}

void freeZeroedBytes(void* p, [[maybe_unused]] size_t bytes) noexcept {
  if (p == nullptr) return;
#if defined(__linux__)
  if (bytes >= kMapThreshold) {
    munmap(p, roundUp(bytes, kHugePage));
    return;
  }
#endif
  std::free(p);
}

void freeBytes(void* p) noexcept { std::free(p); }

void failNthAllocation(uint64_t n) noexcept { g_failCountdown.store(n, std::memory_order_relaxed); }

uint64_t allocationCount() noexcept { return g_allocations.load(std::memory_order_relaxed); }

size_t maxTableBytes() noexcept {
  static const size_t limit = [] {
#if defined(__wasm__)
    return static_cast<size_t>(SIZE_MAX);  // wasm32: linear memory (4 GiB) is the limit
#endif
    size_t fallback = SIZE_MAX / 4;
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long pageSize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && pageSize > 0 && static_cast<unsigned long>(pages) <= SIZE_MAX / static_cast<unsigned long>(pageSize)) {
      return static_cast<size_t>(pages) * static_cast<size_t>(pageSize);
    }
#endif
    return fallback;
  }();
  return limit;
}

}  // namespace gomap
