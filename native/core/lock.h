// Mutex: the lock of the concurrent map's writers and of EBR's shared list, on every
// build of the core.
//
// Natively it is std::mutex. The WebAssembly threads build (GOMAP_WASM_THREADS, see
// scripts/build-wasm.mjs) has no threads library: libc++ for wasm32-wasi is built without
// threads, so <mutex> has no std::mutex there. That build gets a futex-style lock over
// one atomic word of the shared linear memory, in the classic three-state form:
//
//   0 unlocked   1 locked, nobody waits   2 locked, maybe waiters
//
// lock() takes 0 -> 1 with one compare-exchange when uncontended; else it spins briefly,
// then marks the word 2 and sleeps in memory.atomic.wait32 (JS Atomics.wait, which Node
// allows on the main thread too) until unlock() finds 2 and wakes one waiter with
// memory.atomic.notify. The lock is not recursive and has no owner check (as std::mutex).
//
// LockGuard / TryLockGuard are the scoped forms both builds use (std::lock_guard and
// std::unique_lock live in <mutex>, which the threads build cannot include).
#pragma once

#include <atomic>
#include <cstdint>

#if !defined(GOMAP_WASM_THREADS)
#include <mutex>
#endif

namespace gomap {

#if defined(GOMAP_WASM_THREADS)
class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() noexcept {
    uint32_t c = 0;
    if (word_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
    for (int spin = 0; spin < kSpins; ++spin) {
      c = 0;
      if (word_.load(std::memory_order_relaxed) == 0 &&
          word_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed)) {
        return;
      }
    }
    c = word_.exchange(2, std::memory_order_acquire);
    while (c != 0) {
      __builtin_wasm_memory_atomic_wait32(address(), 2, -1);  // returns at once unless the word is 2
      c = word_.exchange(2, std::memory_order_acquire);
    }
  }
  bool try_lock() noexcept {
    uint32_t c = 0;
    return word_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() noexcept {
    if (word_.exchange(0, std::memory_order_release) == 2) __builtin_wasm_memory_atomic_notify(address(), 1);
  }

 private:
  static constexpr int kSpins = 64;
  int* address() noexcept { return reinterpret_cast<int*>(&word_); }
  std::atomic<uint32_t> word_{0};
};
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(int), "wait32 works on the lock word itself");
#else
using Mutex = std::mutex;
#endif

template <class M>
class LockGuard {
 public:
  explicit LockGuard(M& m) noexcept : m_(m) { m_.lock(); }
  ~LockGuard() { m_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  M& m_;
};

template <class M>
class TryLockGuard {
 public:
  explicit TryLockGuard(M& m) noexcept : m_(m), owns_(m.try_lock()) {}
  ~TryLockGuard() {
    if (owns_) m_.unlock();
  }
  bool ownsLock() const noexcept { return owns_; }
  TryLockGuard(const TryLockGuard&) = delete;
  TryLockGuard& operator=(const TryLockGuard&) = delete;

 private:
  M& m_;
  bool owns_;
};

}  // namespace gomap
