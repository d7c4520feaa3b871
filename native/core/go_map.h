// GoMap: Go's classic hash map (runtime/map.go, Go 1.19-1.23), rebuilt in C++.
//
// A map is an array of 2^B buckets. Each bucket holds 8 key/value slots:
//
//   +------------+------------------+--------------------+----------+
//   | tophash[8] | key[0] .. key[7] | value[0] .. val[7] | overflow |
//   +------------+------------------+--------------------+----------+
//
// Keys sit together and values sit together, so no padding is needed between them. The
// low-order B bits of a key's hash select its bucket; the top 8 bits (its "tophash") are
// kept in tophash[] so a lookup compares one byte per slot before it reads any key. When
// more than 8 keys hash to a bucket, overflow buckets are chained to it.
//
// tophash values below kMinTopHash are markers, not hashes:
//   kEmptyRest       this slot and every later slot of the chain are empty: stop looking
//   kEmptyOne        this slot is empty (a later slot may not be)
//   kEvacuatedX/Y    the entry moved to the first/second half of the grown table
//   kEvacuatedEmpty  the slot was empty when its bucket was evacuated
// A real tophash smaller than kMinTopHash is bumped up by kMinTopHash.
//
// Growth. When the average load exceeds 6.5 entries per bucket, the table doubles. When
// there are too many overflow buckets for the table size (left behind by deletes), the
// table is rebuilt at the same size to compact the chains. Either way growth is
// incremental: the old array stays in place (oldbuckets_), and every insert or delete
// "evacuates" the old bucket its key belongs to, plus the next unevacuated one at
// nevacuate_, until all old buckets have moved. When doubling, old bucket i splits into
// new buckets i ("X") and i + 2^(B-1) ("Y") by the new hash bit. Lookups during growth
// read an old bucket that is not evacuated yet instead of its new one.
//
// Iteration starts at a random bucket and slot offset and walks every bucket once. If the
// table grows during iteration, the iterator keeps walking the array it started on (it
// holds a reference to it): entries that have been evacuated from there are looked up in
// the current table to find their current value, or to learn they were deleted. An
// iterator started during a grow walks the new array, but reads old buckets that are not
// evacuated yet, producing only the keys that belong to the new bucket it is at. This
// gives Go's guarantees: an entry present for the whole iteration is produced exactly
// once, an entry deleted before it is reached is never produced.
//
// Memory an iterator may still read is never freed under it: bucket arrays are reference
// counted (the map and each iterator on them), and out-of-line keys (BlobBox) removed
// while an iterator might read evacuated slots are freed when that iterator ends.
//
// Cache hooks (used by cache.h, unused by GoMap's own callers): findValue() gives a value
// slot to update in place, setLocated() says where a value landed, and visitBucket() walks
// one bucket's live slots as lookups see them and removes the ones its callback picks, at
// their position, without growth work (so it never allocates and never moves a slot).
//
// Beyond Go: shrink() rebuilds to the smallest table that fits; reserve(n) grows at once;
// stats() exposes the table's shape; allocation failure is returned, never thrown, and
// leaves the map exactly as it was; a test-only hash override forces collisions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include "alloc.h"
#include "blob.h"
#include "hash.h"
#include "map_stats.h"
#include "prefetch.h"
#include "random.h"
#include "slots.h"
#include "status.h"

namespace gomap {

// Options for a new map (see API.md: hint, seed).
struct MapOptions {
  uint64_t seed = 0;        // with fixedSeed: the seed of the map's random stream
  bool fixedSeed = false;   // false: seed from OS entropy
  uint64_t hint = 0;        // pre-size for this many entries (like make(map, hint)): the
                            // constructor never allocates, so pass it to init(hint)
  // Test hook: replaces each computed hash by hashOverride(hash), e.g. to force collisions.
  uint64_t (*hashOverride)(uint64_t hash) = nullptr;
};

namespace map_detail {

constexpr size_t kBucketCount = 8;  // slots per bucket (Go's bucketCnt)
constexpr uint8_t kEmptyRest = 0;
constexpr uint8_t kEmptyOne = 1;
constexpr uint8_t kEvacuatedX = 2;
constexpr uint8_t kEvacuatedY = 3;
constexpr uint8_t kEvacuatedEmpty = 4;
constexpr uint8_t kMinTopHash = 5;
// Load factor 6.5 = 13/2 entries per bucket triggers a doubling grow.
constexpr uint64_t kLoadFactorNum = 13;
constexpr uint64_t kLoadFactorDen = 2;
// Largest B a table may have (2^40 buckets is far beyond any machine's memory).
constexpr unsigned kMaxB = 40;
// advanceEvacuationMark looks at most this many buckets ahead per step.
constexpr size_t kEvacuationScanLimit = 1024;

inline bool isEmpty(uint8_t top) { return top <= kEmptyOne; }
inline bool isEvacuatedMark(uint8_t top) { return top > kEmptyOne && top < kMinTopHash; }
inline uint8_t topHash(uint64_t hash) {
  uint8_t top = static_cast<uint8_t>(hash >> 56);
  return top < kMinTopHash ? static_cast<uint8_t>(top + kMinTopHash) : top;
}
inline uint64_t bucketShift(unsigned B) { return uint64_t{1} << B; }
inline uint64_t bucketMask(unsigned B) { return bucketShift(B) - 1; }

// Whether count entries overload a table of 2^B buckets (Go's overLoadFactor).
inline bool overLoadFactor(uint64_t count, unsigned B) {
  return count > kBucketCount && count > kLoadFactorNum * (bucketShift(B) / kLoadFactorDen);
}
// Smallest B whose table holds count entries without growing.
inline unsigned bucketBitsFor(uint64_t count) {
  unsigned B = 0;
  while (B < kMaxB && overLoadFactor(count, B)) ++B;
  return B;
}
// Whether noverflow overflow buckets are too many for 2^B buckets: a same-size grow
// compacts them (Go's tooManyOverflowBuckets). Go triggers it when there are about as
// many overflow buckets as buckets: it tests noverflow >= 2^min(B, 15), but from B = 16 on
// its noverflow is a 16-bit sampled counter bumped with probability 2^(15-B), so the
// real threshold stays ~2^B overflow buckets. The count here is exact, so the test is the
// threshold itself. (Comparing an exact count with 2^15 would start same-size grows at
// a normal 6.5 load in every table past 2^18 buckets, doubling its memory for a while.)
inline bool tooManyOverflowBuckets(uint64_t noverflow, unsigned B) {
  return noverflow >= (uint64_t{1} << B);
}

// The tophash bytes of a bucket as one little-endian word: byte i is slot i.
inline uint64_t loadTopHashes(const uint8_t* b) {
  uint64_t w;
  std::memcpy(&w, b, sizeof w);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap64(w);
#endif
  return w;
}
constexpr uint64_t kEachByteLow = 0x0101010101010101ull;
constexpr uint64_t kEachByteHigh = 0x8080808080808080ull;
// High bit set in each byte of `tags` equal to `top` (exact for the lowest match; a byte
// above a match may be a false positive).
inline uint64_t matchMask(uint64_t tags, uint8_t top) {
  uint64_t x = tags ^ (kEachByteLow * top);
  return (x - kEachByteLow) & ~x & kEachByteHigh;
}
// Whether any byte is kEmptyRest (0). Exact: nonzero iff some byte is zero.
inline bool hasEmptyRest(uint64_t tags) { return ((tags - kEachByteLow) & ~tags & kEachByteHigh) != 0; }
inline size_t firstMatchIndex(uint64_t mask) { return static_cast<size_t>(__builtin_ctzll(mask)) >> 3; }

// A bucket array, reference counted by its map and by the iterators walking it.
struct BucketArray {
  uint32_t refs;
  unsigned B;
  uint8_t* buckets;  // 2^B buckets, contiguous
};

}  // namespace map_detail

template <class K, class V>
class GoMap {
 public:
  using KeyView = typename K::View;
  using ValueView = typename V::View;
  class Iterator;

  // Bucket layout: tophash[8], keys[8], values[8], overflow pointer.
  static constexpr size_t kKeysOffset = map_detail::kBucketCount;
  static constexpr size_t kValuesOffset = kKeysOffset + map_detail::kBucketCount * K::kSlotSize;
  static constexpr size_t kOverflowOffset = kValuesOffset + map_detail::kBucketCount * V::kSlotSize;
  static constexpr size_t kBucketSize = kOverflowOffset + sizeof(void*);

  // Constructing never allocates; call init() to apply the hint (it may fail).
  explicit GoMap(const MapOptions& options = MapOptions())
      : rng_(options.fixedSeed ? options.seed : entropy64()), hashOverride_(options.hashOverride) {
    hash0_ = rng_.next();
  }
  GoMap(const GoMap&) = delete;
  GoMap& operator=(const GoMap&) = delete;
  ~GoMap();

  // Pre-sizes the table for `hint` entries (make(map, hint)).
  Status init(uint64_t hint) { return hint == 0 ? Status::kOk : reserve(hint); }

  uint64_t size() const { return count_; }
  MapStats stats() const;

  // Looks `key` up; on a hit stores its value in *out (when out is not null).
  bool get(const KeyView& key, ValueView* out) const {
    const uint8_t* slot = findValueSlot(key, hashOf(key));
    if (slot == nullptr) return false;
    if (out != nullptr) *out = V::load(slot);
    return true;
  }
  bool contains(const KeyView& key) const { return findValueSlot(key, hashOf(key)) != nullptr; }

  // Batched lookup: found[i] and out[i] for each of n keys. Hashes a window of keys ahead
  // and prefetches their buckets, so the cache misses of independent lookups overlap.
  void getMany(const KeyView* keys, size_t n, ValueView* out, bool* found) const;

  // Inserts or overwrites. *inserted (if given) says whether the key was new.
  Status set(const KeyView& key, const ValueView& value, bool* inserted = nullptr) {
    return upsert(key, value, true, nullptr, inserted);
  }
  // Inserts `value` only if `key` is absent; *current receives the value now stored.
  Status getOrInsert(const KeyView& key, const ValueView& value, ValueView* current, bool* inserted) {
    return upsert(key, value, false, current, inserted);
  }
  // Removes `key`. onRemoved(valueView), if given, sees the value just before it is freed.
  // Never fails: a delete that cannot reserve memory for growth work skips that work.
  template <class F>
  bool erase(const KeyView& key, F&& onRemoved);
  bool erase(const KeyView& key) {
    return erase(key, [](const ValueView&) {});
  }
  // Removes every entry, keeping the table size (as Go's clear does). Never fails.
  void clear();
  // Grows now so that n entries fit without further growth.
  Status reserve(uint64_t n);
  // Rebuilds to the smallest table that holds the current entries.
  Status shrink();

  // --- hooks for a cache built on the table (native/core/cache.h) ---------------------
  // Nothing below changes what the operations above do; a cache uses them to keep per-slot
  // state (recency, expiry) in its value slots and to evict at a bucket position.

  // The value slot of `key`, writable in place (the slot's bytes must keep a valid V image),
  // or null when absent. Valid until the map is next mutated.
  uint8_t* findValue(const KeyView& key) { return findValueSlot(key, hashOf(key)); }
  // set() that also returns where the value now sits (valid until the next mutation).
  Status setLocated(const KeyView& key, const ValueView& value, bool* inserted, uint8_t** valueSlotOut) {
    return upsert(key, value, true, nullptr, inserted, valueSlotOut);
  }
  // Buckets of the current array (0 before the first insert).
  uint64_t bucketCount() const { return buckets_ == nullptr ? 0 : map_detail::bucketShift(B_); }
  // The bucket of the current array that `key` belongs to.
  uint64_t bucketOf(const KeyView& key) const { return hashOf(key) & map_detail::bucketMask(B_); }
  // Never doubles past 2^maxB buckets: beyond that load, overflow chains take the extra
  // entries (same-size grows still compact them). For a cache whose entry limit is known,
  // so that the table does not double for the last few entries of its budget.
  void limitGrowth(unsigned maxB) { growthLimitB_ = maxB; }
  // What visitBucket's callback asks for a slot.
  enum class SlotAction : uint8_t { kKeep, kRemove };
  // Calls fn(position, keySlot, valueSlot) -> SlotAction for each live slot of bucket
  // `index` of the current array, as lookups see it: while that bucket's old bucket is not
  // evacuated yet, the old bucket's chain instead (all of it). position is the slot's
  // place in the chain (8 * bucket-in-chain + slot), stable while nothing grows. kRemove
  // removes the slot (its key and value freed, no growth work: removal never allocates and
  // never moves other slots). The callback must not touch the map otherwise. Returns the
  // number of live slots visited.
  template <class F>
  size_t visitBucket(uint64_t index, F&& fn);

 private:
  using Array = map_detail::BucketArray;
  struct Destination {
    uint8_t* bucket;
    size_t slot;
  };

  // --- bucket access -------------------------------------------------------------------
  static uint8_t* bucketAt(const Array* a, uint64_t index) { return a->buckets + index * kBucketSize; }
  static uint8_t* keySlot(uint8_t* b, size_t i) { return b + kKeysOffset + i * K::kSlotSize; }
  static uint8_t* valueSlot(uint8_t* b, size_t i) { return b + kValuesOffset + i * V::kSlotSize; }
  static uint8_t* overflowOf(const uint8_t* b) {
    uint8_t* next;
    std::memcpy(&next, b + kOverflowOffset, sizeof next);
    return next;
  }
  static void setOverflow(uint8_t* b, uint8_t* next) { std::memcpy(b + kOverflowOffset, &next, sizeof next); }
  static bool evacuated(const uint8_t* b) { return map_detail::isEvacuatedMark(b[0]); }
  static size_t chainLength(const uint8_t* b) {
    size_t n = 0;
    for (; b != nullptr; b = overflowOf(b)) ++n;
    return n;
  }

  uint64_t hashOf(const KeyView& key) const {
    uint64_t h = K::hash(key, hash0_);
    return hashOverride_ == nullptr ? h : hashOverride_(h);
  }
  bool growing() const { return oldbuckets_ != nullptr; }
  uint64_t oldBucketCount() const {
    return map_detail::bucketShift(sameSizeGrow_ ? B_ : B_ - 1);
  }

  // --- lookup ----------------------------------------------------------------------------
  // Bucket where `hash` lives now: the old bucket if it is not evacuated yet (mapaccess).
  uint8_t* homeBucket(uint64_t hash) const {
    uint64_t m = map_detail::bucketMask(B_);
    uint8_t* b = bucketAt(buckets_, hash & m);
    if (oldbuckets_ != nullptr) {
      if (!sameSizeGrow_) m >>= 1;
      uint8_t* oldb = bucketAt(oldbuckets_, hash & m);
      if (!evacuated(oldb)) b = oldb;
    }
    return b;
  }
  // Finds the slot index of key in the chain starting at b; returns its bucket or null.
  //
  // The 8 tophash bytes of a bucket are compared at once as one 64-bit word ("SWAR"):
  // matchMask marks the bytes equal to `top` (possibly plus false positives above a true
  // match, which the key comparison rejects), so the scan has no per-slot branch. A
  // chain ends at a bucket holding an empty-rest byte (0): every later slot is empty, and
  // hasEmptyRest tests for a zero byte exactly.
  uint8_t* findInChain(uint8_t* b, const KeyView& key, uint8_t top, size_t* index) const {
    for (; b != nullptr; b = overflowOf(b)) {
      const uint64_t tags = map_detail::loadTopHashes(b);
      for (uint64_t m = map_detail::matchMask(tags, top); m != 0; m &= m - 1) {
        size_t i = map_detail::firstMatchIndex(m);
        if (K::equals(keySlot(b, i), key)) {
          *index = i;
          return b;
        }
      }
      if (map_detail::hasEmptyRest(tags)) return nullptr;
    }
    return nullptr;
  }
  uint8_t* findValueSlot(const KeyView& key, uint64_t hash) const {
    if (count_ == 0) return nullptr;
    size_t i;
    uint8_t* const home = homeBucket(hash);
    touchBucket(home);
    uint8_t* b = findInChain(home, key, map_detail::topHash(hash), &i);
    return b == nullptr ? nullptr : valueSlot(b, i);
  }
  // getMany where prefetchForRead is a real load: the same stages, on blocks of keys.
  void getManyInGroups(const KeyView* keys, size_t n, ValueView* out, bool* found) const;
  // getMany's second stage for one key, bucket b's tophash line loaded or on its way:
  // starts loading the key and value lines of its first candidate slot.
  void prefetchCandidate(uint8_t* b, uint64_t hash) const {
    const uint64_t m = map_detail::matchMask(map_detail::loadTopHashes(b), map_detail::topHash(hash));
    if (m != 0) {
      const size_t i = map_detail::firstMatchIndex(m);
      prefetchForRead(keySlot(b, i));
      prefetchForRead(valueSlot(b, i));
    }
  }
  // getMany's last step for one key, from its home bucket: *found, and *out when found.
  void lookUpFrom(uint8_t* home, const KeyView& key, uint64_t hash, ValueView* out, bool* found) const {
    size_t slotIndex;
    uint8_t* b = findInChain(home, key, map_detail::topHash(hash), &slotIndex);
    *found = b != nullptr;
    if (b != nullptr) *out = V::load(valueSlot(b, slotIndex));
  }
  // Starts loading every cache line of bucket b before its tophash is read. A hit reads
  // the tophash line, then the key's line, then the value's: in a table larger than the
  // caches those are two or three misses one after the other; started together they cost
  // about one. (A miss usually needs the tophash line only: the rest is bandwidth.)
  static void touchBucket(const uint8_t* b) {
    for (size_t offset = 64; offset < kBucketSize; offset += 64) prefetchForRead(b + offset);
  }

  // --- memory ----------------------------------------------------------------------------
  Array* newArray(unsigned B);
  void retainArray(Array* a) { ++a->refs; }
  void releaseArray(Array* a);
  void freeArray(Array* a);
  // Overflow buckets come from a spare pool, refilled before any evacuation or insert
  // starts, so those steps never fail half-way.
  bool reserveSpare(size_t n);
  uint8_t* takeSpare();
  uint8_t* newOverflow(uint8_t* b);
  // Frees (or defers, while an iterator may read evacuated slots) what a slot owns.
  void releaseKeySlot(uint8_t* slot);
  void releaseValueSlot(uint8_t* slot);
  void releaseBox(BlobBox* box);
  void flushDeferred();

  // --- mutation --------------------------------------------------------------------------
  Status upsert(const KeyView& key, const ValueView& value, bool overwrite, ValueView* current, bool* inserted,
                uint8_t** valueSlotOut = nullptr);
  // Removes the live slot i of bucket b, in the chain that starts at origin (erase's tail).
  void removeAt(uint8_t* origin, uint8_t* b, size_t i);
  // Spare buckets needed to evacuate the old bucket of `bucket` and the one at nevacuate_.
  size_t spareNeededForGrowWork(uint64_t bucket) const;
  // Spare buckets needed to evacuate one old bucket (0 if it is evacuated already).
  size_t spareNeededToEvacuate(uint64_t oldbucket) const;
  void growWork(uint64_t bucket);
  void evacuate(uint64_t oldbucket);
  void advanceEvacuationMark(uint64_t newbit);
  void finishGrow();
  bool hashGrow();
  void noteGrowForIterators();
  // Rebuilds into a fresh table of 2^B buckets at once (reserve, shrink).
  Status rebuild(unsigned B);
  void reseed() { hash0_ = rng_.next(); }

  // --- iterators -----------------------------------------------------------------------
  void attachIterator(Iterator* it);
  void detachIterator(Iterator* it);
  void stopReadingEvacuated(Iterator* it);

  Array* buckets_ = nullptr;
  Array* oldbuckets_ = nullptr;
  unsigned B_ = 0;
  bool sameSizeGrow_ = false;
  uint64_t count_ = 0;
  uint64_t hash0_ = 0;
  uint64_t nevacuate_ = 0;
  uint64_t evacuatedCount_ = 0;
  uint64_t noverflow_ = 0;     // overflow buckets of buckets_
  uint64_t oldNoverflow_ = 0;  // overflow buckets of oldbuckets_
  uint64_t grows_ = 0, sameSizeGrows_ = 0, shrinks_ = 0;
  unsigned growthLimitB_ = map_detail::kMaxB;  // limitGrowth(); kMaxB: no limit
  uint8_t* spare_ = nullptr;  // free overflow buckets, linked through their overflow field
  size_t spareCount_ = 0;
  Iterator* iterators_ = nullptr;  // live iterators (intrusive list)
  size_t evacuatedReaders_ = 0;    // live iterators that may read evacuated slots
  BlobBox* deferred_ = nullptr;    // boxes to free once evacuatedReaders_ drops to 0
  mutable MemoryAccount memory_;
  SplitMix64 rng_;
  uint64_t (*hashOverride_)(uint64_t);
};

// ===========================================================================================
// Iterator
// ===========================================================================================

template <class K, class V>
class GoMap<K, V>::Iterator {
 public:
  // Starts an iteration at a random bucket and offset. The map must outlive the iterator
  // or close it first: a map destroyed under a live iterator detaches it (next() = false).
  explicit Iterator(GoMap& map);
  ~Iterator() { stop(); }
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;

  // Produces the next entry. The views stay valid until the map is next mutated.
  bool next(KeyView* key, ValueView* value);
  // Ends the iteration early, releasing what it holds.
  void stop();

 private:
  friend class GoMap;
  static constexpr uint64_t kNoCheck = ~uint64_t{0};

  GoMap* map_;
  Array* array_ = nullptr;     // the array this iteration walks
  Array* heldOld_ = nullptr;   // old array, when started during a grow
  unsigned B_ = 0;
  uint64_t startBucket_ = 0;
  uint64_t bucket_ = 0;
  uint8_t offset_ = 0;
  bool wrapped_ = false;
  bool readsEvacuated_ = false;
  uint8_t* bptr_ = nullptr;  // bucket being walked (null: move to the next bucket)
  size_t i_ = 0;
  uint64_t checkBucket_ = kNoCheck;
  Iterator* prev_ = nullptr;
  Iterator* next_ = nullptr;
};

template <class K, class V>
GoMap<K, V>::Iterator::Iterator(GoMap& map) : map_(&map) {
  if (map.count_ == 0 || map.buckets_ == nullptr) {
    map_ = nullptr;
    return;
  }
  array_ = map.buckets_;
  map.retainArray(array_);
  B_ = array_->B;
  uint64_t r = map.rng_.next();
  startBucket_ = r & map_detail::bucketMask(B_);
  offset_ = static_cast<uint8_t>((r >> B_) & (map_detail::kBucketCount - 1));
  bucket_ = startBucket_;
  map.attachIterator(this);
  if (map.growing()) {
    heldOld_ = map.oldbuckets_;
    map.retainArray(heldOld_);
    readsEvacuated_ = true;
    ++map.evacuatedReaders_;
  }
}

template <class K, class V>
void GoMap<K, V>::Iterator::stop() {
  if (map_ == nullptr) return;
  GoMap* m = map_;
  m->detachIterator(this);
  if (heldOld_ != nullptr) m->releaseArray(heldOld_);
  m->releaseArray(array_);
  heldOld_ = nullptr;
  array_ = nullptr;
  map_ = nullptr;
  if (readsEvacuated_) {
    readsEvacuated_ = false;
    m->stopReadingEvacuated(this);
  }
}

template <class K, class V>
bool GoMap<K, V>::Iterator::next(KeyView* key, ValueView* value) {
  using namespace map_detail;
  if (map_ == nullptr) return false;
  GoMap& m = *map_;
  const uint64_t nbuckets = bucketShift(B_);
  for (;;) {
    if (bptr_ == nullptr) {
      if (bucket_ == startBucket_ && wrapped_) {
        stop();
        return false;
      }
      uint8_t* b;
      if (m.growing() && array_ == m.buckets_) {
        // Started during this grow: read the old bucket if it is not evacuated yet, and
        // produce only the keys that belong to our new bucket.
        uint64_t oldbucket = bucket_ & bucketMask(m.sameSizeGrow_ ? B_ : B_ - 1);
        b = bucketAt(m.oldbuckets_, oldbucket);
        if (!evacuated(b)) {
          checkBucket_ = bucket_;
        } else {
          b = bucketAt(array_, bucket_);
          checkBucket_ = kNoCheck;
        }
      } else {
        b = bucketAt(array_, bucket_);
        checkBucket_ = kNoCheck;
      }
      if (++bucket_ == nbuckets) {
        bucket_ = 0;
        wrapped_ = true;
      }
      bptr_ = b;
      i_ = 0;
    }
    for (; i_ < kBucketCount; ++i_) {
      size_t offi = (i_ + offset_) & (kBucketCount - 1);
      uint8_t top = bptr_[offi];
      if (isEmpty(top) || top == kEvacuatedEmpty) continue;
      uint8_t* k = keySlot(bptr_, offi);
      if (checkBucket_ != kNoCheck && !m.sameSizeGrow_) {
        uint64_t hash = m.hashOf(K::load(k));
        if ((hash & bucketMask(B_)) != checkBucket_) continue;
      }
      if (top != kEvacuatedX && top != kEvacuatedY) {
        // The golden copy: this slot is live where it is.
        *key = K::load(k);
        *value = V::load(valueSlot(bptr_, offi));
      } else {
        // Moved by a grow since: look it up in the current table (it may be gone).
        KeyView kv = K::load(k);
        uint64_t hash = m.hashOf(kv);
        if (m.count_ == 0) continue;
        size_t idx;
        uint8_t* found = m.findInChain(m.homeBucket(hash), kv, topHash(hash), &idx);
        if (found == nullptr) continue;
        *key = K::load(keySlot(found, idx));
        *value = V::load(valueSlot(found, idx));
      }
      ++i_;
      return true;
    }
    bptr_ = overflowOf(bptr_);
    i_ = 0;
  }
}

// ===========================================================================================
// Map internals
// ===========================================================================================

template <class K, class V>
GoMap<K, V>::~GoMap() {
  while (iterators_ != nullptr) iterators_->stop();
  if (oldbuckets_ != nullptr) releaseArray(oldbuckets_);
  if (buckets_ != nullptr) releaseArray(buckets_);
  while (spare_ != nullptr) {
    uint8_t* next = overflowOf(spare_);
    memory_.release(spare_, kBucketSize);
    spare_ = next;
  }
  flushDeferred();
}

template <class K, class V>
typename GoMap<K, V>::Array* GoMap<K, V>::newArray(unsigned B) {
  if (B > map_detail::kMaxB) return nullptr;
  uint64_t n = map_detail::bucketShift(B);
  if (n > (SIZE_MAX - sizeof(Array)) / kBucketSize) return nullptr;
  size_t bytes = static_cast<size_t>(n) * kBucketSize;
  auto* a = static_cast<Array*>(memory_.allocate(sizeof(Array)));
  if (a == nullptr) return nullptr;
  // Zeroed: every slot kEmptyRest, no overflow.
  auto* data = static_cast<uint8_t*>(memory_.allocateZeroed(bytes));
  if (data == nullptr) {
    memory_.release(a, sizeof(Array));
    return nullptr;
  }
  a->refs = 1;
  a->B = B;
  a->buckets = data;
  return a;
}

template <class K, class V>
void GoMap<K, V>::releaseArray(Array* a) {
  if (--a->refs == 0) freeArray(a);
}

// Frees an array, its overflow chains and whatever its live slots own. Slots with a real
// tophash own their out-of-line memory; evacuated slots do not (it moved with the entry).
template <class K, class V>
void GoMap<K, V>::freeArray(Array* a) {
  uint64_t n = map_detail::bucketShift(a->B);
  for (uint64_t i = 0; i < n; ++i) {
    uint8_t* b = bucketAt(a, i);
    bool primary = true;
    while (b != nullptr) {
      uint8_t* next = overflowOf(b);
      for (size_t s = 0; s < map_detail::kBucketCount; ++s) {
        if (b[s] >= map_detail::kMinTopHash) {
          releaseKeySlot(keySlot(b, s));
          releaseValueSlot(valueSlot(b, s));
        }
      }
      if (!primary) memory_.release(b, kBucketSize);
      primary = false;
      b = next;
    }
  }
  memory_.releaseZeroed(a->buckets, static_cast<size_t>(n) * kBucketSize);
  memory_.release(a, sizeof(Array));
}

template <class K, class V>
bool GoMap<K, V>::reserveSpare(size_t n) {
  while (spareCount_ < n) {
    auto* b = static_cast<uint8_t*>(memory_.allocate(kBucketSize));
    if (b == nullptr) return false;
    setOverflow(b, spare_);
    spare_ = b;
    ++spareCount_;
  }
  return true;
}

template <class K, class V>
uint8_t* GoMap<K, V>::takeSpare() {
  uint8_t* b = spare_;
  spare_ = overflowOf(b);
  --spareCount_;
  std::memset(b, 0, kBucketSize);
  return b;
}

template <class K, class V>
uint8_t* GoMap<K, V>::newOverflow(uint8_t* b) {
  uint8_t* ovf = takeSpare();
  ++noverflow_;
  setOverflow(b, ovf);
  return ovf;
}

template <class K, class V>
void GoMap<K, V>::releaseBox(BlobBox* box) {
  if (box == nullptr) return;
  if (evacuatedReaders_ > 0) {
    box->deferredNext = deferred_;
    deferred_ = box;
    return;
  }
  memory_.release(box, blobBoxBytes(box->len));
}

template <class K, class V>
void GoMap<K, V>::releaseKeySlot(uint8_t* slot) {
  releaseBox(K::ownedBox(slot));
}

template <class K, class V>
void GoMap<K, V>::releaseValueSlot(uint8_t* slot) {
  // Iterators never read values from evacuated slots (they look the key up again), so
  // a value's box can go at once.
  BlobBox* box = V::ownedBox(slot);
  if (box != nullptr) memory_.release(box, blobBoxBytes(box->len));
}

template <class K, class V>
void GoMap<K, V>::flushDeferred() {
  while (deferred_ != nullptr) {
    BlobBox* next = deferred_->deferredNext;
    memory_.release(deferred_, blobBoxBytes(deferred_->len));
    deferred_ = next;
  }
}

template <class K, class V>
void GoMap<K, V>::attachIterator(Iterator* it) {
  it->next_ = iterators_;
  it->prev_ = nullptr;
  if (iterators_ != nullptr) iterators_->prev_ = it;
  iterators_ = it;
}

template <class K, class V>
void GoMap<K, V>::detachIterator(Iterator* it) {
  if (it->prev_ != nullptr) it->prev_->next_ = it->next_;
  else iterators_ = it->next_;
  if (it->next_ != nullptr) it->next_->prev_ = it->prev_;
  it->prev_ = it->next_ = nullptr;
}

template <class K, class V>
void GoMap<K, V>::stopReadingEvacuated(Iterator*) {
  if (--evacuatedReaders_ == 0) flushDeferred();
}

// A grow or rebuild is starting: every live iterator may now meet evacuated slots.
template <class K, class V>
void GoMap<K, V>::noteGrowForIterators() {
  for (Iterator* it = iterators_; it != nullptr; it = it->next_) {
    if (!it->readsEvacuated_) {
      it->readsEvacuated_ = true;
      ++evacuatedReaders_;
    }
  }
}

template <class K, class V>
size_t GoMap<K, V>::spareNeededToEvacuate(uint64_t oldbucket) const {
  // Evacuating a chain of L buckets fills at most L buckets on each side (X and Y); the
  // first bucket of each side exists already.
  const uint8_t* b = bucketAt(oldbuckets_, oldbucket);
  if (evacuated(b)) return 0;
  size_t len = chainLength(b);
  return (sameSizeGrow_ ? 1 : 2) * (len - 1);
}

template <class K, class V>
size_t GoMap<K, V>::spareNeededForGrowWork(uint64_t bucket) const {
  auto need = [&](uint64_t oldbucket) { return spareNeededToEvacuate(oldbucket); };
  uint64_t oldmask = oldBucketCount() - 1;
  size_t n = need(bucket & oldmask);
  if (nevacuate_ != (bucket & oldmask)) {
    n += need(nevacuate_);
  } else {
    // Evacuating the mark's own bucket advances the mark (as advanceEvacuationMark does):
    // growWork's second evacuation then takes the next unevacuated bucket.
    uint64_t next = nevacuate_ + 1;
    uint64_t stop = next + map_detail::kEvacuationScanLimit;
    if (stop > oldmask + 1) stop = oldmask + 1;
    while (next != stop && evacuated(bucketAt(oldbuckets_, next))) ++next;
    if (next <= oldmask) n += need(next);
  }
  return n;
}

template <class K, class V>
void GoMap<K, V>::growWork(uint64_t bucket) {
  evacuate(bucket & (oldBucketCount() - 1));
  if (growing()) evacuate(nevacuate_);
}

template <class K, class V>
void GoMap<K, V>::evacuate(uint64_t oldbucket) {
  using namespace map_detail;
  uint8_t* b = bucketAt(oldbuckets_, oldbucket);
  const uint64_t newbit = oldBucketCount();
  if (!evacuated(b)) {
    Destination xy[2];
    xy[0] = {bucketAt(buckets_, oldbucket), 0};
    xy[1] = {sameSizeGrow_ ? nullptr : bucketAt(buckets_, oldbucket + newbit), 0};
    for (; b != nullptr; b = overflowOf(b)) {
      for (size_t i = 0; i < kBucketCount; ++i) {
        uint8_t top = b[i];
        if (isEmpty(top)) {
          b[i] = kEvacuatedEmpty;
          continue;
        }
        uint8_t* k = keySlot(b, i);
        size_t useY = 0;
        if (!sameSizeGrow_ && (hashOf(K::load(k)) & newbit) != 0) useY = 1;
        b[i] = static_cast<uint8_t>(kEvacuatedX + useY);
        Destination& dst = xy[useY];
        if (dst.slot == kBucketCount) {
          dst.bucket = newOverflow(dst.bucket);
          dst.slot = 0;
        }
        dst.bucket[dst.slot] = top;
        std::memcpy(keySlot(dst.bucket, dst.slot), k, K::kSlotSize);
        std::memcpy(valueSlot(dst.bucket, dst.slot), valueSlot(b, i), V::kSlotSize);
        ++dst.slot;
      }
    }
    ++evacuatedCount_;
  }
  if (oldbucket == nevacuate_) advanceEvacuationMark(newbit);
}

template <class K, class V>
void GoMap<K, V>::advanceEvacuationMark(uint64_t newbit) {
  ++nevacuate_;
  uint64_t stop = nevacuate_ + map_detail::kEvacuationScanLimit;
  if (stop > newbit) stop = newbit;
  while (nevacuate_ != stop && evacuated(bucketAt(oldbuckets_, nevacuate_))) ++nevacuate_;
  if (nevacuate_ == newbit) finishGrow();
}

template <class K, class V>
void GoMap<K, V>::finishGrow() {
  releaseArray(oldbuckets_);
  oldbuckets_ = nullptr;
  oldNoverflow_ = 0;
  sameSizeGrow_ = false;
  nevacuate_ = 0;
  evacuatedCount_ = 0;
}

// Starts a grow (doubling, or same-size when the load is fine but overflow is not).
// Returns false if the new array cannot be allocated; the map is then unchanged.
template <class K, class V>
bool GoMap<K, V>::hashGrow() {
  bool bigger = map_detail::overLoadFactor(count_ + 1, B_) && B_ < growthLimitB_;
  Array* fresh = newArray(bigger ? B_ + 1 : B_);
  if (fresh == nullptr) return false;
  noteGrowForIterators();
  oldbuckets_ = buckets_;
  oldNoverflow_ = noverflow_;
  buckets_ = fresh;
  B_ = fresh->B;
  sameSizeGrow_ = !bigger;
  nevacuate_ = 0;
  evacuatedCount_ = 0;
  noverflow_ = 0;
  if (bigger) ++grows_;
  else ++sameSizeGrows_;
  return true;
}

template <class K, class V>
Status GoMap<K, V>::upsert(const KeyView& key, const ValueView& value, bool overwrite, ValueView* current,
                           bool* inserted, uint8_t** valueSlotOut) {
  using namespace map_detail;
  const uint64_t hash = hashOf(key);
  const uint8_t top = topHash(hash);
  if (buckets_ == nullptr) {
    buckets_ = newArray(B_);
    if (buckets_ == nullptr) return Status::kNoMemory;
  }
again:
  uint64_t bucket = hash & bucketMask(B_);
  if (growing()) {
    // One spare for a possible new overflow bucket of the insert itself.
    if (!reserveSpare(spareNeededForGrowWork(bucket) + 1)) return Status::kNoMemory;
    growWork(bucket);
  }
  uint8_t* b = bucketAt(buckets_, bucket);
  uint8_t* insertBucket = nullptr;
  size_t insertIndex = 0;
  for (;;) {
    for (size_t i = 0; i < kBucketCount; ++i) {
      if (b[i] != top) {
        if (isEmpty(b[i]) && insertBucket == nullptr) {
          insertBucket = b;
          insertIndex = i;
        }
        if (b[i] == kEmptyRest) goto notFound;
        continue;
      }
      uint8_t* k = keySlot(b, i);
      if (!K::equals(k, key)) continue;
      // Found: the key stays; the value is replaced when overwriting.
      uint8_t* v = valueSlot(b, i);
      if (overwrite) {
        typename V::Encoded encoded;
        if (!V::encode(value, memory_, &encoded)) return Status::kNoMemory;
        releaseValueSlot(v);
        V::write(v, encoded);
      }
      if (current != nullptr) *current = V::load(v);
      if (inserted != nullptr) *inserted = false;
      if (valueSlotOut != nullptr) *valueSlotOut = v;
      return Status::kOk;
    }
    uint8_t* ovf = overflowOf(b);
    if (ovf == nullptr) break;
    b = ovf;
  }
notFound:
  // Did not find the key: add it, growing first if the table is full.
  if (!growing() && ((overLoadFactor(count_ + 1, B_) && B_ < growthLimitB_) || tooManyOverflowBuckets(noverflow_, B_))) {
    if (hashGrow()) goto again;
    // No memory to grow: the table stays valid, just fuller; insert without growing.
  }
  if (insertBucket == nullptr && !reserveSpare(1)) return Status::kNoMemory;
  typename K::Encoded encodedKey;
  typename V::Encoded encodedValue;
  if (!K::encode(key, memory_, &encodedKey)) return Status::kNoMemory;
  if (!V::encode(value, memory_, &encodedValue)) {
    K::discard(encodedKey, memory_);
    return Status::kNoMemory;
  }
  if (insertBucket == nullptr) {
    // Every slot of the chain is full: chain a new overflow bucket (b is its last).
    insertBucket = newOverflow(b);
    insertIndex = 0;
  }
  K::write(keySlot(insertBucket, insertIndex), encodedKey);
  V::write(valueSlot(insertBucket, insertIndex), encodedValue);
  insertBucket[insertIndex] = top;
  ++count_;
  if (current != nullptr) *current = V::load(valueSlot(insertBucket, insertIndex));
  if (inserted != nullptr) *inserted = true;
  if (valueSlotOut != nullptr) *valueSlotOut = valueSlot(insertBucket, insertIndex);
  return Status::kOk;
}

template <class K, class V>
template <class F>
bool GoMap<K, V>::erase(const KeyView& key, F&& onRemoved) {
  using namespace map_detail;
  if (count_ == 0) return false;
  const uint64_t hash = hashOf(key);
  const uint8_t top = topHash(hash);
  uint64_t bucket = hash & bucketMask(B_);
  if (growing() && reserveSpare(spareNeededForGrowWork(bucket))) growWork(bucket);
  // Without growth work the key may still sit in its unevacuated old bucket: delete it
  // there (homeBucket picks whichever holds the golden copy).
  uint8_t* const origin = homeBucket(hash);
  for (uint8_t* b = origin; b != nullptr; b = overflowOf(b)) {
    for (size_t i = 0; i < kBucketCount; ++i) {
      if (b[i] != top) {
        if (b[i] == kEmptyRest) return false;
        continue;
      }
      uint8_t* k = keySlot(b, i);
      if (!K::equals(k, key)) continue;
      onRemoved(V::load(valueSlot(b, i)));
      removeAt(origin, b, i);
      return true;
    }
  }
  return false;
}

template <class K, class V>
void GoMap<K, V>::removeAt(uint8_t* origin, uint8_t* b, size_t i) {
  using namespace map_detail;
  releaseKeySlot(keySlot(b, i));
  releaseValueSlot(valueSlot(b, i));
  b[i] = kEmptyOne;
  // If the chain now ends in a run of kEmptyOne, turn that run into kEmptyRest so
  // lookups stop early.
  uint8_t* next = overflowOf(b);
  bool lastInChain = (i == kBucketCount - 1) ? (next == nullptr || next[0] == kEmptyRest)
                                              : (b[i + 1] == kEmptyRest);
  if (lastInChain) {
    for (;;) {
      b[i] = kEmptyRest;
      if (i == 0) {
        if (b == origin) break;  // start of the chain
        uint8_t* c = b;
        for (b = origin; overflowOf(b) != c; b = overflowOf(b)) {
        }
        i = kBucketCount - 1;
      } else {
        --i;
      }
      if (b[i] != kEmptyOne) break;
    }
  }
  if (--count_ == 0) reseed();  // makes repeated collision attacks harder
}

template <class K, class V>
template <class F>
size_t GoMap<K, V>::visitBucket(uint64_t index, F&& fn) {
  using namespace map_detail;
  if (buckets_ == nullptr || count_ == 0) return 0;
  index &= bucketMask(B_);
  uint8_t* origin = bucketAt(buckets_, index);
  if (oldbuckets_ != nullptr) {
    uint8_t* oldb = bucketAt(oldbuckets_, index & (oldBucketCount() - 1));
    if (!evacuated(oldb)) origin = oldb;
  }
  size_t visited = 0;
  size_t position = 0;
  for (uint8_t* b = origin; b != nullptr; b = overflowOf(b), position += kBucketCount) {
    for (size_t i = 0; i < kBucketCount; ++i) {
      if (b[i] < kMinTopHash) continue;
      ++visited;
      if (fn(position + i, keySlot(b, i), valueSlot(b, i)) == SlotAction::kRemove) {
        removeAt(origin, b, i);
        if (count_ == 0) return visited;
      }
    }
  }
  return visited;
}

template <class K, class V>
void GoMap<K, V>::clear() {
  using namespace map_detail;
  if (buckets_ == nullptr) return;
  noteGrowForIterators();  // iterators will meet emptied arrays; keep keys readable
  if (oldbuckets_ != nullptr) {
    // Unevacuated old buckets hold live entries: mark them gone and free what they own.
    uint64_t n = bucketShift(oldbuckets_->B);
    for (uint64_t i = 0; i < n; ++i) {
      for (uint8_t* b = bucketAt(oldbuckets_, i); b != nullptr; b = overflowOf(b)) {
        for (size_t s = 0; s < kBucketCount; ++s) {
          if (b[s] >= kMinTopHash) {
            releaseKeySlot(keySlot(b, s));
            releaseValueSlot(valueSlot(b, s));
          }
          if (!isEvacuatedMark(b[s])) b[s] = kEvacuatedEmpty;
        }
      }
    }
    finishGrow();
  }
  const uint64_t n = bucketShift(B_);
  if (buckets_->refs == 1) {
    // Nobody else reads this array: empty it in place and recycle its overflow buckets.
    for (uint64_t i = 0; i < n; ++i) {
      uint8_t* primary = bucketAt(buckets_, i);
      for (uint8_t* b = primary; b != nullptr;) {
        for (size_t s = 0; s < kBucketCount; ++s) {
          if (b[s] >= kMinTopHash) {
            releaseKeySlot(keySlot(b, s));
            releaseValueSlot(valueSlot(b, s));
          }
        }
        uint8_t* next = overflowOf(b);
        if (b != primary) {
          setOverflow(b, spare_);
          spare_ = b;
          ++spareCount_;
        }
        b = next;
      }
      std::memset(primary, 0, kBucketSize);
    }
  } else {
    // Iterators hold this array: leave it to them, emptied, and start a fresh one.
    for (uint64_t i = 0; i < n; ++i) {
      for (uint8_t* b = bucketAt(buckets_, i); b != nullptr; b = overflowOf(b)) {
        for (size_t s = 0; s < kBucketCount; ++s) {
          if (b[s] >= kMinTopHash) {
            releaseKeySlot(keySlot(b, s));
            releaseValueSlot(valueSlot(b, s));
          }
          if (!isEvacuatedMark(b[s])) b[s] = kEvacuatedEmpty;
        }
      }
    }
    releaseArray(buckets_);
    buckets_ = newArray(B_);
    if (buckets_ == nullptr) B_ = 0;  // allocated lazily by the next insert
  }
  count_ = 0;
  noverflow_ = 0;
  reseed();
}

template <class K, class V>
Status GoMap<K, V>::reserve(uint64_t n) {
  unsigned target = map_detail::bucketBitsFor(n);
  if (target >= map_detail::kMaxB) return Status::kTooLarge;
  // A table bigger than the machine's memory is refused here, not left to the OS (which
  // grants huge mappings under overcommit): see maxTableBytes().
  if (map_detail::bucketShift(target) > maxTableBytes() / kBucketSize) return Status::kTooLarge;
  if (buckets_ == nullptr) {
    Array* a = newArray(target);
    if (a == nullptr) return Status::kNoMemory;
    buckets_ = a;
    B_ = target;
    return Status::kOk;
  }
  if (target <= B_) return Status::kOk;
  return rebuild(target);
}

template <class K, class V>
Status GoMap<K, V>::shrink() {
  unsigned target = map_detail::bucketBitsFor(count_);
  if (buckets_ == nullptr) return Status::kOk;
  if (target >= B_ && !growing() && noverflow_ == 0) return Status::kOk;
  if (target > B_) target = B_;
  bool smaller = target < B_;
  Status s = rebuild(target);
  if (s == Status::kOk && smaller) ++shrinks_;
  return s;
}

// Moves every entry into a fresh table of 2^B buckets. The new table is built completely
// before the old one is touched, so a failed allocation leaves the map as it was. The old
// arrays then have all their live slots marked evacuated, so iterators on them look the
// entries up in the new table.
template <class K, class V>
Status GoMap<K, V>::rebuild(unsigned B) {
  using namespace map_detail;
  // An iterator started during the current grow walks the new array, and reads an old
  // bucket instead only while that bucket is not evacuated. The rebuild below would move
  // the entries of unevacuated old buckets straight to the fresh table, where that
  // iterator never looks: finish the grow first, so they are in the array it walks.
  if (growing()) {
    bool startedDuringGrow = false;
    for (Iterator* it = iterators_; it != nullptr; it = it->next_) {
      if (it->heldOld_ == oldbuckets_) startedDuringGrow = true;
    }
    if (startedDuringGrow) {
      size_t spares = 0;
      for (uint64_t j = nevacuate_; j < oldBucketCount(); ++j) spares += spareNeededToEvacuate(j);
      if (!reserveSpare(spares)) return Status::kNoMemory;
      while (growing()) evacuate(nevacuate_);
    }
  }
  Array* fresh = newArray(B);
  if (fresh == nullptr) return Status::kNoMemory;
  uint64_t overflowUsed = 0;
  bool failed = false;
  auto place = [&](uint8_t* srcBucket, size_t s) {
    uint8_t* k = keySlot(srcBucket, s);
    uint64_t hash = hashOf(K::load(k));
    uint8_t* b = bucketAt(fresh, hash & bucketMask(B));
    for (;;) {
      for (size_t i = 0; i < kBucketCount; ++i) {
        if (b[i] == kEmptyRest) {
          b[i] = srcBucket[s];
          std::memcpy(keySlot(b, i), k, K::kSlotSize);
          std::memcpy(valueSlot(b, i), valueSlot(srcBucket, s), V::kSlotSize);
          return;
        }
      }
      uint8_t* next = overflowOf(b);
      if (next == nullptr) {
        next = static_cast<uint8_t*>(memory_.allocate(kBucketSize));
        if (next == nullptr) {
          failed = true;
          return;
        }
        std::memset(next, 0, kBucketSize);
        setOverflow(b, next);
        ++overflowUsed;
      }
      b = next;
    }
  };
  // Live entries are the real-tophash slots of the current array and of old buckets not
  // yet evacuated.
  auto forEachLive = [&](Array* a, auto&& fn) {
    uint64_t n = bucketShift(a->B);
    for (uint64_t i = 0; i < n && !failed; ++i)
      for (uint8_t* b = bucketAt(a, i); b != nullptr && !failed; b = overflowOf(b))
        for (size_t s = 0; s < kBucketCount && !failed; ++s)
          if (b[s] >= kMinTopHash) fn(b, s);
  };
  forEachLive(buckets_, place);
  if (oldbuckets_ != nullptr) forEachLive(oldbuckets_, place);
  if (failed) {
    // Free only the new buckets: the entries' memory is still owned by the old slots.
    uint64_t n = bucketShift(B);
    for (uint64_t i = 0; i < n; ++i) {
      uint8_t* b = overflowOf(bucketAt(fresh, i));
      while (b != nullptr) {
        uint8_t* next = overflowOf(b);
        memory_.release(b, kBucketSize);
        b = next;
      }
    }
    memory_.releaseZeroed(fresh->buckets, static_cast<size_t>(bucketShift(B)) * kBucketSize);
    memory_.release(fresh, sizeof(Array));
    return Status::kNoMemory;
  }
  noteGrowForIterators();
  auto markMoved = [&](Array* a) {
    uint64_t n = bucketShift(a->B);
    for (uint64_t i = 0; i < n; ++i)
      for (uint8_t* b = bucketAt(a, i); b != nullptr; b = overflowOf(b))
        for (size_t s = 0; s < kBucketCount; ++s)
          b[s] = b[s] >= kMinTopHash ? kEvacuatedX : (isEvacuatedMark(b[s]) ? b[s] : kEvacuatedEmpty);
  };
  markMoved(buckets_);
  if (oldbuckets_ != nullptr) {
    markMoved(oldbuckets_);
    finishGrow();
  }
  releaseArray(buckets_);
  buckets_ = fresh;
  B_ = B;
  noverflow_ = overflowUsed;
  return Status::kOk;
}

template <class K, class V>
void GoMap<K, V>::getMany(const KeyView* keys, size_t n, ValueView* out, bool* found) const {
  // A three-stage software pipeline over the batch, kDistance keys between stages:
  //   1. key i + 2d: hash it, find its home bucket, start loading the bucket's tophash line;
  //   2. key i + d:  its tophash line has arrived; match the tophash and start loading the
  //                  first candidate's key and value slots (usually other cache lines);
  //   3. key i:      the full lookup, which now mostly hits in cache.
  // Independent misses overlap: up to 2d lines in flight, where a lone lookup pays two or
  // three misses one after the other. Where "prefetch" is a real load (WebAssembly, see
  // prefetch.h), getManyInGroups runs the same stages on blocks of keys.
  if constexpr (kPrefetchIsLoad) {
    getManyInGroups(keys, n, out, found);
    return;
  }
  constexpr size_t kDistance = 8;
  constexpr size_t kRing = 4 * kDistance;  // a power of two > 2d
  if (count_ == 0) {
    for (size_t i = 0; i < n; ++i) found[i] = false;
    return;
  }
  uint64_t hashes[kRing];
  uint8_t* buckets[kRing];
  auto stage1 = [&](size_t k) {
    const uint64_t h = hashOf(keys[k]);
    uint8_t* const b = homeBucket(h);
    hashes[k % kRing] = h;
    buckets[k % kRing] = b;
    prefetchForRead(b);
  };
  auto stage2 = [&](size_t k) { prefetchCandidate(buckets[k % kRing], hashes[k % kRing]); };
  const size_t lead1 = n < 2 * kDistance ? n : 2 * kDistance;
  const size_t lead2 = n < kDistance ? n : kDistance;
  for (size_t k = 0; k < lead1; ++k) stage1(k);
  for (size_t k = 0; k < lead2; ++k) stage2(k);
  for (size_t i = 0; i < n; ++i) {
    if (i + 2 * kDistance < n) stage1(i + 2 * kDistance);
    if (i + kDistance < n) stage2(i + kDistance);
    lookUpFrom(buckets[i % kRing], keys[i], hashes[i % kRing], &out[i], &found[i]);
  }
}

template <class K, class V>
void GoMap<K, V>::getManyInGroups(const KeyView* keys, size_t n, ValueView* out, bool* found) const {
  // getMany's pipeline where prefetchForRead is a real load (WebAssembly, prefetch.h): a
  // load that misses stalls retirement, and only loads issued close together overlap. So
  // the stages run on blocks of kBlock keys, one block apart: stage 1 hashes a block's
  // keys first and then issues their bucket loads back to back, and stage 2 issues its
  // key / value loads in one short loop: up to 16 keys' lines in flight, as with hints.
  constexpr size_t kBlock = 8;
  constexpr size_t kAhead = 1;
  constexpr size_t kRing = 32;  // a power of two > (2 * kAhead + 1) * kBlock
  static_assert((2 * kAhead + 1) * kBlock < kRing && (kRing & (kRing - 1)) == 0, "ring too small");
  if (count_ == 0) {
    for (size_t i = 0; i < n; ++i) found[i] = false;
    return;
  }
  uint64_t hashes[kRing];
  uint8_t* buckets[kRing];
  auto blockEnd = [n](size_t j) { return (j + 1) * kBlock < n ? (j + 1) * kBlock : n; };
  auto stage1 = [&](size_t j) {
    const size_t end = blockEnd(j);
    for (size_t k = j * kBlock; k < end; ++k) {
      const uint64_t h = hashOf(keys[k]);
      hashes[k % kRing] = h;
      buckets[k % kRing] = homeBucket(h);
    }
    for (size_t k = j * kBlock; k < end; ++k) prefetchForRead(buckets[k % kRing]);
  };
  auto stage2 = [&](size_t j) {
    const size_t end = blockEnd(j);
    for (size_t k = j * kBlock; k < end; ++k) prefetchCandidate(buckets[k % kRing], hashes[k % kRing]);
  };
  const size_t blocks = (n + kBlock - 1) / kBlock;
  const size_t lead1 = blocks < 2 * kAhead ? blocks : 2 * kAhead;
  const size_t lead2 = blocks < kAhead ? blocks : kAhead;
  for (size_t j = 0; j < lead1; ++j) stage1(j);
  for (size_t j = 0; j < lead2; ++j) stage2(j);
  for (size_t j = 0; j < blocks; ++j) {
    if (j + 2 * kAhead < blocks) stage1(j + 2 * kAhead);
    if (j + kAhead < blocks) stage2(j + kAhead);
    const size_t end = blockEnd(j);
    for (size_t i = j * kBlock; i < end; ++i) lookUpFrom(buckets[i % kRing], keys[i], hashes[i % kRing], &out[i], &found[i]);
  }
}

template <class K, class V>
MapStats GoMap<K, V>::stats() const {
  MapStats s;
  s.count = count_;
  s.B = B_;
  s.buckets = map_detail::bucketShift(B_);
  s.overflowBuckets = noverflow_ + oldNoverflow_;
  s.loadFactor = static_cast<double>(count_) / static_cast<double>(s.buckets * map_detail::kBucketCount);
  s.growing = growing();
  s.oldBuckets = growing() ? map_detail::bucketShift(oldbuckets_->B) : 0;
  s.evacuated = growing() ? evacuatedCount_ : 0;
  s.grows = grows_;
  s.sameSizeGrows = sameSizeGrows_;
  s.shrinks = shrinks_;
  s.bytes = memory_.bytes();
  return s;
}

}  // namespace gomap
