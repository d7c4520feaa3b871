// Mutex: the lock of the concurrent map's writers and of EBR's shared list, on every
// build of the core.
//
// Natively it is std::mutex. The WebAssembly threads build (GOMAP_WASM_THREADS, see
// scripts/build-wasm.mjs) has no threads library: libc++ for wasm32-wasi is built without
// threads, so <mutex> has no std::mutex there. That build gets a futex-style lock over
// one atomic word of the shared linear memory, in a form of the classic three-state one that records the owner:
//
//   0 unlocked   id locked by thread id   id | 2^31 locked, maybe waiters
//
// lock() takes 0 -> id with one compare-exchange when uncontended; else it spins briefly,
// then sets the waiters bit and sleeps in memory.atomic.wait32 (JS Atomics.wait, which Node
// allows on the main thread too) until unlock() finds the bit and wakes one waiter with
// memory.atomic.notify. The lock is not recursive (as std::mutex).
//
// A thread of the threads build can die anywhere: worker.terminate() stops wasm code at
// any function entry or loop back-edge, locks held. So that build's lock word records its
// owner (the thread id of native/wasm/thread_liveness.cc), waiters sleep in bounded
// slices and look whether the owner died (a watcher thread marks terminated threads
// dead), and a lock whose owner died is *broken*: never taken again, since what its owner
// was doing under it is half done. lock() then traps (JS: ERR_GOMAP_POISONED);
// lockUnlessOwnerDead() returns false instead, for
// callers that have a way out (the heap: allocation fails cleanly); lockOrTakeOver()
// takes it over, for a caller that can repair what the dead owner left (ConcurrentMap's
// write lock: the table is rebuilt from what readers see, see concurrent_map.h, and a
// shared cache's writer-only state after it, see shared_cache.h; the heap, the map
// registry and EBR's shared list, each kept whole at every step).
//
// Engine note: V8's baseline wasm compiler (Liftoff, Node 20) compiled this lock into code
// that let two threads in at once; JS turns Liftoff off before it compiles the threads
// module (lib/wasm/v8-workarounds.ts), and wasm-syncmap.lock tests it.
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
// Thread identity and liveness for the threads build (native/wasm/thread_liveness.cc):
// the calling thread's id (>= 1, never reused), whether an id's thread died holding what
// it held (terminated), and what a lock does when it finds its owner dead.
namespace liveness {
uint32_t selfId() noexcept;
bool isDead(uint32_t id) noexcept;
// Records (for the calling thread's JS) that a lock's owner died, then traps: the
// caller's call ends there, and JS turns the trap into ERR_GOMAP_POISONED.
[[noreturn]] void brokenLock() noexcept;
}  // namespace liveness

class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Takes the lock, or traps (liveness::brokenLock) when its owner died holding it: what
  // the owner was doing is half done, and nobody can finish it.
  void lock() noexcept {
    if (acquire(false) != kLocked) liveness::brokenLock();
  }
  // Takes the lock and returns true, or returns false (without it) when its owner died
  // holding it. The lock stays in that state for good: every later caller gets false.
  bool lockUnlessOwnerDead() noexcept { return acquire(false) == kLocked; }
  // Takes the lock, also from an owner that died holding it: true then, and the caller
  // must first repair what that owner left half done (ConcurrentMap's write lock).
  bool lockOrTakeOver() noexcept { return acquire(true) == kTakenOver; }
  bool try_lock() noexcept {
    uint32_t c = 0;
    return word_.compare_exchange_strong(c, liveness::selfId(), std::memory_order_acquire, std::memory_order_relaxed);
  }
  // try_lock that also takes the lock from an owner that died (*tookOver true then).
  bool tryLockOrTakeOver(bool* tookOver) noexcept {
    *tookOver = false;
    const uint32_t self = liveness::selfId();
    uint32_t c = 0;
    if (word_.compare_exchange_strong(c, self, std::memory_order_acquire, std::memory_order_relaxed)) return true;
    if (c == 0 || !liveness::isDead(c & ~kWaiters)) return false;
    if (!word_.compare_exchange_strong(c, self | kWaiters, std::memory_order_acquire, std::memory_order_relaxed)) {
      return false;
    }
    *tookOver = true;
    return true;
  }
  void unlock() noexcept {
    if ((word_.exchange(0, std::memory_order_release) & kWaiters) != 0) {
      __builtin_wasm_memory_atomic_notify(address(), 1);
    }
  }

 private:
  enum Acquired { kLocked, kTakenOver, kOwnerDead };
  Acquired acquire(bool takeOver) noexcept {
    const uint32_t self = liveness::selfId();
    uint32_t c = 0;
    if (word_.compare_exchange_strong(c, self, std::memory_order_acquire, std::memory_order_relaxed)) return kLocked;
    for (int spin = 0; spin < kSpins; ++spin) {
      c = 0;
      if (word_.load(std::memory_order_relaxed) == 0 &&
          word_.compare_exchange_strong(c, self, std::memory_order_acquire, std::memory_order_relaxed)) {
        return kLocked;
      }
    }
    for (;;) {
      c = word_.load(std::memory_order_relaxed);
      if (c == 0) {
        // Taken with the waiters bit: another thread may still sleep on the word.
        if (word_.compare_exchange_strong(c, self | kWaiters, std::memory_order_acquire, std::memory_order_relaxed)) {
          return kLocked;
        }
        continue;
      }
      if (liveness::isDead(c & ~kWaiters)) {
        if (!takeOver) return kOwnerDead;
        if (word_.compare_exchange_strong(c, self | kWaiters, std::memory_order_acquire, std::memory_order_relaxed)) {
          return kTakenOver;
        }
        continue;
      }
      if ((c & kWaiters) == 0 &&
          !word_.compare_exchange_strong(c, c | kWaiters, std::memory_order_relaxed, std::memory_order_relaxed)) {
        continue;
      }
      // Bounded sleeps: an owner terminated with the lock never notifies, so the waiter
      // looks again at whether it died.
      __builtin_wasm_memory_atomic_wait32(address(), static_cast<int>(c | kWaiters), kWaitNanos);
    }
  }

  static constexpr int kSpins = 64;
  static constexpr uint32_t kWaiters = 0x8000'0000u;
  static constexpr int64_t kWaitNanos = 20'000'000;  // 20 ms
  int* address() noexcept { return reinterpret_cast<int*>(&word_); }
  // 0: unlocked; else the owner's id, with kWaiters when another thread may be waiting.
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
