// The C ABI of wasm/gomap-threads.wasm: SyncMap (core/concurrent_map.h) for every thread
// that instantiates the module over one shared WebAssembly.Memory (lib/wasm/sync-binding.ts).
//
// Threads. Each JS thread (main thread or worker) instantiates the module once per shared
// memory. Instances share linear memory, so everything static here (the map registry,
// EBR's epoch and records, the heap) is one per memory; each instance has its own
// globals, __stack_pointer included. An instance starts on the module's static stack,
// which all instances share, so before anything else a thread takes the boot lock (a
// word JS locks with Atomics), asks gomap_sync_stack for a stack of its own, points its
// __stack_pointer (exported) at it and unlocks; only gomap_sync_stack ever runs on the
// static stack. Then gomap_sync_thread_start gives it a Thread: its I/O area, its
// buffers and its EBR record (per-thread state passed explicitly: no thread_local).
//
// The I/O area (struct SyncIo in sync_thread.h, at the Thread's address):
//   key, value, old   Args in (abi.h): the key; the value to store; the expected value of
//                     compareAndSwap / compareAndDelete
//   out               Arg out: a value read; its bytes are copied into the thread's out
//                     buffer while the epoch is pinned (a view of map memory would not
//                     outlive the call: another thread may free the entry at once after)
//   stats             MapStats as 12 doubles; aux: the kinds of the map an attach refused
// An Arg of 8 bytes with ptr 0 carries its bytes in `word` (f64 / i64 keys and values).
//
// Maps are named by ids from a registry (generation * 2^20 + slot + 1, below 2^53): any
// thread attaches by id; a stale or forged id never reaches a live map of another
// generation. A view count per slot says when the registry's reference is dropped; the
// core map itself is freed when its last reference (views' and iterators') goes. A
// shared GoCache is a map of this registry too (shared_cache_exports.cc, registerMap).
//
// JS checks every argument (kinds, lengths, handles) before it calls: these functions
// trust their arguments and hold no map logic. Allocation failure is a negative result
// or a null address, never a trap.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "abi.h"
#include "core/alloc.h"
#include "core/concurrent_map.h"
#include "core/epoch.h"
#include "core/lock.h"
#include "sync_thread.h"
#include "thread_liveness.h"

namespace gomap::wasm {
namespace {

// ---- the registry of live maps --------------------------------------------------------------

constexpr uint32_t kSlotBits = 20;
constexpr uint32_t kMaxSlots = uint32_t{1} << kSlotBits;
constexpr double kSlotSpan = static_cast<double>(kMaxSlots);
constexpr uint32_t kMaxGeneration = uint32_t{1} << 30;

struct MapSlot {
  ConcurrentMap* map;
  uint32_t generation;
  uint32_t views;
  int32_t keyKind;
  int32_t valueKind;
};

Mutex g_registryLock;

// The registry lock for one call. Taken over from a thread that died holding it: every
// registry step leaves slots readable (at worst a slot whose map is set but whose view
// count is not: never matched again, the map leaked), so nothing needs repair.
class RegistryLock {
 public:
  RegistryLock() noexcept { g_registryLock.lockOrTakeOver(); }
  ~RegistryLock() { g_registryLock.unlock(); }
  RegistryLock(const RegistryLock&) = delete;
  RegistryLock& operator=(const RegistryLock&) = delete;
};
MapSlot* g_slots = nullptr;
uint32_t g_slotCount = 0;
uint32_t g_slotCapacity = 0;
uint32_t g_liveMaps = 0;
// Locked by JS (Atomics on this word) while a thread runs on the static stack.
alignas(8) int32_t g_bootLock = 0;

double idOf(uint32_t slot, uint32_t generation) { return static_cast<double>(generation) * kSlotSpan + slot + 1; }

Holding viewOf(double id) { return Holding{id, 0, 0}; }
Holding iteratorOf(uint32_t map, uint32_t iter) { return Holding{0, map, iter}; }

// The slot `id` names if it is live with that generation, else nullptr. Lock held.
MapSlot* slotOf(double id) {
  if (!(id >= 1 && id < kSlotSpan * kMaxGeneration)) return nullptr;
  const auto generation = static_cast<uint32_t>(id / kSlotSpan);
  const double rest = id - static_cast<double>(generation) * kSlotSpan;
  if (rest < 1 || rest != static_cast<double>(static_cast<uint32_t>(rest))) return nullptr;
  const uint32_t slot = static_cast<uint32_t>(rest) - 1;
  if (slot >= g_slotCount) return nullptr;
  MapSlot* s = &g_slots[slot];
  if (s->map == nullptr || s->generation != generation || s->views == 0) return nullptr;
  return s;
}

// Gives back one reference of map `id` (a view's); the last one frees the map (once its
// iterators are gone too).
void giveBackView(double id) {
  ConcurrentMap* last = nullptr;
  {
    RegistryLock lock;
    MapSlot* slot = slotOf(id);
    if (slot == nullptr) return;
    if (--slot->views == 0) {
      last = slot->map;
      slot->map = nullptr;
      --g_liveMaps;
    }
  }
  if (last != nullptr) last->release();
}

// A free slot (growing the table), or nullptr. Lock held.
MapSlot* freeSlot() {
  for (uint32_t i = 0; i < g_slotCount; ++i) {
    if (g_slots[i].map == nullptr) return &g_slots[i];
  }
  if (g_slotCount == kMaxSlots) return nullptr;
  if (g_slotCount == g_slotCapacity) {
    const uint32_t more = g_slotCapacity == 0 ? 64 : g_slotCapacity * 2;
    auto* grown = static_cast<MapSlot*>(std::realloc(g_slots, sizeof(MapSlot) * more));
    if (grown == nullptr) return nullptr;
    g_slots = grown;
    g_slotCapacity = more;
  }
  MapSlot* s = &g_slots[g_slotCount++];
  *s = MapSlot{nullptr, 0, 0, 0, 0};
  return s;
}

// Gives back what a thread's holdings name (its views' and iterators' references), for a
// thread that cannot: it ended, or it died (holdings.h).
void releaseHoldings(Thread* t) {
  Holdings& h = t->holdings;
  for (uint32_t i = h.size(); i-- > 0;) {
    const Holding held = h[i];
    if (held.iter != 0) {
      mapAt(held.map)->iterEnd(iterAt(held.iter));
    } else {
      giveBackView(held.mapId);
    }
  }
  h.clear();
}

}  // namespace
}  // namespace gomap::wasm

using gomap::Blob;
using gomap::ConcurrentMap;
using gomap::LockGuard;
using gomap::MapOptions;
using gomap::Mutex;
using gomap::Status;
using namespace gomap::wasm;

// ---- threads ------------------------------------------------------------------------------------

// The address of the boot lock word (see the header comment).
GOMAP_EXPORT(gomap_sync_boot_lock) uint32_t gomap_sync_boot_lock() { return addressOf(&g_bootLock); }

// A stack of `bytes` bytes for the calling thread: the address of its top (stacks grow
// down), or 0 when memory runs out. Runs on the static stack, under the boot lock.
// `id`: the thread's id from gomap_sync_claim_id (0: take one now; thread_liveness.cc):
// the heap lock records it.
GOMAP_EXPORT(gomap_sync_stack) uint32_t gomap_sync_stack(uint32_t bytes, uint32_t id0) {
  const uint32_t id = gomap::liveness::claimBootId(id0);
  if (id == 0) return 0;
  void* base = std::malloc(bytes);
  if (base == nullptr) return 0;
  gomap::liveness::ownStack(id, base, bytes);
  return addressOf(base) + bytes;
}

// The calling thread's state (its I/O area first), or 0 when memory runs out.
GOMAP_EXPORT(gomap_sync_thread_start) uint32_t gomap_sync_thread_start() {
  auto* t = static_cast<Thread*>(std::calloc(1, sizeof(Thread)));
  if (t == nullptr) return 0;
  t->rec = gomap::ebr::registerThread();
  if (t->rec == nullptr) {
    std::free(t);
    return 0;
  }
  gomap::liveness::setThreadOf(gomap::liveness::selfId(), t);
  return addressOf(t);
}

// Ends a thread's state: its EBR record is released (its retired objects go to the shared
// list), its buffers freed. Not its stack: the caller may still be running on it.
GOMAP_EXPORT(gomap_sync_thread_end) void gomap_sync_thread_end(uint32_t thread) {
  gomap::liveness::markEnded();  // first: the watcher must not release it too
  Thread* t = threadAt(thread);
  releaseHoldings(t);  // JS ended its views and iterators already: normally none are left
  gomap::ebr::unregisterThread(t->rec);
  std::free(t->scratch);
  std::free(t->out);
  std::free(t);
}

// A scratch buffer of at least `bytes` bytes (8-aligned), or 0 (the old one is kept then).
GOMAP_EXPORT(gomap_sync_scratch) uint32_t gomap_sync_scratch(uint32_t thread, uint32_t bytes) {
  Thread* t = threadAt(thread);
  if (bytes < 4096) bytes = 4096;
  if (bytes > t->scratchCapacity) {
    void* fresh = std::malloc(bytes);
    if (fresh == nullptr) return 0;
    std::free(t->scratch);
    t->scratch = static_cast<uint8_t*>(fresh);
    t->scratchCapacity = bytes;
  }
  return addressOf(t->scratch);
}

// ---- maps -----------------------------------------------------------------------------------------

namespace gomap::wasm {
double registerMap(Thread* t, ConcurrentMap* map, int32_t keyKind, int32_t valueKind) noexcept {
  double id;
  {
    RegistryLock lock;
    MapSlot* slot = freeSlot();
    if (slot == nullptr) {
      map->release();
      return kResultNoMemory;
    }
    slot->generation = slot->generation + 1 >= kMaxGeneration ? 1 : slot->generation + 1;
    slot->map = map;
    slot->views = 1;
    slot->keyKind = keyKind;
    slot->valueKind = valueKind;
    ++g_liveMaps;
    id = idOf(static_cast<uint32_t>(slot - g_slots), slot->generation);
  }
  if (!t->holdings.add(viewOf(id))) {
    giveBackView(id);
    return kResultNoMemory;
  }
  return id;
}
}  // namespace gomap::wasm

// A new map with one view: its id (> 0), or kResultNoMemory / kResultTooLarge (hint).
// Kinds are the façade's codes (lib/wasm/sync-binding.ts); stored for attach's check.
GOMAP_EXPORT(gomap_sync_create)
double gomap_sync_create(uint32_t thread, int32_t keyKind, int32_t valueKind, double hint, uint32_t seedLo, uint32_t seedHi) {
  const MapOptions options = seededOptions(hint, seedLo, seedHi);
  ConcurrentMap* map = nullptr;
  Status s = ConcurrentMap::create(options, &map);
  if (s != Status::kOk) return resultOf(s);
  return registerMap(threadAt(thread), map, keyKind, valueKind);
}

// The map's address for a new view (0: no live map has that id; 1: it has other kinds,
// which go to io.aux of `thread` as keyKind * 16 + valueKind; 2: out of memory).
GOMAP_EXPORT(gomap_sync_attach)
uint32_t gomap_sync_attach(uint32_t thread, double id, int32_t keyKind, int32_t valueKind) {
  uint32_t map;
  {
    RegistryLock lock;
    MapSlot* slot = slotOf(id);
    if (slot == nullptr) return 0;
    if (slot->keyKind != keyKind || slot->valueKind != valueKind) {
      threadAt(thread)->io.aux = slot->keyKind * 16 + slot->valueKind;
      return 1;
    }
    ++slot->views;
    map = addressOf(slot->map);
  }
  if (!threadAt(thread)->holdings.add(viewOf(id))) {
    giveBackView(id);
    return 2;
  }
  return map;
}

// Ends a view of map `id`; the last one frees the map (once its iterators are gone too).
GOMAP_EXPORT(gomap_sync_detach) void gomap_sync_detach(uint32_t thread, double id) {
  threadAt(thread)->holdings.remove(viewOf(id));
  giveBackView(id);
}

GOMAP_EXPORT(gomap_sync_live_maps) uint32_t gomap_sync_live_maps() {
  RegistryLock lock;
  return g_liveMaps;
}

// ---- reads -----------------------------------------------------------------------------------------

// 1 found (value to io.out), 0 absent, kResultNoMemory (no room to copy the value).
GOMAP_EXPORT(gomap_sync_get) int32_t gomap_sync_get(uint32_t thread, uint32_t map) {
  Thread* t = threadAt(thread);
  t->outLength = 0;
  bool copied = true;
  const bool found = mapAt(map)->load(*t->rec, blobOf(t->io.key), [&](Blob v) { copied = copyOut(t, &t->io.out, v); });
  if (!found) return 0;
  return copied ? 1 : kResultNoMemory;
}

GOMAP_EXPORT(gomap_sync_has) int32_t gomap_sync_has(uint32_t thread, uint32_t map) {
  Thread* t = threadAt(thread);
  return mapAt(map)->contains(*t->rec, blobOf(t->io.key)) ? 1 : 0;
}

GOMAP_EXPORT(gomap_sync_size) double gomap_sync_size(uint32_t map) { return static_cast<double>(mapAt(map)->size()); }

// ---- writes ----------------------------------------------------------------------------------------

// 1 inserted, 0 overwritten, or a negative result (map unchanged).
GOMAP_EXPORT(gomap_sync_set) int32_t gomap_sync_set(uint32_t thread, uint32_t map) {
  Thread* t = threadAt(thread);
  bool inserted = false;
  Status s = mapAt(map)->store(*t->rec, blobOf(t->io.key), blobOf(t->io.value), &inserted);
  return s != Status::kOk ? resultOf(s) : inserted ? 1 : 0;
}

// 1 removed (value to io.out), 0 absent. `withValue` 0: the value is not copied.
GOMAP_EXPORT(gomap_sync_delete) int32_t gomap_sync_delete(uint32_t thread, uint32_t map, int32_t withValue) {
  Thread* t = threadAt(thread);
  t->outLength = 0;
  if (withValue == 0) return mapAt(map)->erase(*t->rec, blobOf(t->io.key)) ? 1 : 0;
  bool copied = true;
  const bool removed =
      mapAt(map)->loadAndDelete(*t->rec, blobOf(t->io.key), [&](Blob v) { copied = copyOut(t, &t->io.out, v); });
  if (!removed) return 0;
  return copied ? 1 : kResultNoMemory;  // removed, but the value could not be copied out
}

// The two calls that store io.value and copy the value they met to io.out, with the same
// signature in the core (as the addon's ExchangeCall): 1 met a value, 0 did not, or a
// negative result.
namespace {

enum class Exchange { kLoadOrStore, kSwap };

template <Exchange kOp>
int32_t exchange(uint32_t thread, uint32_t map) {
  Thread* t = threadAt(thread);
  t->outLength = 0;
  bool loaded = false, copied = true;
  auto onValue = [&](Blob v) { copied = copyOut(t, &t->io.out, v); };
  const Blob key = blobOf(t->io.key), value = blobOf(t->io.value);
  Status s = kOp == Exchange::kSwap ? mapAt(map)->swap(*t->rec, key, value, onValue, &loaded)
                                    : mapAt(map)->loadOrStore(*t->rec, key, value, onValue, &loaded);
  if (s != Status::kOk) return resultOf(s);
  if (!loaded) return 0;
  return copied ? 1 : kResultNoMemory;
}

}  // namespace

// 1 loaded (the present value to io.out, nothing stored), 0 stored, or a negative result.
GOMAP_EXPORT(gomap_sync_load_or_store) int32_t gomap_sync_load_or_store(uint32_t thread, uint32_t map) {
  return exchange<Exchange::kLoadOrStore>(thread, map);
}

// Stores io.value: 1 with the previous value in io.out, 0 when the key was absent.
GOMAP_EXPORT(gomap_sync_swap) int32_t gomap_sync_swap(uint32_t thread, uint32_t map) {
  return exchange<Exchange::kSwap>(thread, map);
}

// 1 swapped (io.old matched), 0 not, or a negative result.
GOMAP_EXPORT(gomap_sync_compare_and_swap) int32_t gomap_sync_compare_and_swap(uint32_t thread, uint32_t map) {
  Thread* t = threadAt(thread);
  bool swapped = false;
  Status s = mapAt(map)->compareAndSwap(*t->rec, blobOf(t->io.key), blobOf(t->io.old), blobOf(t->io.value), &swapped);
  return s != Status::kOk ? resultOf(s) : swapped ? 1 : 0;
}

GOMAP_EXPORT(gomap_sync_compare_and_delete) int32_t gomap_sync_compare_and_delete(uint32_t thread, uint32_t map) {
  Thread* t = threadAt(thread);
  return mapAt(map)->compareAndDelete(*t->rec, blobOf(t->io.key), blobOf(t->io.old)) ? 1 : 0;
}

// n pairs (Args at `keys` and `values`), all or none: the number of keys inserted, or a
// negative result (nothing stored).
GOMAP_EXPORT(gomap_sync_set_many)
int32_t gomap_sync_set_many(uint32_t thread, uint32_t map, uint32_t n, uint32_t keys, uint32_t values) {
  Thread* t = threadAt(thread);
  auto* blobs = static_cast<Blob*>(std::malloc(sizeof(Blob) * 2 * (n == 0 ? 1 : n)));
  if (blobs == nullptr) return kResultNoMemory;
  const auto* keyArgs = reinterpret_cast<const Arg*>(static_cast<uintptr_t>(keys));
  const auto* valueArgs = reinterpret_cast<const Arg*>(static_cast<uintptr_t>(values));
  for (uint32_t i = 0; i < n; ++i) {
    blobs[i] = blobOf(keyArgs[i]);
    blobs[n + i] = blobOf(valueArgs[i]);
  }
  uint64_t inserted = 0;
  Status s = mapAt(map)->storeMany(*t->rec, blobs, blobs + n, n, &inserted);
  std::free(blobs);
  return s != Status::kOk ? resultOf(s) : static_cast<int32_t>(inserted);
}

GOMAP_EXPORT(gomap_sync_clear) void gomap_sync_clear(uint32_t thread, uint32_t map) {
  mapAt(map)->clear(*threadAt(thread)->rec);
}

// The map's MapStats into io.stats, in API.md's order.
GOMAP_EXPORT(gomap_sync_stats) void gomap_sync_stats(uint32_t thread, uint32_t map) {
  Thread* t = threadAt(thread);
  writeMapStats(mapAt(map)->stats(*t->rec), t->io.stats);
}

// ---- iteration -------------------------------------------------------------------------------------

// A new iterator (it holds a reference to the map), or 0 when memory runs out.
GOMAP_EXPORT(gomap_sync_iter_start) uint32_t gomap_sync_iter_start(uint32_t thread, uint32_t map) {
  Thread* t = threadAt(thread);
  ConcurrentMap::Iterator* it = nullptr;
  if (mapAt(map)->iterStart(*t->rec, &it) != Status::kOk) return 0;
  if (!t->holdings.add(iteratorOf(map, addressOf(it)))) {
    mapAt(map)->iterEnd(it);
    return 0;
  }
  return addressOf(it);
}

// At least `max` entries (whole hash classes) while any remain, copied into the out buffer
// as records [keyTag u32, keyLen u32, valueTag u32, valueLen u32, key bytes, value bytes]
// (each record 8-aligned; value fields 0 when keysOnly); io.out.ptr / io.out.len: the
// records' address and length. Returns the number of records: fewer than `max` means the
// iteration is finished (ConcurrentMap::iterNext). kResultNoMemory when a record cannot
// be copied: the entries of that step are lost to this iterator, so JS ends it.
GOMAP_EXPORT(gomap_sync_iter_next)
int32_t gomap_sync_iter_next(uint32_t thread, uint32_t map, uint32_t iter, uint32_t max, int32_t keysOnly) {
  Thread* t = threadAt(thread);
  ConcurrentMap::Iterator* it = iterAt(iter);
  t->outLength = 0;
  bool ok = true;
  int32_t count = 0;
  mapAt(map)->iterNext(*t->rec, it, max, [&](Blob k, Blob v) {
    if (!ok) return;
    ok = appendEntry(t, k, v, keysOnly != 0);
    if (ok) ++count;
  });
  t->io.out.ptr = addressOf(t->out);
  t->io.out.len = t->outLength;
  return ok ? count : kResultNoMemory;
}

// Frees an iterator of `map` (and its reference to the map: maybe the last one).
GOMAP_EXPORT(gomap_sync_iter_end) void gomap_sync_iter_end(uint32_t thread, uint32_t map, uint32_t iter) {
  threadAt(thread)->holdings.remove(iteratorOf(map, iter));
  mapAt(map)->iterEnd(iterAt(iter));
}

// ---- test hooks -------------------------------------------------------------------------------------

// core/alloc.h: the allocation n calls from now fails (in every thread); 0 disarms it.
GOMAP_EXPORT(gomap_sync_fail_nth_allocation) void gomap_sync_fail_nth_allocation(double n) {
  gomap::failNthAllocation(static_cast<uint64_t>(n));
}

// Runs the thread's reclamation a few times; returns the objects still retired (all threads).
GOMAP_EXPORT(gomap_sync_collect) double gomap_sync_collect(uint32_t thread) {
  Thread* t = threadAt(thread);
  for (int i = 0; i < 8; ++i) gomap::ebr::collect(*t->rec);
  return static_cast<double>(gomap::ebr::pendingObjects());
}

GOMAP_EXPORT(gomap_sync_pending) double gomap_sync_pending() {
  return static_cast<double>(gomap::ebr::pendingObjects());
}

// ---- thread death (thread_liveness.cc, lib/wasm/sync-watcher.ts) ----------------------------

// A new thread id (0: none left), for the watcher before the thread takes any lock.
// Runs on whatever stack, without using it (no boot lock needed).
GOMAP_EXPORT(gomap_sync_claim_id) uint32_t gomap_sync_claim_id() { return gomap::liveness::claimId(); }

// The calling thread's id (the watcher watches it under this id).
GOMAP_EXPORT(gomap_sync_self) uint32_t gomap_sync_self() { return gomap::liveness::selfId(); }

// 1 when the calling thread's last trap was a broken lock (a lock whose owner died).
GOMAP_EXPORT(gomap_sync_take_broken) int32_t gomap_sync_take_broken() {
  return gomap::liveness::takeBrokenSeen() ? 1 : 0;
}

// After a trap: the call may have stopped holding a lock or pinned, so the thread gives up
// its id (what it held is broken for everyone, as a dead thread's) and its EBR record
// (unpinned, its retired objects to the shared list), and goes on with new ones. 1 done,
// 0 not (no id or no memory left: JS stops using this memory in this thread). May trap
// itself, when EBR's shared list is broken.
GOMAP_EXPORT(gomap_sync_thread_renew) int32_t gomap_sync_thread_renew(uint32_t thread) {
  Thread* t = threadAt(thread);
  if (gomap::liveness::renewSelf() == 0) return 0;
  gomap::ebr::ThreadRecord* fresh = gomap::ebr::registerThread();
  if (fresh == nullptr) return 0;
  gomap::ebr::ThreadRecord* old = t->rec;
  t->rec = fresh;
  gomap::ebr::unregisterThread(old);
  return 1;
}

// Called by the watcher when thread `id` is gone (its port closed). If it was live, it
// died: it is marked dead (locks it holds are broken), its EBR record is released (no
// longer pinned; its retired objects go to the shared list), the references of its views
// and iterators are given back (its holdings: a map it alone still viewed is freed), and
// its Thread, buffers and stack are freed. If it had ended normally (gomap_sync_thread_end released the rest
// while it still ran on its stack), its stack is freed now. 1 released, 0 nothing to do
// (released already, or an id given up after a trap).
GOMAP_EXPORT(gomap_sync_release_dead) int32_t gomap_sync_release_dead(uint32_t id) {
  void* thread = nullptr;
  void* stack = nullptr;
  if (!gomap::liveness::markDead(id, &thread, &stack)) {
    if (!gomap::liveness::markGone(id, &stack)) return 0;
    std::free(stack);
    return 1;
  }
  if (thread != nullptr) {
    auto* t = static_cast<Thread*>(thread);
    releaseHoldings(t);
    gomap::ebr::unregisterThread(t->rec);
    std::free(t->scratch);
    std::free(t->out);
    std::free(t);
  }
  std::free(stack);
  return 1;
}

// Test hook: pins the epoch, takes `map`'s write lock, stores 1 into the i32 at `flag`
// (and notifies), then spins until the thread is terminated (or something stores 2 there):
// a thread that dies holding the write lock and an epoch pin, on purpose.
GOMAP_EXPORT(gomap_sync_testing_hold_write_lock)
void gomap_sync_testing_hold_write_lock(uint32_t thread, uint32_t map, uint32_t flag) {
  gomap::ebr::Guard pin(*threadAt(thread)->rec);
  mapAt(map)->writeLockForTesting().lock();
  auto* word = reinterpret_cast<std::atomic<int32_t>*>(static_cast<uintptr_t>(flag));
  word->store(1, std::memory_order_release);
  __builtin_wasm_memory_atomic_notify(reinterpret_cast<int*>(word), 1);
  while (word->load(std::memory_order_acquire) != 2) {
  }
  mapAt(map)->writeLockForTesting().unlock();
}

namespace {
// What only a map's write lock guards in gomap_sync_testing_lock_stress.
volatile uint32_t g_lockStressCount = 0;
volatile uint32_t g_lockStressScratch = 0;
std::atomic<uint32_t> g_lockStressInside{0};
}  // namespace

// Test hook: `rounds` times, takes `map`'s write lock and adds one to a plain counter that
// only the lock guards (read, a few volatile steps, write back), checking on the way in
// that no other thread is inside. Returns how many times one was (0 when the lock holds).
// With exclusive locking the counter ends at the sum of every thread's rounds; a lost
// increment or a collision means two threads held the lock at once (see
// lib/wasm/v8-workarounds.ts: what V8's baseline compiler did to this lock).
GOMAP_EXPORT(gomap_sync_testing_lock_stress)
uint32_t gomap_sync_testing_lock_stress(uint32_t map, uint32_t rounds) {
  Mutex& lock = mapAt(map)->writeLockForTesting();
  uint32_t collisions = 0;
  for (uint32_t i = 0; i < rounds; ++i) {
    lock.lock();
    if (g_lockStressInside.exchange(1, std::memory_order_relaxed) != 0) ++collisions;
    const uint32_t count = g_lockStressCount;
    for (int k = 0; k < 8; ++k) g_lockStressScratch = g_lockStressScratch + 1;
    g_lockStressCount = count + 1;
    g_lockStressInside.store(0, std::memory_order_relaxed);
    lock.unlock();
  }
  return collisions;
}

// The counter of gomap_sync_testing_lock_stress.
GOMAP_EXPORT(gomap_sync_testing_lock_count) uint32_t gomap_sync_testing_lock_count() { return g_lockStressCount; }
