// SharedCache: GoCache's bounded cache (cache.h) on the concurrent map (concurrent_map.h),
// so that one cache serves every worker thread (API.md "GoCache", `shared: true`).
//
// The entries are ConcurrentMap entries: immutable, published with one atomic pointer
// store, retired to epoch reclamation. A cache entry carries one mutable word beside its
// immutable bytes (concurrent_map.h Entry::stateWords): an std::atomic<uint64_t> in the
// layout of cache_slot.h (bit 63 the CLOCK "referenced" bit, bits 40..62 the ttl code,
// bits 0..39 expiresAt in ms). Nothing else is kept per entry.
//
// Reads (get, peek, has, remainingTtl) take no lock, as SyncMap reads: pin the epoch,
// find the entry, load its state word (relaxed). An entry whose expiresAt has passed
// reads as a miss; its removal is left to writers (a reader cannot unlink). A get hit
// sets the referenced bit with a CAS only when the bit is not set yet, so a hot entry
// read by many threads is written once per pass of the eviction hand, not once per read
// (no cache-line ping-pong between readers). With updateAgeOnGet, the same CAS also
// moves expiresAt to now + ttl, when that changes it (at most once per ms per entry):
// reads stay lock-free and expiry only moves later, so the writers' expiry index (a
// lower bound) stays right. A refresh racing with a writer that found the entry expired
// can be lost; the entry is then gone, as it would be a moment later anyway.
//
// hits and misses are counted in per-thread stripes (kCounterStripes cache lines, a
// thread picks one on first use), summed by stats(): readers do not share a counter line.
//
// Writes (set, delete, clear, purge) serialize on the map's write lock, and do all of
// their cache work in the same critical section as the map change: after ANY call
// returns, in any thread, size <= max and bytes <= maxBytes. The writer side is cache.h's
// algorithm on the concurrent table:
//   - Limits: charge = key bytes + value bytes, as encoded (numbers 8, strings 1 byte per
//     Latin-1 unit or 2 per UTF-16 unit, json/v8 their encoded length). An entry whose
//     charge alone is over maxBytes is refused (an older entry under its key is deleted).
//   - Room first: unlike cache.h (insert, then evict), a set evicts *before* it publishes
//     its entry, for the entry it is about to add (one more entry, new charge - old
//     charge), so no thread reading size() or bytes() ever sees the cache over a limit.
//     Everything that can fail (the entry, growth, an overflow bucket:
//     ConcurrentMap::prepareInsert) happens before the first eviction, and the publish
//     (commitInsert / replaceAt) cannot fail: a failed set changes nothing.
//   - Eviction: CLOCK over buckets of the current table, a (bucket, chain position) hand;
//     the entry a set replaces is never a victim; an expired entry met on the way is
//     removed (reason expire). A victim's referenced bit is cleared with an atomic AND,
//     so a reader setting it meanwhile is not lost (it only wins one more revolution).
//   - Expiry: an ExpiryIndex over the current table's buckets (lower bounds of expiresAt
//     per bucket) lets eviction remove every expired entry before any live one, and each
//     write purge up to kSweepBucketsPerWrite due buckets. While the table grows, the leaf
//     of new bucket b covers the entries of old bucket b & oldmask that belong to b: a
//     visit first evacuates that old bucket (Go's growWork), else reads it filtered.
//   - Removals are reported to the caller's SharedRemovalSink under the lock, before the
//     entry is retired: the sink copies what it needs (onEvict runs later, in JS, in the
//     thread whose call removed the entry).
//   - Table size: with an entry limit, the table stops doubling once its slots could hold
//     max + 1 entries (kMaxLoadPerBucket per bucket; ConcurrentMap::limitGrowth), as the
//     single-thread cache does: the last ~20 % of the budget goes to overflow chains.
// No admission policy (TinyLFU) yet: every new key is admitted.
//
// WebAssembly threads build (lock.h): a writer can be terminated holding the write lock.
// The next writer takes the lock over: the map rebuilds its table from what readers see
// (ConcurrentMap::repairAfterDeadWriter), then the cache rebuilds what only writers keep
// (repairAfterDeadWriter: bytes recounted from the entries, the hands reset, a new expiry
// index built from the entries; the old index is leaked, as the map leaks its tables,
// since the dead writer may have been resizing it). What the dead call had not published
// is lost (and leaked); its removals were already unlinked or are undone by the rebuild.
// evictions / expirations may miss the dead call's last count. When the rebuild cannot
// allocate, the write traps (JS: ERR_GOMAP_POISONED) and the next writer tries again.
// Natively the lock is std::mutex and none of this exists.
//
// Lifetime: the SharedCache belongs to its ConcurrentMap (create() makes both; the map
// deletes it), so the SyncMap registry, views and epoch records serve caches unchanged.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "cache.h"  // CacheLimits, CacheStats, RemovalReason, SetOutcome, cache_detail
#include "cache_slot.h"
#include "concurrent_map.h"
#include "expiry_index.h"
#include "status.h"

namespace gomap {

// Receives each entry a write removes, under the write lock, before the entry is retired
// (the views are valid during the call only: copy). Must not throw or call back into the
// cache.
class SharedRemovalSink {
 public:
  virtual ~SharedRemovalSink() = default;
  virtual void removed(const Blob& key, const Blob& value, RemovalReason reason) noexcept = 0;
};

namespace shared_cache_detail {
// Cache lines of hit/miss counters; each thread counts in one of them.
constexpr size_t kCounterStripes = 16;
}  // namespace shared_cache_detail

class SharedCache {
 public:
  // A new map carrying a cache with `limits` (one reference, as ConcurrentMap::create).
  static Status create(const MapOptions& options, const CacheLimits& limits, ConcurrentMap** out) noexcept;

  // ---- reads: lock-free -----------------------------------------------------------------
  // A read: on a hit sets the CLOCK bit (and restarts the ttl with updateAgeOnGet), counts
  // a hit or a miss, and calls onValue(Blob) (valid during the call only).
  template <class F>
  bool get(ebr::ThreadRecord& rec, Blob key, uint64_t now, F&& onValue);
  // A read without recency update or stats.
  template <class F>
  bool peek(ebr::ThreadRecord& rec, Blob key, uint64_t now, F&& onValue);
  bool has(ebr::ThreadRecord& rec, Blob key, uint64_t now) {
    return peek(rec, key, now, [](const Blob&) {});
  }
  // Time left before key expires: false when absent or expired; *noExpiry when never.
  bool remainingTtl(ebr::ThreadRecord& rec, Blob key, uint64_t now, uint64_t* remaining, bool* noExpiry);

  // ---- writes: under the map's write lock --------------------------------------------------
  // Stores key -> value for ttl ms (cache_detail::kDefaultTtl: the cache's ttl; 0: none),
  // then evicts to the limits. kTooLarge (key, value or ttl), kNoMemory: nothing changed.
  Status set(ebr::ThreadRecord& rec, Blob key, Blob value, uint64_t now, uint64_t ttl, SetOutcome* outcome,
             SharedRemovalSink* sink);
  // Removes key (reason delete); an expired entry is removed with reason expire and the
  // result is false (it was not there for a reader either).
  bool erase(ebr::ThreadRecord& rec, Blob key, uint64_t now, SharedRemovalSink* sink);
  // Removes everything (reason delete).
  void clear(ebr::ThreadRecord& rec, SharedRemovalSink* sink);
  // Removes every expired entry now.
  void purgeExpired(ebr::ThreadRecord& rec, uint64_t now, SharedRemovalSink* sink);

  // ---- numbers (recent values, no lock) ------------------------------------------------------
  CacheStats stats() const;
  uint64_t size() const { return map_.size(); }
  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  // Native bytes of the table, entries and expiry index.
  uint64_t nativeBytes() const { return map_.bytes() + indexBytes_.load(std::memory_order_relaxed); }
  const CacheLimits& limits() const { return limits_; }
  ConcurrentMap& map() { return map_; }

  // Whether an entry that ConcurrentMap iteration of a cache map produced is live at `now`
  // (its key view points just past its state word).
  static bool liveAt(const Blob& key, uint64_t now) {
    const auto* word = reinterpret_cast<const std::atomic<uint64_t>*>(key.data - cmap_detail::kEntryStateBytes);
    return !expired(word->load(std::memory_order_relaxed), now);
  }

  static uint64_t chargeOf(const Blob& key, const Blob& value) { return uint64_t{key.len} + value.len; }

 private:
  friend void destroySharedCache(SharedCache* cache) noexcept;
  using Entry = cmap_detail::Entry;
  using Bucket = cmap_detail::Bucket;
  using Table = cmap_detail::Table;
  enum class Visit : uint8_t { kKeep, kRemove, kStop };
  class WriteLock;
#if defined(GOMAP_WASM_THREADS)
  // After the map's repair, under the taken-over lock (see the header comment). False
  // when memory runs out (the caller traps).
  bool repairAfterDeadWriter() noexcept;
#endif
  struct alignas(ebr::kCacheLine) Counters {
    std::atomic<uint64_t> hits{0};
    std::atomic<uint64_t> misses{0};
  };

  SharedCache(ConcurrentMap& map, const CacheLimits& limits) : map_(map), limits_(limits) {}

  static bool expired(uint64_t state, uint64_t now) {
    const uint64_t at = state & kCacheExpiryMask;
    return at != 0 && at <= now;
  }
  static uint64_t expiryFor(uint64_t now, uint64_t ttl) {
    if (ttl == 0) return 0;
    const uint64_t at = now + ttl;
    return at > kCacheExpiryMask ? kCacheExpiryMask : at;
  }
  static Counters& stripe(Counters* stripes);
  static uint64_t chargeOfEntry(const Entry* e) { return uint64_t{e->keyLen} + e->valueLen; }

  // ---- under the write lock ----
  // What a set is about to add: entries (0 or 1) and bytes (new charge - old charge).
  struct Pending {
    uint64_t entries;
    int64_t bytes;
  };
  bool overLimits(Pending p) const {
    return (limits_.maxEntries != 0 && map_.size() + p.entries > limits_.maxEntries) ||
           (limits_.maxBytes != 0 && static_cast<int64_t>(bytes()) + p.bytes > static_cast<int64_t>(limits_.maxBytes));
  }
  void addBytes(int64_t delta) {
    bytes_.store(bytes_.load(std::memory_order_relaxed) + static_cast<uint64_t>(delta), std::memory_order_relaxed);
  }
  static void bump(std::atomic<uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // Accounts for and reports an entry about to be removed or replaced.
  void report(const Entry* e, RemovalReason reason, SharedRemovalSink* sink) {
    addBytes(-static_cast<int64_t>(chargeOfEntry(e)));
    if (sink != nullptr) sink->removed(cmap_detail::entryKey(e), cmap_detail::entryValue(e), reason);
  }
  // Calls visit(Entry*, size_t position) for each entry of the current table's bucket b
  // (see the header comment for growth); kRemove unlinks the entry (visit reported it),
  // kStop ends the visit.
  template <class F>
  void visitBucket(ebr::ThreadRecord& rec, uint64_t b, F&& visit);
  uint64_t bucketCount() const { return map_detail::bucketShift(map_.current()->B); }
  void purgeBucket(ebr::ThreadRecord& rec, uint64_t b, uint64_t now, SharedRemovalSink* sink);
  void sweep(ebr::ThreadRecord& rec, uint64_t now, uint64_t buckets, SharedRemovalSink* sink);
  // Evicts (expired entries first, then by CLOCK) until `pending` fits; never `keep` (the
  // entry a set replaces). Called before the set publishes its entry.
  void enforceLimits(ebr::ThreadRecord& rec, const Entry* keep, Pending pending, uint64_t now, SharedRemovalSink* sink);
  bool indexed() const { return anyExpiry_ && !indexFailed_ && index_.enabled(); }
  void syncIndex();
  bool eraseLocked(ebr::ThreadRecord& rec, const Blob& key, uint64_t hash, uint64_t now, SharedRemovalSink* sink);

  ConcurrentMap& map_;
  const CacheLimits limits_;
  // Readers: one stripe per thread (mostly).
  Counters counters_[shared_cache_detail::kCounterStripes];
  // Written under the lock, read by stats() without it (so atomic, relaxed).
  alignas(ebr::kCacheLine) std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> evictions_{0};
  std::atomic<uint64_t> expirations_{0};
  std::atomic<uint64_t> indexBytes_{0};
  // Writers only (under the lock).
  uint64_t hand_ = 0;         // CLOCK hand: bucket index ...
  size_t handPosition_ = 0;   // ... and the first chain position it has not passed yet
  uint64_t sweepHand_ = 0;    // in-order expiry sweep when the index is off
  bool anyExpiry_ = false;    // some entry was stored with a ttl since the last clear
  bool indexFailed_ = false;  // the index could not be allocated: sweep in order instead
  ExpiryIndex index_;
};

// The map's write lock for one cache write: taken over from a writer that died holding it
// (threads build), after both repairs; natively a plain lock of the std::mutex.
class SharedCache::WriteLock {
 public:
  explicit WriteLock(SharedCache& cache) noexcept : lock_(cache.map_.writeLock_) {
#if defined(GOMAP_WASM_THREADS)
    if (lock_.lockOrTakeOver() && !(cache.map_.repairAfterDeadWriter() && cache.repairAfterDeadWriter())) {
      liveness::brokenLock();
    }
#else
    lock_.lock();
#endif
  }
  ~WriteLock() { lock_.unlock(); }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;

 private:
  Mutex& lock_;
};

// Frees a map's cache (ConcurrentMap's destructor calls it; null is fine).
void destroySharedCache(SharedCache* cache) noexcept;

template <class F>
bool SharedCache::get(ebr::ThreadRecord& rec, Blob key, uint64_t now, F&& onValue) {
  ebr::Guard guard(rec);
  Counters& c = stripe(counters_);
  const Entry* e = map_.find(key, map_.hashOf(key));
  if (e != nullptr) {
    std::atomic<uint64_t>& word = cmap_detail::entryState(e);
    uint64_t state = word.load(std::memory_order_relaxed);
    bool live = true;
    for (;;) {
      if (expired(state, now)) {
        live = false;
        break;
      }
      uint64_t want = state | kCacheReferencedBit;
      if (limits_.updateAgeOnGet) {
        const uint64_t ttl = cache_ttl::decode(state);
        if (ttl != 0) want = kCacheReferencedBit | (state & kCacheTtlField) | expiryFor(now, ttl);
      }
      // Only a change is written: a hot entry's line is not written by every reader.
      if (want == state || word.compare_exchange_weak(state, want, std::memory_order_relaxed)) break;
    }
    if (live) {
      c.hits.fetch_add(1, std::memory_order_relaxed);
      onValue(cmap_detail::entryValue(e));
      return true;
    }
  }
  c.misses.fetch_add(1, std::memory_order_relaxed);
  return false;
}

template <class F>
bool SharedCache::peek(ebr::ThreadRecord& rec, Blob key, uint64_t now, F&& onValue) {
  ebr::Guard guard(rec);
  const Entry* e = map_.find(key, map_.hashOf(key));
  if (e == nullptr || expired(cmap_detail::entryState(e).load(std::memory_order_relaxed), now)) return false;
  onValue(cmap_detail::entryValue(e));
  return true;
}

}  // namespace gomap
