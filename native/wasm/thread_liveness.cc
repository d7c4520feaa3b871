// Thread identity and liveness of the WebAssembly threads build (wasm/gomap-threads.wasm):
// which thread the running code belongs to, and whether a thread died (was terminated)
// while it may have held something. core/lock.h's Mutex records its owner with this and
// breaks a lock whose owner died instead of waiting for ever.
//
// Why it is needed. A native thread cannot be stopped in the middle of native code, but
// worker.terminate() stops a worker's wasm code at the next function entry or loop
// back-edge, whatever it holds: a map's write lock, the heap lock, the registry lock,
// EBR's shared-list lock, an epoch pin. No JS runs in that thread afterwards, so nothing
// it holds is ever released by it.
//
// Ids. A thread takes an id (gomap_sync_claim_id) and registers it with the watcher
// before it takes any lock, then gets its stack under it (gomap_sync_stack, under the
// JS boot lock): 1, 2, 3, ... never reused in the memory's life (a broken lock word holds its dead
// owner's id for good, so a reused id would revive it). kMaxIds ids per memory; past them,
// a thread cannot start (0: JS throws out of memory).
//
// "Which thread is running" without thread-locals: each instance has its own
// __stack_pointer, pointing into its thread's own stack, a run of whole 64 KiB pages of
// the heap (threads_heap.cc). g_pageOwner says whose stack a page is, so selfId() is one
// load indexed by the stack pointer. Code on the module's static stack runs only under
// the boot lock, for the thread named by g_bootOwner.
//
// States of an id: kLive, kDead (its thread died; locks it owns are broken), kEnded (it
// ended normally, holding nothing; its stack is still in use until its thread is gone),
// kGone (ended, and its stack freed once the watcher saw its thread go). A thread is
// marked dead by
//   - the watcher (lib/wasm/sync-watcher.ts): an internal worker that holds one
//     MessagePort per thread of the memory; Node closes a port's peer when the thread
//     owning it dies, terminated or not, and the watcher then calls gomap_sync_release_dead
//     (sync_exports.cc), which also unpins its EBR record and frees its state;
//   - the thread itself after a trap (gomap_sync_thread_renew): a trapped call may have
//     left a lock held or the epoch pinned, so the thread gives up that id (what it held
//     is broken like a dead thread's) and goes on under a new one.
#include "thread_liveness.h"

#include <atomic>
#include <cstdint>

namespace {

constexpr uint32_t kMaxIds = uint32_t{1} << 16;
constexpr uint32_t kPages = 65536;  // 64 KiB pages of wasm32's 4 GiB
constexpr uint8_t kLive = 1, kDead = 2, kEnded = 3, kGone = 4;  // 0: never used

std::atomic<uint8_t> g_state[kMaxIds];
std::atomic<uint8_t> g_brokenSeen[kMaxIds];  // the id's last trap came from a broken lock
std::atomic<uint32_t> g_nextId{1};
std::atomic<uint32_t> g_pageOwner[kPages];
std::atomic<uint32_t> g_bootOwner{0};
void* g_threadOf[kMaxIds];  // the id's Thread (sync_exports.cc), for release by the watcher
void* g_stackOf[kMaxIds];   // the base of the id's stack (freed with a dead thread)
uint32_t g_stackBytes[kMaxIds];

uint32_t stackPage() {
  // The frame address is at most the stack's top: one below it is inside the stack.
  return static_cast<uint32_t>((reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) - 1) >> 16);
}

}  // namespace

namespace gomap::liveness {

uint32_t selfId() noexcept {
  const uint32_t owner = g_pageOwner[stackPage()].load(std::memory_order_relaxed);
  return owner != 0 ? owner : g_bootOwner.load(std::memory_order_relaxed);
}

bool isDead(uint32_t id) noexcept { return id < kMaxIds && g_state[id].load(std::memory_order_acquire) == kDead; }

void brokenLock() noexcept {
  const uint32_t self = selfId();
  if (self < kMaxIds) g_brokenSeen[self].store(1, std::memory_order_relaxed);
  __builtin_trap();
}

uint32_t claimId() noexcept {
  uint32_t id = g_nextId.load(std::memory_order_relaxed);
  do {
    if (id >= kMaxIds) return 0;
  } while (!g_nextId.compare_exchange_weak(id, id + 1, std::memory_order_relaxed));
  g_state[id].store(kLive, std::memory_order_release);
  return id;
}

uint32_t claimBootId(uint32_t id) noexcept {
  if (id == 0 || id >= kMaxIds) id = claimId();
  if (id != 0) g_bootOwner.store(id, std::memory_order_relaxed);
  return id;
}

void ownStack(uint32_t id, void* base, uint32_t bytes) noexcept {
  const auto first = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(base) >> 16);
  const auto end = static_cast<uint32_t>((reinterpret_cast<uintptr_t>(base) + bytes + 0xffff) >> 16);
  for (uint32_t p = first; p < end; ++p) g_pageOwner[p].store(id, std::memory_order_relaxed);
  g_stackOf[id] = base;
  g_stackBytes[id] = bytes;
}

uint32_t renewSelf() noexcept {
  const uint32_t old = selfId();
  const uint32_t id = claimId();
  const bool fresh = id != 0;
  if (fresh) {
    if (old < kMaxIds) {
      ownStack(id, g_stackOf[old], g_stackBytes[old]);
      g_threadOf[id] = g_threadOf[old];
    }
  }
  if (old < kMaxIds) {
    g_threadOf[old] = nullptr;
    g_stackOf[old] = nullptr;
    g_brokenSeen[old].store(0, std::memory_order_relaxed);
    g_state[old].store(kDead, std::memory_order_release);  // what it held is broken now
  }
  return fresh ? id : 0;
}

void setThreadOf(uint32_t id, void* thread) noexcept {
  if (id < kMaxIds) g_threadOf[id] = thread;
}

bool markDead(uint32_t id, void** thread, void** stack) noexcept {
  if (id == 0 || id >= kMaxIds) return false;
  uint8_t live = kLive;
  if (!g_state[id].compare_exchange_strong(live, kDead, std::memory_order_acq_rel)) return false;
  *thread = g_threadOf[id];
  *stack = g_stackOf[id];
  g_threadOf[id] = nullptr;
  g_stackOf[id] = nullptr;
  return true;
}

bool markGone(uint32_t id, void** stack) noexcept {
  if (id == 0 || id >= kMaxIds) return false;
  uint8_t ended = kEnded;
  if (!g_state[id].compare_exchange_strong(ended, kGone, std::memory_order_acq_rel)) return false;
  *stack = g_stackOf[id];
  g_stackOf[id] = nullptr;
  g_threadOf[id] = nullptr;
  return true;
}

void markEnded() noexcept {
  const uint32_t self = selfId();
  uint8_t live = kLive;
  if (self < kMaxIds) g_state[self].compare_exchange_strong(live, kEnded, std::memory_order_acq_rel);
}

bool takeBrokenSeen() noexcept {
  const uint32_t self = selfId();
  return self < kMaxIds && g_brokenSeen[self].exchange(0, std::memory_order_relaxed) != 0;
}

}  // namespace gomap::liveness
