// Epoch-based reclamation: the process-global domain (see epoch.h for the design).
#include "epoch.h"

#include <new>

#include "lock.h"

namespace gomap {
namespace ebr {

namespace detail {
// Starts at one step so that a pinned word (epoch | kPinnedBit) is never 0. Read by
// every pin: on its own cache line with the (read-mostly) shared-list flag.
alignas(kCacheLine) std::atomic<uint64_t> g_epoch{kEpochStep};
std::atomic<bool> g_sharedPending{false};
}  // namespace detail

namespace {
std::atomic<ThreadRecord*> g_records{nullptr};  // every record ever made (push-only list)
alignas(kCacheLine) std::atomic<uint64_t> g_pending{0};  // retired, not freed (written by
                                                         // every retire: own line)

// The shared list: objects of unregistered threads and large objects, waiting for their
// epoch to pass. Guarded by g_orphanLock; collectors only try_lock it, and holders only
// splice or walk it, so nobody ever waits long. detail::g_sharedPending says whether it
// is non-empty (set under the lock).
Mutex g_orphanLock;
Retired* g_orphanHead = nullptr;
Retired* g_orphanTail = nullptr;

// g_orphanLock for one critical section (or a try). On the WebAssembly threads build a
// thread can die holding it (worker.terminate(): lock.h): the next one takes it over.
// Every step under it keeps the list whole from its head (collectOrphans unlinks an
// object before it frees it; share links the chain before it moves the tail), so only
// the tail may be stale then: it is found again.
class OrphanLock {
 public:
  explicit OrphanLock(bool tryOnly) noexcept {
#if defined(GOMAP_WASM_THREADS)
    bool tookOver = false;
    if (tryOnly) {
      owns_ = g_orphanLock.tryLockOrTakeOver(&tookOver);
    } else {
      tookOver = g_orphanLock.lockOrTakeOver();
      owns_ = true;
    }
    if (tookOver) {
      Retired* last = nullptr;
      for (Retired* r = g_orphanHead; r != nullptr; r = r->next) last = r;
      g_orphanTail = last;
    }
#else
    if (tryOnly) {
      owns_ = g_orphanLock.try_lock();
    } else {
      g_orphanLock.lock();
      owns_ = true;
    }
#endif
  }
  ~OrphanLock() {
    if (owns_) g_orphanLock.unlock();
  }
  bool owns() const noexcept { return owns_; }
  OrphanLock(const OrphanLock&) = delete;
  OrphanLock& operator=(const OrphanLock&) = delete;

 private:
  bool owns_ = false;
};
}  // namespace

struct Domain {
  // Advances the global epoch by one step if every pinned thread is pinned at it.
  static bool tryAdvance() noexcept {
    uint64_t e = detail::g_epoch.load(std::memory_order_seq_cst);
    for (ThreadRecord* r = g_records.load(std::memory_order_acquire); r != nullptr; r = r->nextRecord_) {
      if (!r->inUse_.load(std::memory_order_acquire)) continue;
      uint64_t local = r->epoch_.load(std::memory_order_seq_cst);
      if ((local & kPinnedBit) != 0 && (local & ~kPinnedBit) != e) return false;
    }
    uint64_t expected = e;
    detail::g_epoch.compare_exchange_strong(expected, e + kEpochStep, std::memory_order_acq_rel,
                                            std::memory_order_acquire);
    return true;  // advanced, by us or by someone else
  }

  static bool oldEnough(const Retired* obj, uint64_t now) { return obj->epoch + kReclaimDistance <= now; }

  // Frees the oldest objects of a FIFO list while they are old enough, each one unlinked
  // and counted (in `pending` and g_pending) before it is freed: a thread of the
  // WebAssembly threads build can die inside a reclaim (lock.h), and whoever releases its
  // record then finds the list and the counts whole.
  static void freeOldEnough(Retired*& head, Retired*& tail, size_t& pending, uint64_t now) noexcept {
    while (head != nullptr && oldEnough(head, now)) {
      Retired* obj = head;
      head = obj->next;
      if (head == nullptr) tail = nullptr;
      --pending;
      g_pending.fetch_sub(1, std::memory_order_relaxed);
      obj->reclaim(obj);
    }
  }

  static void collectOrphans(uint64_t now) noexcept {
    OrphanLock lock(/*tryOnly=*/true);
    if (!lock.owns() || g_orphanHead == nullptr) return;
    // Orphan lists are appended whole, so the list is not in stamp order overall: walk it
    // all, keeping the young ones. Each object is unlinked (and counted) before it is
    // freed, so the list is whole at every step (see OrphanLock).
    Retired** link = &g_orphanHead;
    Retired* last = nullptr;
    while (Retired* obj = *link) {
      if (oldEnough(obj, now)) {
        *link = obj->next;
        if (g_orphanTail == obj) g_orphanTail = last;
        g_pending.fetch_sub(1, std::memory_order_relaxed);
        obj->reclaim(obj);
      } else {
        last = obj;
        link = &obj->next;
      }
    }
    g_orphanTail = last;
    detail::g_sharedPending.store(g_orphanHead != nullptr, std::memory_order_relaxed);
  }

  // Appends a chain (head..tail) to the shared list.
  static void share(Retired* head, Retired* tail) noexcept {
    OrphanLock lock(/*tryOnly=*/false);
    if (g_orphanTail != nullptr) g_orphanTail->next = head;
    else g_orphanHead = head;
    g_orphanTail = tail;
    detail::g_sharedPending.store(true, std::memory_order_relaxed);
  }

  // Called by a thread leaving its outermost Guard while the shared list is non-empty.
  static void helpReclaimShared(ThreadRecord& rec) noexcept {
    (void)rec;
    if (tryAdvance()) tryAdvance();
    collectOrphans(detail::g_epoch.load(std::memory_order_acquire));
  }

  static bool collect(ThreadRecord& rec) noexcept {
    rec.sinceCollect_ = 0;
    // Two advances make everything retired before this call old enough, if nobody is
    // pinned at an older epoch.
    if (tryAdvance()) tryAdvance();
    uint64_t now = detail::g_epoch.load(std::memory_order_acquire);
    freeOldEnough(rec.head_, rec.tail_, rec.pending_, now);
    collectOrphans(now);
    return rec.pending_ == 0;
  }

  static ThreadRecord* reuseFreeRecord() noexcept {
    for (ThreadRecord* r = g_records.load(std::memory_order_acquire); r != nullptr; r = r->nextRecord_) {
      bool expected = false;
      if (!r->inUse_.load(std::memory_order_relaxed) &&
          r->inUse_.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
        return r;
      }
    }
    return nullptr;
  }

  static ThreadRecord* registerThread() noexcept {
    if (ThreadRecord* r = reuseFreeRecord()) return r;
    auto* r = new (std::nothrow) ThreadRecord();
    if (r == nullptr) return nullptr;
    r->inUse_.store(true, std::memory_order_relaxed);
    ThreadRecord* head = g_records.load(std::memory_order_relaxed);
    do {
      r->nextRecord_ = head;
    } while (!g_records.compare_exchange_weak(head, r, std::memory_order_release, std::memory_order_relaxed));
    return r;
  }

  static void unregisterThread(ThreadRecord* rec) noexcept {
    if (rec == nullptr) return;
    rec->nesting_ = 0;
    rec->epoch_.store(0, std::memory_order_release);
    collect(*rec);
    if (rec->head_ != nullptr) share(rec->head_, rec->tail_);
    rec->head_ = rec->tail_ = nullptr;
    rec->pending_ = 0;
    rec->sinceCollect_ = 0;
    rec->inUse_.store(false, std::memory_order_release);
  }

  static void stamp(Retired* obj, void (*reclaim)(Retired*)) noexcept {
    obj->reclaim = reclaim;
    obj->next = nullptr;
    // The stamp is read after the unlink (the caller's release store) in the total order.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    obj->epoch = detail::g_epoch.load(std::memory_order_seq_cst);
  }

  static void retireShared(ThreadRecord& rec, Retired* obj, void (*reclaim)(Retired*)) noexcept {
    stamp(obj, reclaim);
    g_pending.fetch_add(1, std::memory_order_relaxed);
    share(obj, obj);
    (void)rec;
  }

  static void retire(ThreadRecord& rec, Retired* obj, void (*reclaim)(Retired*)) noexcept {
    stamp(obj, reclaim);
    if (rec.tail_ != nullptr) rec.tail_->next = obj;
    else rec.head_ = obj;
    rec.tail_ = obj;
    ++rec.pending_;
    g_pending.fetch_add(1, std::memory_order_relaxed);
    if (++rec.sinceCollect_ >= kForcedCollectInterval) collect(rec);
  }
};

ThreadRecord* registerThread() noexcept { return Domain::registerThread(); }
void unregisterThread(ThreadRecord* rec) noexcept { Domain::unregisterThread(rec); }
void retire(ThreadRecord& rec, Retired* obj, void (*reclaim)(Retired*)) noexcept {
  Domain::retire(rec, obj, reclaim);
}
void retireShared(ThreadRecord& rec, Retired* obj, void (*reclaim)(Retired*)) noexcept {
  Domain::retireShared(rec, obj, reclaim);
}
bool collect(ThreadRecord& rec) noexcept { return Domain::collect(rec); }
void detail::helpReclaimShared(ThreadRecord& rec) noexcept { Domain::helpReclaimShared(rec); }
uint64_t pendingObjects() noexcept { return g_pending.load(std::memory_order_relaxed); }
uint64_t currentEpoch() noexcept { return detail::g_epoch.load(std::memory_order_acquire); }

}  // namespace ebr
}  // namespace gomap
