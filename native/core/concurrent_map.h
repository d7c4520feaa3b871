// ConcurrentMap: Go's classic map (go_map.h) made safe to share between threads, with
// lock-free reads. The core of JS SyncMap.
//
// The table is Go's: 2^B buckets of 8 slots, tophash bytes, overflow chains, load factor
// 6.5, incremental doubling and same-size growth with X/Y evacuation. What changes is
// what a slot holds and how memory is published and freed:
//
//   Bucket (80 bytes)
//   +-------------------------+--------------------------------+------------------+
//   | atomic<u64> tophash     | atomic<Entry*> slots[8]        | atomic<Bucket*>  |
//   | (byte i = slot i)       |                                | overflow         |
//   +-------------------------+--------------------------------+------------------+
//
//   Entry (immutable once published): ebr header | hash | key tag+len | value tag+len |
//                                     key bytes, value bytes
//
// An Entry never changes after it is published. Storing over a key publishes a new Entry
// in the same slot (one atomic pointer store) and retires the old one to epoch-based
// reclamation (epoch.h). A reader therefore sees either the old or the new entry, never
// a torn one, and what it sees stays allocated while it is pinned.
//
// Readers take no lock. A lookup pins the epoch, loads the table pointer, and, as Go's
// mapaccess does, reads the old bucket of its key while that bucket is not evacuated,
// else the new one. It compares tophash bytes of one atomic word (a snapshot of the 8
// slots), loads the Entry pointer of each matching slot, and decides by the Entry's full
// hash and key: tophash is only a hint.
//
// Writers serialize on one mutex per map (lock.h) and do all of Go's growth work under
// it. (On the WebAssembly threads build a writer can be terminated mid-write, lock held:
// the next writer takes the lock over and rebuilds the table from what readers see,
// which the rules below keep well defined at every step: repairAfterDeadWriter.) The
// rules that keep readers right under any interleaving:
//
//   1. Only the current table's buckets, and old buckets not yet evacuated, are ever
//      written. A writer evacuates the old bucket of its key before it touches the new
//      one (growWork), as in Go.
//   2. Evacuation copies Entry *pointers* into the new buckets (which nobody reads yet),
//      then marks the old primary bucket evacuated with a release store of its tophash
//      word. The old chain is left exactly as it was: a reader already walking it sees a
//      frozen but consistent picture, which was the map's state at a moment after the
//      reader started. A reader that sees the mark acquires the copies.
//   3. A reader that finds the bucket of its *current* table marked evacuated loaded the
//      table pointer just before a grow started: it reloads the pointer and retries.
//   4. Insert: tophash byte first, then the Entry pointer (release). Delete: pointer to
//      null first, then the tophash byte (empty-one, and empty-rest as Go does). So a
//      key that stays in the map stays in its slot and is found by every reader; an
//      empty-rest byte is only ever written where every later slot is empty.
//   5. Overflow buckets are fully initialised before their pointer is published.
//   6. Replaced and deleted entries, and an old table once its grow is finished (with its
//      overflow buckets, but not the entries, which moved), are retired, never freed
//      while a reader may hold them. Tables go to EBR's shared list, so any thread
//      frees them, not only the writer that finished the grow.
//
// Iteration must survive across calls from JS without pinning or locking in between, and
// still give Go's guarantees. An iterator therefore holds no pointer into the table: its
// position is a set of hash values. With R = the largest B it has seen, the hashes split
// into 2^R classes (hash & (2^R - 1)), and the iterator visits classes in bit-reversed
// order (Redis' SCAN cursor): when the table doubles, a class splits into classes that
// are adjacent in that order, so the position stays exact. Each class is produced in one
// pinned step from whichever bucket holds it now (the old one while it is not
// evacuated), keeping only entries of that class. Every present entry belongs to exactly
// one class and each class is visited once: an entry present throughout is produced
// exactly once, a deleted one is not, and a value produced was stored for its key. The
// start class is random, as Go's start bucket is.
//
// Limits and deviations from Go: hash0 is never reseeded (readers would look in the
// wrong place); clear() empties in place; reserve() grows only an empty map at once
// (Go has no reserve); there is no shrink.
//
// Batches: storeMany is all or nothing. It allocates every Entry, does the growth the
// batch needs (finishing a grow in progress, then whole doublings until the batch fits
// under the load factor) and allocates the overflow buckets its inserts will use, all
// before it publishes the first entry; after that nothing can fail. Readers may see
// part of a batch while it is published (each pair is one store), never part of a
// failed batch.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include "alloc.h"
#include "blob.h"
#include "epoch.h"
#include "go_map.h"  // MapOptions, map_detail (tophash, load factor, SWAR matching)
#include "lock.h"
#include "map_stats.h"
#include "prefetch.h"
#include "status.h"

namespace gomap {

namespace cmap_detail {

using map_detail::kBucketCount;

// An immutable key/value pair, allocated once with its bytes (key, then value). An entry
// of a shared cache (shared_cache.h) has one mutable word between the header and the
// bytes: an std::atomic<uint64_t> holding its CLOCK bit, ttl code and expiry
// (cache_slot.h's state layout); stateWords says so (0 for a SyncMap: no cost there).
struct Entry {
  ebr::Retired retired;  // first: the reclaim callback gets this address
  uint64_t hash;
  uint32_t keyLen;
  uint32_t valueLen;
  uint8_t keyTag;
  uint8_t valueTag;
  uint8_t stateWords;  // 0, or 1 for a cache entry (the atomic state word after the header)
};
constexpr size_t kEntryHeader = sizeof(Entry);
constexpr size_t kEntryStateBytes = sizeof(uint64_t);
static_assert(kEntryHeader % alignof(std::atomic<uint64_t>) == 0, "the state word after the header is aligned");

inline const uint8_t* entryBytes(const Entry* e) {
  return reinterpret_cast<const uint8_t*>(e) + kEntryHeader + kEntryStateBytes * e->stateWords;
}
inline Blob entryKey(const Entry* e) { return Blob{e->keyTag, entryBytes(e), e->keyLen}; }
inline Blob entryValue(const Entry* e) { return Blob{e->valueTag, entryBytes(e) + e->keyLen, e->valueLen}; }
inline size_t entrySize(const Entry* e) { return kEntryHeader + kEntryStateBytes * e->stateWords + e->keyLen + e->valueLen; }
// The state word of a cache entry (stateWords == 1).
inline std::atomic<uint64_t>& entryState(const Entry* e) {
  auto* at = reinterpret_cast<uint8_t*>(const_cast<Entry*>(e)) + kEntryHeader;
  return *std::launder(reinterpret_cast<std::atomic<uint64_t>*>(at));
}
inline bool entryHasKey(const Entry* e, uint64_t hash, const Blob& key) {
  return e->hash == hash && e->keyTag == key.tag && e->keyLen == key.len &&
         (key.len == 0 || std::memcmp(entryBytes(e), key.data, key.len) == 0);
}

struct Bucket {
  std::atomic<uint64_t> tophash;  // byte i (bits 8i..8i+7) is slot i's tophash
  std::atomic<Entry*> slots[kBucketCount];
  std::atomic<Bucket*> overflow;
};

// A primary bucket whose entries moved to the next table has this tophash word.
constexpr uint64_t kEvacuatedWord = map_detail::kEachByteLow * map_detail::kEvacuatedX;
inline bool isEvacuated(uint64_t word) { return (word & 0xff) == map_detail::kEvacuatedX; }
inline uint8_t topAt(uint64_t word, size_t i) { return static_cast<uint8_t>(word >> (8 * i)); }
inline uint64_t withTop(uint64_t word, size_t i, uint8_t top) {
  return (word & ~(uint64_t{0xff} << (8 * i))) | (static_cast<uint64_t>(top) << (8 * i));
}

// A bucket array: header, then 2^B buckets, in one zeroed block (zero = empty-rest).
struct Table {
  ebr::Retired retired;      // first: the reclaim callback gets this address
  std::atomic<Table*> old;   // the table being evacuated into this one, or null
  unsigned B;
  size_t blockBytes;
};
constexpr size_t kTableHeader = 64;
static_assert(sizeof(Table) <= kTableHeader, "table header fits its reserved space");

inline Bucket* bucketAt(const Table* t, uint64_t i) {
  auto* first = reinterpret_cast<Bucket*>(reinterpret_cast<uint8_t*>(const_cast<Table*>(t)) + kTableHeader);
  return first + i;
}
inline uint64_t maskOf(const Table* t) { return map_detail::bucketMask(t->B); }

inline uint64_t reverseBits(uint64_t x) {
  x = ((x >> 1) & 0x5555555555555555ull) | ((x & 0x5555555555555555ull) << 1);
  x = ((x >> 2) & 0x3333333333333333ull) | ((x & 0x3333333333333333ull) << 2);
  x = ((x >> 4) & 0x0f0f0f0f0f0f0f0full) | ((x & 0x0f0f0f0f0f0f0f0full) << 4);
  return __builtin_bswap64(x);
}

}  // namespace cmap_detail

class SharedCache;

class ConcurrentMap {
 public:
  class Iterator;

  // Creates a map with one reference (release() frees it). kNoMemory / kTooLarge (hint).
  static Status create(const MapOptions& options, ConcurrentMap** out) noexcept;

  // Views (JS objects in any thread) and iterators each hold a reference.
  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Drops a reference; at zero (no view, no reader left) frees the map and its entries.
  void release() noexcept;

  // ---- reads: lock-free ---------------------------------------------------------------
  // Calls onValue(Blob value) with the value of `key` (valid only during the call).
  template <class F>
  bool load(ebr::ThreadRecord& rec, Blob key, F&& onValue) {
    ebr::Guard guard(rec);
    const cmap_detail::Entry* e = find(key, hashOf(key));
    if (e == nullptr) return false;
    onValue(cmap_detail::entryValue(e));
    return true;
  }
  bool contains(ebr::ThreadRecord& rec, Blob key) {
    ebr::Guard guard(rec);
    return find(key, hashOf(key)) != nullptr;
  }
  uint64_t size() const noexcept { return count_.load(std::memory_order_relaxed); }
  // stats().bytes without the lock (a recent value: writers may be changing it).
  uint64_t bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }
  // Batched lookup under one pin: onResult(size_t i, bool found, Blob value) for each of
  // the n keys, in order. Hashes a window of keys ahead and prefetches their buckets, so
  // the cache misses of independent lookups overlap. Keep n bounded (the pin holds back
  // reclamation for the whole batch).
  template <class F>
  void loadMany(ebr::ThreadRecord& rec, const Blob* keys, size_t n, F&& onResult);

  // ---- writes (serialized by the write lock) --------------------------------------------
  Status store(ebr::ThreadRecord& rec, Blob key, Blob value, bool* inserted);
  // Stores the n pairs in order (a later pair wins over an earlier one with the same key),
  // all or none: on kTooLarge / kNoMemory no entry of the batch is stored and the map's
  // contents are unchanged (growth work may have been done: only the layout moved). All
  // memory the batch can need (its entries, growing the table, the overflow buckets of
  // its inserts) is allocated before the first entry is published, so publishing cannot
  // fail. Each pair is published with one atomic store, as by store(): a concurrent
  // reader may see part of a batch while it is being published (a batch is not atomic
  // for readers), but never part of a failed one. A batch that needs the table to grow
  // finishes that growth at once under the write lock (not incrementally). *inserted
  // (optional) counts the pairs that added a key.
  Status storeMany(ebr::ThreadRecord& rec, const Blob* keys, const Blob* values, size_t n, uint64_t* inserted);
  // Stores value if key is absent (*loaded = false); else calls onExisting(Blob current)
  // and sets *loaded = true.
  template <class F>
  Status loadOrStore(ebr::ThreadRecord& rec, Blob key, Blob value, F&& onExisting, bool* loaded);
  // Deletes key; calls onValue(Blob previous) first if it was present.
  template <class F>
  bool loadAndDelete(ebr::ThreadRecord& rec, Blob key, F&& onValue);
  // Stores value; calls onPrevious(Blob previous) and sets *loaded if key was present.
  template <class F>
  Status swap(ebr::ThreadRecord& rec, Blob key, Blob value, F&& onPrevious, bool* loaded);
  // Stores value if the current value equals expected (same tag, same bytes).
  Status compareAndSwap(ebr::ThreadRecord& rec, Blob key, Blob expected, Blob value, bool* swapped);
  // Deletes key if its current value equals expected.
  bool compareAndDelete(ebr::ThreadRecord& rec, Blob key, Blob expected);
  bool erase(ebr::ThreadRecord& rec, Blob key);
  // Removes every entry, keeping the table (as Go's clear does). Never fails.
  void clear(ebr::ThreadRecord& rec);
  // Pre-sizes for n entries: grows an empty map at once; a no-op on a non-empty map.
  Status reserve(ebr::ThreadRecord& rec, uint64_t n);

  // Takes the write lock (a consistent picture of the table).
  MapStats stats(ebr::ThreadRecord& rec);

  // ---- iteration: lock-free --------------------------------------------------------------
  // An iterator may be held across calls: it pins nothing and locks nothing between
  // iterNext calls. It holds a reference to the map until iterEnd.
  Status iterStart(ebr::ThreadRecord& rec, Iterator** out) noexcept;
  // Calls onEntry(Blob key, Blob value) for the next entries (views valid during the
  // call only) and returns how many it produced; 0 means the iteration is finished.
  // It finishes the hash class (about one bucket) it is in, so it may produce more than
  // `max`; it produces at least one entry while entries remain. onEntry runs while the
  // epoch is pinned: it may write to this map (e.g. delete the entry it was given) but
  // should be short (copy out; do not call back into JS from it).
  template <class F>
  size_t iterNext(ebr::ThreadRecord& rec, Iterator* it, size_t max, F&& onEntry);
  void iterEnd(Iterator* it) noexcept;

  // Test hook: the lock every writer takes.
  Mutex& writeLockForTesting() noexcept { return writeLock_; }

  // The shared cache built on this map (shared_cache.h), or null for a plain SyncMap.
  SharedCache* cache() const noexcept { return cache_; }
  // Stops doubling at 2^maxB buckets (same-size growth still cleans up overflow chains):
  // a cache with an entry limit sets it, as GoMap::limitGrowth. Call before sharing.
  void limitGrowth(unsigned maxB) noexcept { growthLimitB_ = maxB; }

 private:
  friend class SharedCache;
  using Entry = cmap_detail::Entry;
  using Bucket = cmap_detail::Bucket;
  using Table = cmap_detail::Table;
  struct Slot {
    Bucket* bucket;
    size_t index;
  };

  explicit ConcurrentMap(const MapOptions& options);
  ~ConcurrentMap();

  uint64_t hashOf(const Blob& key) const {
    uint64_t h = hashBlob(key, hash0_);
    return hashOverride_ == nullptr ? h : hashOverride_(h);
  }
  static bool tooLarge(const Blob& b) { return b.len > kMaxBlobLength; }

  // --- lock-free lookup ----------------------------------------------------------------
  const Entry* find(const Blob& key, uint64_t hash) const {
    using namespace cmap_detail;
    for (;;) {
      const Table* t = table_.load(std::memory_order_acquire);
      if (const Table* o = t->old.load(std::memory_order_acquire)) {
        Bucket* ob = bucketAt(o, hash & maskOf(o));
        uint64_t word = ob->tophash.load(std::memory_order_acquire);
        if (!isEvacuated(word)) return findInChain(ob, word, key, hash);
      }
      Bucket* b = bucketAt(t, hash & maskOf(t));
      uint64_t word = b->tophash.load(std::memory_order_acquire);
      if (!isEvacuated(word)) return findInChain(b, word, key, hash);
      // t became an old table after we loaded it: reload (rule 3).
    }
  }
  static const Entry* findInChain(Bucket* b, uint64_t word, const Blob& key, uint64_t hash) {
    using namespace map_detail;
    const uint8_t top = topHash(hash);
    for (;;) {
      for (uint64_t m = matchMask(word, top); m != 0; m &= m - 1) {
        const Entry* e = b->slots[firstMatchIndex(m)].load(std::memory_order_acquire);
        if (e != nullptr && cmap_detail::entryHasKey(e, hash, key)) return e;
      }
      if (hasEmptyRest(word)) return nullptr;
      b = b->overflow.load(std::memory_order_acquire);
      if (b == nullptr) return nullptr;
      word = b->tophash.load(std::memory_order_acquire);
    }
  }

  // --- memory --------------------------------------------------------------------------
  static Table* newTable(unsigned B) noexcept;
  static void reclaimTable(ebr::Retired* r) noexcept;  // frees table + overflow buckets
  static void reclaimEntry(ebr::Retired* r) noexcept;
  static void freeTableNow(Table* t) noexcept;
  size_t tableBytes(const Table* t) const;
  // stateWords 1: a cache entry whose state word starts as `state`.
  Entry* newEntry(uint64_t hash, const Blob& key, const Blob& value, uint8_t stateWords = 0,
                  uint64_t state = 0) noexcept;
  void discardEntry(Entry* e) noexcept;  // never published
  void retireEntry(ebr::ThreadRecord& rec, Entry* e) noexcept;  // under the lock
  Bucket* newBucket() noexcept;

  // --- writes (all under writeLock_) -----------------------------------------------------
  Table* current() const { return table_.load(std::memory_order_relaxed); }
  bool growing() const { return current()->old.load(std::memory_order_relaxed) != nullptr; }
  // Evacuates what a write to `hash` needs; false when out of memory (nothing changed).
  bool growWork(ebr::ThreadRecord& rec, uint64_t hash);
  bool evacuate(ebr::ThreadRecord& rec, uint64_t oldbucket);
  void advanceEvacuationMark(ebr::ThreadRecord& rec);
  void finishGrow(ebr::ThreadRecord& rec);
  bool hashGrow(bool bigger);
  // Evacuates every remaining old bucket; false when out of memory (contents unchanged).
  bool finishGrowing(ebr::ThreadRecord& rec);
  // Puts e (a new key) in the first free slot of the chain from home; false when the
  // chain is full (*last is then its last bucket).
  bool placeInChain(Bucket* home, Entry* e, Bucket** last);
  // Appends ovf (zeroed, unpublished) to the chain after last, holding e in slot 0.
  void appendOverflow(Bucket* last, Bucket* ovf, Entry* e);
  // Slot of key in the chain from b, or {nullptr, 0}.
  static Slot locate(Bucket* b, const Blob& key, uint64_t hash);
  // Where key lives for a writer: its new bucket (after growWork) or unevacuated old one.
  Bucket* writerHome(uint64_t hash) const;
  // Inserts e (a new key), growing first when needed. Takes ownership of e.
  Status insertNew(ebr::ThreadRecord& rec, Entry* e);
  // insertNew in two steps, for a caller that removes entries in between (SharedCache
  // makes room before it inserts): prepareInsert does the growth and reserves an
  // overflow bucket (*spare) when the key's chain is full; commitInsert cannot fail (it
  // frees an unused spare). Removals between the two only free slots.
  Status prepareInsert(ebr::ThreadRecord& rec, uint64_t hash, Bucket** spare);
  void commitInsert(Entry* e, Bucket* spare);
  void replaceAt(ebr::ThreadRecord& rec, Slot s, Entry* fresh);
  void removeAt(ebr::ThreadRecord& rec, Bucket* origin, Slot s);
  // The upsert behind store/swap/loadOrStore/compareAndSwap, under the lock: finds key;
  // decide(Entry* current or null) says whether to write `fresh`. Returns whether written.
  template <class Decide>
  Status upsert(ebr::ThreadRecord& rec, Entry* fresh, Decide&& decide, bool* wrote);
  template <class Decide>
  bool removeIf(ebr::ThreadRecord& rec, const Blob& key, Decide&& decide);
  // clear() once the lock is held (and the caller pinned).
  void clearLocked(ebr::ThreadRecord& rec);

  // The write lock for one write (RAII). On the WebAssembly threads build a writer can
  // die holding it (worker.terminate(): lock.h); the next writer then takes it over and
  // repairs the table first (repairAfterDeadWriter), or traps (ERR_GOMAP_POISONED in JS)
  // when there is no memory for that. Natively: LockGuard.
  class WriteLock;
  // Rebuilds the table from what readers see now, after a writer died at an unknown
  // step of a write (lock held). Each step of a write is published reader-consistently,
  // so a lookup of any key sees one well-defined entry: the fresh table holds exactly
  // those entries (the same Entry objects), with count and bytes recounted, and no
  // growth in progress. The replaced tables (and their overflow buckets, and anything
  // the dead writer had allocated or unlinked but not yet published or retired) are
  // leaked on purpose: nothing says what they share, and readers may still be in them.
  // False when out of memory (nothing changed).
  bool repairAfterDeadWriter() noexcept;

  // --- iteration -----------------------------------------------------------------------
  template <class F>
  size_t produceClass(Iterator* it, F& onEntry);

  // Three cache lines, so that writers (the lock word, the count) never invalidate the
  // line every reader loads (table pointer, seed).
  // Read by every operation; written only when a table is replaced.
  alignas(ebr::kCacheLine) std::atomic<Table*> table_{nullptr};
  const uint64_t hash0_;
  uint64_t (*const hashOverride_)(uint64_t);
  // Written by inserts and deletes (count), views and iterators (refs).
  alignas(ebr::kCacheLine) std::atomic<uint64_t> count_{0};
  std::atomic<uint32_t> refs_{1};
  std::atomic<uint64_t> iteratorSeed_;
  // Writers only.
  alignas(ebr::kCacheLine) Mutex writeLock_;
  // Guarded by writeLock_:
  bool sameSizeGrow_ = false;
  uint64_t nevacuate_ = 0;
  uint64_t evacuatedCount_ = 0;
  uint64_t noverflow_ = 0;
  uint64_t oldNoverflow_ = 0;
  uint64_t grows_ = 0, sameSizeGrows_ = 0;
  // Written under writeLock_, read without it by bytes() (so atomic, relaxed).
  std::atomic<uint64_t> bytes_{0};
  void addBytes(uint64_t n) { bytes_.store(bytes_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void subBytes(uint64_t n) { bytes_.store(bytes_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
  // Set once, before the map is shared; freed with the map through destroyCache_ (a
  // pointer, so that the map's code links without the cache's: the WebAssembly threads
  // build has SyncMap but no shared cache).
  SharedCache* cache_ = nullptr;
  void (*destroyCache_)(SharedCache*) noexcept = nullptr;
  unsigned growthLimitB_ = map_detail::kMaxB;  // limitGrowth(); kMaxB: no limit
};

class ConcurrentMap::WriteLock {
 public:
  explicit WriteLock(ConcurrentMap& m) noexcept : m_(m) {
#if defined(GOMAP_WASM_THREADS)
    if (m.writeLock_.lockOrTakeOver() && !m.repairAfterDeadWriter()) liveness::brokenLock();
#else
    m.writeLock_.lock();
#endif
  }
  ~WriteLock() { m_.writeLock_.unlock(); }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;

 private:
  ConcurrentMap& m_;
};

// An iteration position: the hash classes already produced (see the header comment).
class ConcurrentMap::Iterator {
 private:
  friend class ConcurrentMap;
  ConcurrentMap* map_ = nullptr;
  uint64_t position_ = 0;   // bit-reversed class of the next step, aligned to 2^(64-R)
  uint64_t travelled_ = 0;  // sum of the steps taken (mod 2^64): 0 again at the end
  unsigned R_ = 0;          // resolution: the largest B seen
  uint8_t offset_ = 0;      // slot order offset within a bucket
  bool done_ = false;
};

template <class F>
void ConcurrentMap::loadMany(ebr::ThreadRecord& rec, const Blob* keys, size_t n, F&& onResult) {
  using namespace cmap_detail;
  constexpr size_t kWindow = 8;
  ebr::Guard guard(rec);
  uint64_t hashes[kWindow];
  auto prefetch = [this](uint64_t h) {
    const Table* t = table_.load(std::memory_order_acquire);
    prefetchForRead(bucketAt(t, h & maskOf(t)));
  };
  const size_t ahead = n < kWindow ? n : kWindow;
  for (size_t j = 0; j < ahead; ++j) {
    hashes[j] = hashOf(keys[j]);
    prefetch(hashes[j]);
  }
  for (size_t i = 0; i < n; ++i) {
    const uint64_t hash = hashes[i % kWindow];
    if (i + kWindow < n) {
      hashes[i % kWindow] = hashOf(keys[i + kWindow]);
      prefetch(hashes[i % kWindow]);
    }
    const Entry* e = find(keys[i], hash);
    if (e != nullptr) onResult(i, true, entryValue(e));
    else onResult(i, false, Blob{0, nullptr, 0});
  }
}

template <class F>
Status ConcurrentMap::loadOrStore(ebr::ThreadRecord& rec, Blob key, Blob value, F&& onExisting, bool* loaded) {
  if (tooLarge(key) || tooLarge(value)) return Status::kTooLarge;
  ebr::Guard guard(rec);
  const uint64_t hash = hashOf(key);
  if (const Entry* e = find(key, hash)) {  // the common case, without the lock
    *loaded = true;
    onExisting(cmap_detail::entryValue(e));
    return Status::kOk;
  }
  Entry* fresh = newEntry(hash, key, value);
  if (fresh == nullptr) return Status::kNoMemory;
  const Entry* existing = nullptr;
  bool wrote = false;
  Status s = upsert(rec, fresh, [&](const Entry* cur) {
    existing = cur;
    return cur == nullptr;
  }, &wrote);
  if (s != Status::kOk) return s;
  *loaded = !wrote;
  if (!wrote) onExisting(cmap_detail::entryValue(existing));
  return Status::kOk;
}

template <class F>
Status ConcurrentMap::swap(ebr::ThreadRecord& rec, Blob key, Blob value, F&& onPrevious, bool* loaded) {
  if (tooLarge(key) || tooLarge(value)) return Status::kTooLarge;
  ebr::Guard guard(rec);
  Entry* fresh = newEntry(hashOf(key), key, value);
  if (fresh == nullptr) return Status::kNoMemory;
  const Entry* previous = nullptr;
  bool wrote = false;
  Status s = upsert(rec, fresh, [&](const Entry* cur) {
    previous = cur;
    return true;
  }, &wrote);
  if (s != Status::kOk) return s;
  // previous was retired by the upsert, and stays readable while we are pinned.
  *loaded = previous != nullptr;
  if (previous != nullptr) onPrevious(cmap_detail::entryValue(previous));
  return Status::kOk;
}

template <class F>
bool ConcurrentMap::loadAndDelete(ebr::ThreadRecord& rec, Blob key, F&& onValue) {
  ebr::Guard guard(rec);
  const Entry* removed = nullptr;
  if (!removeIf(rec, key, [&](const Entry* cur) {
        removed = cur;
        return true;
      })) {
    return false;
  }
  onValue(cmap_detail::entryValue(removed));  // retired, still readable while pinned
  return true;
}

template <class Decide>
Status ConcurrentMap::upsert(ebr::ThreadRecord& rec, Entry* fresh, Decide&& decide, bool* wrote) {
  WriteLock lock(*this);
  const Blob key = cmap_detail::entryKey(fresh);
  *wrote = false;
  if (!growWork(rec, fresh->hash)) {
    discardEntry(fresh);
    return Status::kNoMemory;
  }
  Slot s = locate(writerHome(fresh->hash), key, fresh->hash);
  const Entry* cur = s.bucket == nullptr ? nullptr : s.bucket->slots[s.index].load(std::memory_order_relaxed);
  if (!decide(cur)) {
    discardEntry(fresh);
    return Status::kOk;
  }
  if (cur != nullptr) {
    replaceAt(rec, s, fresh);
  } else {
    Status st = insertNew(rec, fresh);
    if (st != Status::kOk) return st;
  }
  *wrote = true;
  return Status::kOk;
}

template <class Decide>
bool ConcurrentMap::removeIf(ebr::ThreadRecord& rec, const Blob& key, Decide&& decide) {
  const uint64_t hash = hashOf(key);
  if (find(key, hash) == nullptr) return false;  // absent: no lock needed
  WriteLock lock(*this);
  // Growth work may fail for lack of memory; a delete then works in the old bucket,
  // which writerHome picks while it is not evacuated.
  growWork(rec, hash);
  Bucket* origin = writerHome(hash);
  Slot s = locate(origin, key, hash);
  if (s.bucket == nullptr) return false;
  const Entry* cur = s.bucket->slots[s.index].load(std::memory_order_relaxed);
  if (!decide(cur)) return false;
  removeAt(rec, origin, s);
  return true;
}

template <class F>
size_t ConcurrentMap::iterNext(ebr::ThreadRecord& rec, Iterator* it, size_t max, F&& onEntry) {
  size_t produced = 0;
  while (!it->done_ && (produced == 0 || produced < max)) {
    ebr::Guard guard(rec);
    produced += produceClass(it, onEntry);
  }
  return produced;
}

// One step of an iteration: produces the entries of the hash class at it->position_ from
// the bucket that holds them now, then moves to the next class.
template <class F>
size_t ConcurrentMap::produceClass(Iterator* it, F& onEntry) {
  using namespace cmap_detail;
  const Table* t;
  Bucket* b;
  uint64_t word;
  for (;;) {
    t = table_.load(std::memory_order_acquire);
    if (t->B > it->R_) it->R_ = t->B;  // finer classes; the position stays exact
    const uint64_t cls = reverseBits(it->position_) & map_detail::bucketMask(it->R_);
    if (const Table* o = t->old.load(std::memory_order_acquire)) {
      b = bucketAt(o, cls & maskOf(o));
      word = b->tophash.load(std::memory_order_acquire);
      if (!isEvacuated(word)) break;
    }
    b = bucketAt(t, cls & maskOf(t));
    word = b->tophash.load(std::memory_order_acquire);
    if (!isEvacuated(word)) break;
  }
  const uint64_t classMask = map_detail::bucketMask(it->R_);
  const uint64_t cls = reverseBits(it->position_) & classMask;
  size_t produced = 0;
  for (;;) {
    for (size_t k = 0; k < kBucketCount; ++k) {
      const size_t i = (k + it->offset_) & (kBucketCount - 1);
      if (topAt(word, i) < map_detail::kMinTopHash) continue;
      const Entry* e = b->slots[i].load(std::memory_order_acquire);
      if (e == nullptr || (e->hash & classMask) != cls) continue;
      onEntry(entryKey(e), entryValue(e));
      ++produced;
    }
    if (map_detail::hasEmptyRest(word)) break;
    b = b->overflow.load(std::memory_order_acquire);
    if (b == nullptr) break;
    word = b->tophash.load(std::memory_order_acquire);
  }
  // Next class: the step at resolution R is 2^(64-R); a full circle ends the iteration.
  if (it->R_ == 0) {
    it->done_ = true;
  } else {
    const uint64_t step = uint64_t{1} << (64 - it->R_);
    it->position_ += step;
    it->travelled_ += step;
    if (it->travelled_ == 0) it->done_ = true;
  }
  return produced;
}

}  // namespace gomap
