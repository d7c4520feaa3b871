// Memory for the core: every byte a map holds goes through a MemoryAccount, which counts
// it (for stats().bytes) and turns allocation failure into a nullptr instead of an
// exception. A process-wide test hook can make the Nth allocation from now fail, so tests
// can prove that every operation either completes or leaves its map unchanged.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gomap {

// Raw allocation: nullptr on failure (or when the failure-injection hook says so).
void* allocateBytes(size_t bytes) noexcept;
// Like allocateBytes, but the memory reads as zeros. Large blocks (bucket arrays of big
// tables) are mapped straight from the OS, 2 MiB-aligned and marked for transparent huge
// pages: a lookup in a 300 MB table then misses the TLB far less often. Free them with
// freeZeroedBytes and the same size.
void* allocateZeroedBytes(size_t bytes) noexcept;
void freeZeroedBytes(void* p, size_t bytes) noexcept;
// Bytes a zeroed block of the given size really occupies (mapped blocks round up).
size_t zeroedFootprint(size_t bytes) noexcept;
void freeBytes(void* p) noexcept;

// The largest bucket array a map may ask for: the machine's physical memory (a table
// bigger than RAM can never be used), or SIZE_MAX / 4 where that cannot be read. Maps
// refuse a hint or reserve() that needs more with Status::kTooLarge themselves, instead
// of relying on the OS to refuse the mapping (with vm.overcommit_memory=1 it would not,
// and clear() would later touch every page).
size_t maxTableBytes() noexcept;

// Test hook: the allocation `n` calls from now fails (n = 1: the next one), and every
// later one succeeds again. n = 0 disarms the hook.
void failNthAllocation(uint64_t n) noexcept;
// Number of allocations attempted so far in this process (for sweeping n in tests).
uint64_t allocationCount() noexcept;

// Counts the bytes one owner (a map) holds. Not thread-safe: one owner, one account.
class MemoryAccount {
 public:
  void* allocate(size_t bytes) noexcept {
    void* p = allocateBytes(bytes);
    if (p != nullptr) bytes_ += bytes;
    return p;
  }
  void* allocateZeroed(size_t bytes) noexcept {
    void* p = allocateZeroedBytes(bytes);
    if (p != nullptr) bytes_ += zeroedFootprint(bytes);
    return p;
  }
  void releaseZeroed(void* p, size_t bytes) noexcept {
    if (p == nullptr) return;
    bytes_ -= zeroedFootprint(bytes);
    freeZeroedBytes(p, bytes);
  }
  void release(void* p, size_t bytes) noexcept {
    if (p == nullptr) return;
    bytes_ -= bytes;
    freeBytes(p);
  }
  size_t bytes() const noexcept { return bytes_; }

 private:
  size_t bytes_ = 0;
};

}  // namespace gomap
