// Epoch-based reclamation (EBR): when memory that lock-free readers may still be reading
// can be freed.
//
// A concurrent map unlinks an object (a replaced entry, an old bucket array) with an
// atomic store, but a reader that loaded the old pointer just before may still be
// dereferencing it. EBR defers the free until every such reader is done:
//
//   - A process-wide epoch counter, g_epoch, advances in steps of kEpochStep.
//   - Every thread that reads registers a ThreadRecord once. For the duration of one
//     operation it is *pinned* (Guard): its record holds the epoch it saw, with the low
//     bit set. Outside an operation its record holds 0 and it never blocks anything.
//   - An unlinked object is *retired*: stamped with the epoch read after the unlink, and
//     appended to the retiring thread's list.
//   - The epoch advances from e to e+1 (one step) only when every pinned thread is pinned
//     at e. A thread pinned at e-1 or earlier may still hold pointers it loaded before an
//     unlink stamped e-1, so it must leave first. (A thread that read the epoch just
//     before an advance pins at the stale value: that only holds the epoch back longer.)
//   - An object stamped e is freed once g_epoch >= e + 2 steps: every thread pinned now
//     pinned after the object was unlinked, so it cannot have loaded its pointer.
//
//   thread A (reader)                      thread B (writer)
//   pin: rec.epoch = g_epoch | 1  (SC)     slot.store(newEntry)      unlink
//   p = slot.load()                        retire(old, stamp = g_epoch)
//   ... read *p ...                        ... later: free old once g_epoch >= stamp + 2
//   unpin: rec.epoch = 0  (release)
//
// The pin is a sequentially consistent exchange (one `xchg` on x86), and the scan that
// advances the epoch reads every record with sequentially consistent loads: either the
// scan sees the reader pinned (and waits for it), or the reader's pin comes after the
// scan in the single total order, and then it loads pointers only after the unlink.
//
// Retirement is intrusive: a retirable object starts with a `Retired` header, so retiring
// never allocates and never fails. Each record keeps its retired objects in a FIFO list,
// oldest first, so freeing stops at the first object that is still too young. A thread
// collects (advances the epoch if it can, frees what is old enough) every
// kCollectInterval retirements, when it leaves its outermost Guard: unpinned, so its own
// pin does not hold the epoch back, and outside any lock it took inside the guard.
//
// Large objects (a bucket array after a grow) must not wait for their retiring thread
// to retire 64 more things: a map filled once and then only read would keep its last
// old table forever. retireShared puts them on the global list and raises a flag;
// every thread leaving a Guard checks the flag (one relaxed load) and, when set, helps
// (every kHelpInterval-th time, so readers do not all contend on the list):
// it advances the epoch if it can and frees what is old enough. Objects of unregistered
// threads go to the same list, so readers free them too.
//
// Threads come and go (Node workers start, exit, are terminated). unregisterThread moves
// the record's pending objects to the shared list (freed by whichever thread collects or
// helps next), marks the record unpinned and free for reuse; it waits for nothing but
// the shared list's short critical sections. Records
// are never freed while the process lives (a registering thread reuses a free one), so a
// scan can walk the record list without locks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace gomap {
namespace ebr {

// Header of a retirable object. The object must stay allocated until reclaim(it) runs.
struct Retired {
  Retired* next = nullptr;
  uint64_t epoch = 0;
  void (*reclaim)(Retired*) = nullptr;
};

// Epochs advance by 2: bit 0 of a record's epoch word means "pinned".
constexpr uint64_t kEpochStep = 2;
constexpr uint64_t kPinnedBit = 1;
// An object stamped e is freed once the global epoch reaches e + kReclaimDistance.
constexpr uint64_t kReclaimDistance = 2 * kEpochStep;
// A thread tries to advance the epoch and free its list after this many retirements
// (when it leaves its outermost Guard; or in retire itself at 4x, for callers that
// retire outside a Guard).
constexpr uint32_t kCollectInterval = 64;
constexpr uint32_t kForcedCollectInterval = 4 * kCollectInterval;
// While the shared list is non-empty, a thread helps free it every this many unpins.
constexpr uint32_t kHelpInterval = 16;
constexpr size_t kCacheLine = 64;

// One registered thread. Only its owning thread touches the fields below `epoch`.
class alignas(kCacheLine) ThreadRecord {
 public:
  ThreadRecord() = default;
  ThreadRecord(const ThreadRecord&) = delete;
  ThreadRecord& operator=(const ThreadRecord&) = delete;

  // Whether this thread is inside a Guard now.
  bool pinned() const { return nesting_ != 0; }
  // Objects this thread retired that are not freed yet.
  size_t pendingCount() const { return pending_; }

 private:
  friend class Guard;
  friend struct Domain;
  std::atomic<uint64_t> epoch_{0};     // 0: not pinned; else epoch | kPinnedBit
  std::atomic<bool> inUse_{false};     // registered to a live thread
  ThreadRecord* nextRecord_ = nullptr; // global record list (set once, before publishing)
  uint32_t nesting_ = 0;               // Guards alive on this thread
  uint32_t sinceCollect_ = 0;          // retirements since the last collection
  uint32_t unpins_ = 0;                // for kHelpInterval
  Retired* head_ = nullptr;            // retired objects, oldest first
  Retired* tail_ = nullptr;
  size_t pending_ = 0;
};

// Registers the calling thread (or reuses a free record). nullptr when out of memory.
ThreadRecord* registerThread() noexcept;
// Unregisters: the record must not be used afterwards by anyone. Never blocks on other
// threads, and the record never holds back reclamation afterwards. Call it from the
// owning thread, or once the owning thread can no longer use the record.
void unregisterThread(ThreadRecord* rec) noexcept;

// Retires `obj` (unlinked from every shared structure already): reclaim(obj) runs once no
// thread pinned now (or earlier) can still hold a pointer to it. Never fails.
void retire(ThreadRecord& rec, Retired* obj, void (*reclaim)(Retired*)) noexcept;
// Retires a large object on the shared list: any thread leaving a Guard helps free it.
void retireShared(ThreadRecord& rec, Retired* obj, void (*reclaim)(Retired*)) noexcept;

// Tries to advance the epoch and frees what this thread (and orphaned records) retired
// long enough ago. Returns true when this thread has nothing pending any more. Cheap to
// call; never blocks on another thread (the orphan list is taken with try_lock).
bool collect(ThreadRecord& rec) noexcept;

// Objects retired (by any thread) and not yet freed: for tests and stats.
uint64_t pendingObjects() noexcept;
// The global epoch (tests).
uint64_t currentEpoch() noexcept;

namespace detail {
extern std::atomic<uint64_t> g_epoch;
extern std::atomic<bool> g_sharedPending;  // the shared list holds objects
void helpReclaimShared(ThreadRecord& rec) noexcept;
}  // namespace detail

// Pins the current epoch for one operation (RAII). Guards nest: only the outermost pins.
class Guard {
 public:
  explicit Guard(ThreadRecord& rec) noexcept : rec_(rec) {
    if (rec.nesting_++ == 0) pin();
  }
  ~Guard() {
    if (--rec_.nesting_ != 0) return;
    rec_.epoch_.store(0, std::memory_order_release);
    // Reclamation work happens here, unpinned and outside any lock the caller held
    // inside the guard: the thread's own list, then help with the shared list.
    if (rec_.sinceCollect_ >= kCollectInterval) {
      collect(rec_);
    } else if (detail::g_sharedPending.load(std::memory_order_relaxed) && ++rec_.unpins_ % kHelpInterval == 0) {
      detail::helpReclaimShared(rec_);
    }
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

 private:
  void pin() noexcept {
    uint64_t e = detail::g_epoch.load(std::memory_order_relaxed);
    // A sequentially consistent RMW: the pin is ordered before every later load of a
    // shared pointer (see the header comment). On x86 this is a single xchg.
    rec_.epoch_.exchange(e | kPinnedBit, std::memory_order_seq_cst);
#if !defined(__x86_64__) && !defined(__i386__)
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
  }
  ThreadRecord& rec_;
};

}  // namespace ebr
}  // namespace gomap
