// ConcurrentMap: the write side (under the map's write lock), growth and evacuation,
// memory, iteration set-up. The design is described at the top of concurrent_map.h.
#include "concurrent_map.h"

#include "shared_cache.h"

#include <algorithm>
#include <new>

namespace gomap {

using namespace cmap_detail;
using map_detail::bucketMask;
using map_detail::bucketShift;
using map_detail::kBucketCount;
using map_detail::kMinTopHash;

// ===========================================================================================
// Life cycle
// ===========================================================================================

ConcurrentMap::ConcurrentMap(const MapOptions& options)
    : hash0_(SplitMix64(options.fixedSeed ? options.seed : entropy64()).next()),
      hashOverride_(options.hashOverride),
      iteratorSeed_(0) {
  iteratorSeed_.store(hash0_ ^ 0x2545f4914f6cdd1dull, std::memory_order_relaxed);
}

// A table of 2^B buckets that no machine here could hold: past kMaxB, or bigger than
// physical memory (alloc.h maxTableBytes). Refused up front with kTooLarge, not left to
// the OS (an overcommitting kernel would map 20 TB lazily).
static bool tableTooLarge(unsigned B) noexcept {
  if (B >= map_detail::kMaxB) return true;
  const uint64_t buckets = uint64_t{1} << B;
  return buckets > (maxTableBytes() - kTableHeader) / sizeof(cmap_detail::Bucket);
}

Status ConcurrentMap::create(const MapOptions& options, ConcurrentMap** out) noexcept {
  const unsigned B = map_detail::bucketBitsFor(options.hint);
  if (tableTooLarge(B)) return Status::kTooLarge;
  auto* m = new (std::nothrow) ConcurrentMap(options);
  if (m == nullptr) return Status::kNoMemory;
  Table* t = newTable(B);
  if (t == nullptr) {
    delete m;
    return Status::kNoMemory;
  }
  m->addBytes(m->tableBytes(t));
  m->table_.store(t, std::memory_order_release);
  *out = m;
  return Status::kOk;
}

// No view and no reader is left: free everything now. Live entries are those of the
// current table and of old buckets not evacuated yet (evacuated ones were copied).
ConcurrentMap::~ConcurrentMap() {
  if (cache_ != nullptr) destroyCache_(cache_);
  Table* t = current();
  if (t == nullptr) return;
  auto freeEntriesOf = [](Bucket* b) {
    for (; b != nullptr; b = b->overflow.load(std::memory_order_relaxed)) {
      for (size_t i = 0; i < kBucketCount; ++i) {
        Entry* e = b->slots[i].load(std::memory_order_relaxed);
        if (e != nullptr && topAt(b->tophash.load(std::memory_order_relaxed), i) >= kMinTopHash) freeBytes(e);
      }
    }
  };
  for (uint64_t i = 0; i <= maskOf(t); ++i) freeEntriesOf(bucketAt(t, i));
  if (Table* o = t->old.load(std::memory_order_relaxed)) {
    for (uint64_t i = 0; i <= maskOf(o); ++i) {
      Bucket* ob = bucketAt(o, i);
      if (!isEvacuated(ob->tophash.load(std::memory_order_relaxed))) freeEntriesOf(ob);
    }
    freeTableNow(o);
  }
  freeTableNow(t);
}

void ConcurrentMap::release() noexcept {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

// ===========================================================================================
// Memory
// ===========================================================================================

ConcurrentMap::Table* ConcurrentMap::newTable(unsigned B) noexcept {
  if (B >= map_detail::kMaxB) return nullptr;
  const uint64_t n = bucketShift(B);
  if (n > (SIZE_MAX - kTableHeader) / sizeof(Bucket)) return nullptr;
  const size_t bytes = kTableHeader + static_cast<size_t>(n) * sizeof(Bucket);
  // Zeroed: every tophash word is empty-rest, every slot and overflow pointer null.
  void* block = allocateZeroedBytes(bytes);
  if (block == nullptr) return nullptr;
  auto* t = new (block) Table();
  t->B = B;
  t->blockBytes = bytes;
  return t;
}

size_t ConcurrentMap::tableBytes(const Table* t) const { return zeroedFootprint(t->blockBytes); }

void ConcurrentMap::freeTableNow(Table* t) noexcept {
  for (uint64_t i = 0; i <= maskOf(t); ++i) {
    Bucket* b = bucketAt(t, i)->overflow.load(std::memory_order_relaxed);
    while (b != nullptr) {
      Bucket* next = b->overflow.load(std::memory_order_relaxed);
      freeBytes(b);
      b = next;
    }
  }
  freeZeroedBytes(t, t->blockBytes);
}

void ConcurrentMap::reclaimTable(ebr::Retired* r) noexcept { freeTableNow(reinterpret_cast<Table*>(r)); }
void ConcurrentMap::reclaimEntry(ebr::Retired* r) noexcept { freeBytes(r); }

ConcurrentMap::Entry* ConcurrentMap::newEntry(uint64_t hash, const Blob& key, const Blob& value,
                                              uint8_t stateWords, uint64_t state) noexcept {
  const size_t bytes = kEntryHeader + kEntryStateBytes * stateWords + static_cast<size_t>(key.len) + value.len;
  void* block = allocateBytes(bytes);
  if (block == nullptr) return nullptr;
  auto* e = new (block) Entry();
  e->hash = hash;
  e->keyLen = key.len;
  e->valueLen = value.len;
  e->keyTag = key.tag;
  e->valueTag = value.tag;
  e->stateWords = stateWords;
  if (stateWords != 0) new (static_cast<uint8_t*>(block) + kEntryHeader) std::atomic<uint64_t>(state);
  auto* data = static_cast<uint8_t*>(block) + kEntryHeader + kEntryStateBytes * stateWords;
  if (key.len != 0) std::memcpy(data, key.data, key.len);
  if (value.len != 0) std::memcpy(data + key.len, value.data, value.len);
  return e;
}

void ConcurrentMap::discardEntry(Entry* e) noexcept { freeBytes(e); }

void ConcurrentMap::retireEntry(ebr::ThreadRecord& rec, Entry* e) noexcept {
  subBytes(entrySize(e));
  ebr::retire(rec, &e->retired, &ConcurrentMap::reclaimEntry);
}

ConcurrentMap::Bucket* ConcurrentMap::newBucket() noexcept {
  void* block = allocateBytes(sizeof(Bucket));
  if (block == nullptr) return nullptr;
  std::memset(block, 0, sizeof(Bucket));
  return static_cast<Bucket*>(block);
}

// ===========================================================================================
// Growth (Go's hashGrow / growWork / evacuate), under the write lock
// ===========================================================================================

bool ConcurrentMap::hashGrow(bool bigger) {
  Table* t = current();
  Table* fresh = newTable(bigger ? t->B + 1 : t->B);
  if (fresh == nullptr) return false;
  fresh->old.store(t, std::memory_order_relaxed);
  addBytes(tableBytes(fresh));
  sameSizeGrow_ = !bigger;
  nevacuate_ = 0;
  evacuatedCount_ = 0;
  oldNoverflow_ = noverflow_;
  noverflow_ = 0;
  if (bigger) ++grows_;
  else ++sameSizeGrows_;
  table_.store(fresh, std::memory_order_release);  // publishes fresh and fresh->old
  return true;
}

bool ConcurrentMap::growWork(ebr::ThreadRecord& rec, uint64_t hash) {
  Table* t = current();
  Table* o = t->old.load(std::memory_order_relaxed);
  if (o == nullptr) return true;
  if (!evacuate(rec, hash & maskOf(o))) return false;
  // One more, to make progress (it may fail for memory: the write can still proceed).
  if (growing()) evacuate(rec, nevacuate_);
  return true;
}

// Moves the entries of old bucket `oldbucket` into the current table: X (same index) or,
// when doubling, Y (index + old size) by the new hash bit. The overflow buckets it needs
// are allocated first, so it either completes or changes nothing.
bool ConcurrentMap::evacuate(ebr::ThreadRecord& rec, uint64_t oldbucket) {
  Table* t = current();
  Table* o = t->old.load(std::memory_order_relaxed);
  Bucket* ob = bucketAt(o, oldbucket);
  if (isEvacuated(ob->tophash.load(std::memory_order_relaxed))) return true;
  const uint64_t newbit = bucketShift(o->B);

  // Count each side's entries, and reserve the overflow buckets they need.
  size_t perSide[2] = {0, 0};
  for (Bucket* b = ob; b != nullptr; b = b->overflow.load(std::memory_order_relaxed)) {
    const uint64_t word = b->tophash.load(std::memory_order_relaxed);
    for (size_t i = 0; i < kBucketCount; ++i) {
      Entry* e = b->slots[i].load(std::memory_order_relaxed);
      if (topAt(word, i) < kMinTopHash || e == nullptr) continue;
      ++perSide[!sameSizeGrow_ && (e->hash & newbit) != 0];
    }
  }
  Bucket* spare = nullptr;
  size_t spareCount = 0;
  auto needFor = [](size_t n) { return n <= kBucketCount ? 0 : (n - 1) / kBucketCount; };
  const size_t need = needFor(perSide[0]) + needFor(perSide[1]);
  while (spareCount < need) {
    Bucket* b = newBucket();
    if (b == nullptr) {
      while (spare != nullptr) {
        Bucket* next = spare->overflow.load(std::memory_order_relaxed);
        freeBytes(spare);
        spare = next;
      }
      return false;
    }
    b->overflow.store(spare, std::memory_order_relaxed);
    spare = b;
    ++spareCount;
  }

  // Copy entry pointers. Nobody reads the destination buckets until the old bucket is
  // marked evacuated (release, below), so relaxed stores suffice here.
  struct Destination {
    Bucket* bucket;
    size_t slot;
    uint64_t word;
  };
  Destination xy[2] = {{bucketAt(t, oldbucket), 0, 0},
                       {sameSizeGrow_ ? nullptr : bucketAt(t, oldbucket + newbit), 0, 0}};
  for (Bucket* b = ob; b != nullptr; b = b->overflow.load(std::memory_order_relaxed)) {
    const uint64_t word = b->tophash.load(std::memory_order_relaxed);
    for (size_t i = 0; i < kBucketCount; ++i) {
      Entry* e = b->slots[i].load(std::memory_order_relaxed);
      if (topAt(word, i) < kMinTopHash || e == nullptr) continue;
      Destination& d = xy[!sameSizeGrow_ && (e->hash & newbit) != 0];
      if (d.slot == kBucketCount) {
        d.bucket->tophash.store(d.word, std::memory_order_relaxed);
        Bucket* next = spare;
        spare = next->overflow.load(std::memory_order_relaxed);
        next->overflow.store(nullptr, std::memory_order_relaxed);
        d.bucket->overflow.store(next, std::memory_order_relaxed);
        ++noverflow_;
        addBytes(sizeof(Bucket));
        d = Destination{next, 0, 0};
      }
      d.bucket->slots[d.slot].store(e, std::memory_order_relaxed);
      d.word = withTop(d.word, d.slot, topAt(word, i));
      ++d.slot;
    }
  }
  for (Destination& d : xy) {
    if (d.bucket != nullptr) d.bucket->tophash.store(d.word, std::memory_order_relaxed);
  }
  ob->tophash.store(kEvacuatedWord, std::memory_order_release);  // rule 2
  ++evacuatedCount_;
  if (oldbucket == nevacuate_) advanceEvacuationMark(rec);
  return true;
}

void ConcurrentMap::advanceEvacuationMark(ebr::ThreadRecord& rec) {
  Table* o = current()->old.load(std::memory_order_relaxed);
  const uint64_t newbit = bucketShift(o->B);
  ++nevacuate_;
  uint64_t stop = nevacuate_ + map_detail::kEvacuationScanLimit;
  if (stop > newbit) stop = newbit;
  while (nevacuate_ != stop && isEvacuated(bucketAt(o, nevacuate_)->tophash.load(std::memory_order_relaxed))) {
    ++nevacuate_;
  }
  if (nevacuate_ == newbit) finishGrow(rec);
}

// Every old bucket is evacuated: unlink the old table and retire it (its overflow
// buckets with it; its entries live on in the current table).
void ConcurrentMap::finishGrow(ebr::ThreadRecord& rec) {
  Table* t = current();
  Table* o = t->old.load(std::memory_order_relaxed);
  t->old.store(nullptr, std::memory_order_release);
  subBytes(tableBytes(o) + oldNoverflow_ * sizeof(Bucket));
  oldNoverflow_ = 0;
  sameSizeGrow_ = false;
  nevacuate_ = 0;
  evacuatedCount_ = 0;
  ebr::retireShared(rec, &o->retired, &ConcurrentMap::reclaimTable);  // large: anyone frees it
}

// ===========================================================================================
// Writes, under the write lock
// ===========================================================================================

ConcurrentMap::Bucket* ConcurrentMap::writerHome(uint64_t hash) const {
  Table* t = current();
  if (Table* o = t->old.load(std::memory_order_relaxed)) {
    Bucket* ob = bucketAt(o, hash & maskOf(o));
    if (!isEvacuated(ob->tophash.load(std::memory_order_relaxed))) return ob;
  }
  return bucketAt(t, hash & maskOf(t));
}

ConcurrentMap::Slot ConcurrentMap::locate(Bucket* b, const Blob& key, uint64_t hash) {
  const uint8_t top = map_detail::topHash(hash);
  for (; b != nullptr; b = b->overflow.load(std::memory_order_relaxed)) {
    const uint64_t word = b->tophash.load(std::memory_order_relaxed);
    for (size_t i = 0; i < kBucketCount; ++i) {
      const uint8_t tb = topAt(word, i);
      if (tb == map_detail::kEmptyRest) return Slot{nullptr, 0};
      if (tb != top) continue;
      Entry* e = b->slots[i].load(std::memory_order_relaxed);
      if (e != nullptr && entryHasKey(e, hash, key)) return Slot{b, i};
    }
  }
  return Slot{nullptr, 0};
}

Status ConcurrentMap::insertNew(ebr::ThreadRecord& rec, Entry* e) {
  const uint64_t hash = e->hash;
  const uint64_t count = count_.load(std::memory_order_relaxed);
  Table* t = current();
  const bool overloaded = map_detail::overLoadFactor(count + 1, t->B) && t->B < growthLimitB_;
  if (!growing() && (overloaded || map_detail::tooManyOverflowBuckets(noverflow_, t->B))) {
    // No memory to grow: the table stays valid, just fuller.
    if (hashGrow(overloaded) && !growWork(rec, hash)) {
      discardEntry(e);
      return Status::kNoMemory;
    }
  }
  // The first empty slot of the key's chain (it is in the current table: growWork ran).
  Bucket* last = nullptr;
  if (placeInChain(writerHome(hash), e, &last)) return Status::kOk;
  Bucket* ovf = newBucket();
  if (ovf == nullptr) {
    discardEntry(e);
    return Status::kNoMemory;
  }
  appendOverflow(last, ovf, e);
  return Status::kOk;
}

Status ConcurrentMap::prepareInsert(ebr::ThreadRecord& rec, uint64_t hash, Bucket** spare) {
  *spare = nullptr;
  const uint64_t count = count_.load(std::memory_order_relaxed);
  Table* t = current();
  const bool overloaded = map_detail::overLoadFactor(count + 1, t->B) && t->B < growthLimitB_;
  if (!growing() && (overloaded || map_detail::tooManyOverflowBuckets(noverflow_, t->B))) {
    if (hashGrow(overloaded) && !growWork(rec, hash)) return Status::kNoMemory;
  }
  for (Bucket* b = writerHome(hash); b != nullptr; b = b->overflow.load(std::memory_order_relaxed)) {
    const uint64_t word = b->tophash.load(std::memory_order_relaxed);
    for (size_t i = 0; i < kBucketCount; ++i) {
      if (topAt(word, i) < kMinTopHash) return Status::kOk;  // a free slot
    }
  }
  *spare = newBucket();
  return *spare == nullptr ? Status::kNoMemory : Status::kOk;
}

void ConcurrentMap::commitInsert(Entry* e, Bucket* spare) {
  Bucket* last = nullptr;
  if (placeInChain(writerHome(e->hash), e, &last)) {
    if (spare != nullptr) freeBytes(spare);
    return;
  }
  appendOverflow(last, spare, e);  // prepareInsert reserved it: the chain was full
}

bool ConcurrentMap::placeInChain(Bucket* home, Entry* e, Bucket** last) {
  const uint64_t count = count_.load(std::memory_order_relaxed);
  for (Bucket* b = home; b != nullptr; b = b->overflow.load(std::memory_order_relaxed)) {
    *last = b;
    const uint64_t word = b->tophash.load(std::memory_order_relaxed);
    for (size_t i = 0; i < kBucketCount; ++i) {
      if (topAt(word, i) >= kMinTopHash) continue;
      // Rule 4: the tophash byte first, then the entry.
      b->tophash.store(withTop(word, i, map_detail::topHash(e->hash)), std::memory_order_release);
      b->slots[i].store(e, std::memory_order_release);
      addBytes(entrySize(e));
      count_.store(count + 1, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

void ConcurrentMap::appendOverflow(Bucket* last, Bucket* ovf, Entry* e) {
  ovf->overflow.store(nullptr, std::memory_order_relaxed);
  ovf->tophash.store(withTop(0, 0, map_detail::topHash(e->hash)), std::memory_order_relaxed);
  ovf->slots[0].store(e, std::memory_order_relaxed);
  last->overflow.store(ovf, std::memory_order_release);  // rule 5
  ++noverflow_;
  addBytes(sizeof(Bucket) + entrySize(e));
  count_.store(count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void ConcurrentMap::replaceAt(ebr::ThreadRecord& rec, Slot s, Entry* fresh) {
  Entry* old = s.bucket->slots[s.index].load(std::memory_order_relaxed);
  s.bucket->slots[s.index].store(fresh, std::memory_order_release);
  addBytes(entrySize(fresh));
  retireEntry(rec, old);
}

// Go's mapdelete: empty the slot, and if the chain now ends in a run of empty-one slots,
// turn that run into empty-rest so lookups stop early.
void ConcurrentMap::removeAt(ebr::ThreadRecord& rec, Bucket* origin, Slot s) {
  using map_detail::kEmptyOne;
  using map_detail::kEmptyRest;
  Bucket* b = s.bucket;
  size_t i = s.index;
  Entry* e = b->slots[i].load(std::memory_order_relaxed);
  b->slots[i].store(nullptr, std::memory_order_release);  // rule 4: pointer first
  uint64_t word = withTop(b->tophash.load(std::memory_order_relaxed), i, kEmptyOne);
  b->tophash.store(word, std::memory_order_release);
  Bucket* next = b->overflow.load(std::memory_order_relaxed);
  const bool lastInChain =
      i == kBucketCount - 1
          ? (next == nullptr || topAt(next->tophash.load(std::memory_order_relaxed), 0) == kEmptyRest)
          : topAt(word, i + 1) == kEmptyRest;
  if (lastInChain) {
    for (;;) {
      word = withTop(b->tophash.load(std::memory_order_relaxed), i, kEmptyRest);
      b->tophash.store(word, std::memory_order_release);
      if (i == 0) {
        if (b == origin) break;
        Bucket* c = b;
        for (b = origin; b->overflow.load(std::memory_order_relaxed) != c;) b = b->overflow.load(std::memory_order_relaxed);
        i = kBucketCount - 1;
      } else {
        --i;
      }
      if (topAt(b->tophash.load(std::memory_order_relaxed), i) != kEmptyOne) break;
    }
  }
  count_.store(count_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  retireEntry(rec, e);
}

Status ConcurrentMap::store(ebr::ThreadRecord& rec, Blob key, Blob value, bool* inserted) {
  bool loaded = false;
  Status s = swap(rec, key, value, [](Blob) {}, &loaded);
  if (s == Status::kOk && inserted != nullptr) *inserted = !loaded;
  return s;
}

bool ConcurrentMap::finishGrowing(ebr::ThreadRecord& rec) {
  while (growing()) {
    Table* o = current()->old.load(std::memory_order_relaxed);
    if (isEvacuated(bucketAt(o, nevacuate_)->tophash.load(std::memory_order_relaxed))) {
      advanceEvacuationMark(rec);  // may finish the grow
    } else if (!evacuate(rec, nevacuate_)) {
      return false;
    }
  }
  return true;
}

// All or nothing (see the header): allocate everything, then publish.
Status ConcurrentMap::storeMany(ebr::ThreadRecord& rec, const Blob* keys, const Blob* values, size_t n,
                                uint64_t* inserted) {
  if (inserted != nullptr) *inserted = 0;
  for (size_t i = 0; i < n; ++i) {
    if (tooLarge(keys[i]) || tooLarge(values[i])) return Status::kTooLarge;
  }
  if (n == 0) return Status::kOk;
  if (n > SIZE_MAX / (2 * sizeof(void*))) return Status::kNoMemory;
  ebr::Guard guard(rec);

  // Scratch: the batch's entries, then (under the lock) the home buckets of new keys.
  void* scratch = allocateBytes(2 * n * sizeof(void*));
  if (scratch == nullptr) return Status::kNoMemory;
  auto** entries = static_cast<Entry**>(scratch);
  auto** homes = reinterpret_cast<Bucket**>(entries + n);
  size_t made = 0;
  Bucket* pool = nullptr;  // overflow buckets reserved for the inserts
  auto fail = [&](Status s) {
    for (size_t i = 0; i < made; ++i) discardEntry(entries[i]);
    while (pool != nullptr) {
      Bucket* next = pool->overflow.load(std::memory_order_relaxed);
      freeBytes(pool);
      pool = next;
    }
    freeBytes(scratch);
    return s;
  };
  // 1. Entries, outside the lock.
  for (; made < n; ++made) {
    entries[made] = newEntry(hashOf(keys[made]), keys[made], values[made]);
    if (entries[made] == nullptr) return fail(Status::kNoMemory);
  }

  WriteLock lock(*this);
  // 2. Growth work. During a grow, evacuate the old bucket of every key (and one more
  //    each, for progress), as growWork does for a single write: writes then go to the
  //    new table only. Evacuation moves entries without changing the contents.
  if (growing()) {
    for (size_t i = 0; i < n; ++i) {
      if (!growWork(rec, entries[i]->hash)) return fail(Status::kNoMemory);
    }
  }
  // Keys the batch adds (a key twice in the batch counts twice: an upper bound).
  size_t fresh = 0;
  for (size_t i = 0; i < n; ++i) {
    const Entry* e = entries[i];
    if (locate(writerHome(e->hash), entryKey(e), e->hash).bucket == nullptr) ++fresh;
  }
  // If they overload the table, grow now, completely, as often as needed. (A single
  // insert without memory for a bigger table goes into a fuller one; a batch may be big,
  // so it fails instead.)
  if (map_detail::overLoadFactor(count_.load(std::memory_order_relaxed) + fresh, current()->B)) {
    if (!finishGrowing(rec)) return fail(Status::kNoMemory);
    while (map_detail::overLoadFactor(count_.load(std::memory_order_relaxed) + fresh, current()->B)) {
      if (!hashGrow(true) || !finishGrowing(rec)) return fail(Status::kNoMemory);
    }
  }
  // 3. The overflow buckets the inserts need: per home chain, the new keys beyond its
  //    free slots, 8 to a bucket.
  size_t homeCount = 0;
  for (size_t i = 0; i < n; ++i) {
    const Entry* e = entries[i];
    Bucket* home = writerHome(e->hash);
    if (locate(home, entryKey(e), e->hash).bucket == nullptr) homes[homeCount++] = home;
  }
  std::sort(homes, homes + homeCount);
  size_t need = 0;
  for (size_t i = 0; i < homeCount;) {
    size_t j = i;
    while (j < homeCount && homes[j] == homes[i]) ++j;
    size_t free = 0;
    for (Bucket* b = homes[i]; b != nullptr; b = b->overflow.load(std::memory_order_relaxed)) {
      const uint64_t word = b->tophash.load(std::memory_order_relaxed);
      for (size_t k = 0; k < kBucketCount; ++k) free += topAt(word, k) < kMinTopHash;
    }
    const size_t group = j - i;
    if (group > free) need += (group - free + kBucketCount - 1) / kBucketCount;
    i = j;
  }
  for (size_t i = 0; i < need; ++i) {
    Bucket* b = newBucket();
    if (b == nullptr) return fail(Status::kNoMemory);
    b->overflow.store(pool, std::memory_order_relaxed);
    pool = b;
  }

  // 4. Publish, in order. Nothing below allocates or fails.
  uint64_t added = 0;
  for (size_t i = 0; i < n; ++i) {
    Entry* e = entries[i];
    Bucket* home = writerHome(e->hash);
    Slot s = locate(home, entryKey(e), e->hash);
    if (s.bucket != nullptr) {
      replaceAt(rec, s, e);
      continue;
    }
    ++added;
    Bucket* last = nullptr;
    if (placeInChain(home, e, &last)) continue;
    Bucket* ovf = pool;  // reserved above: the pool cannot be empty here
    pool = ovf->overflow.load(std::memory_order_relaxed);
    appendOverflow(last, ovf, e);
  }
  made = 0;  // published: fail() must not free them; it frees the unused pool
  fail(Status::kOk);
  if (inserted != nullptr) *inserted = added;
  return Status::kOk;
}

Status ConcurrentMap::compareAndSwap(ebr::ThreadRecord& rec, Blob key, Blob expected, Blob value, bool* swapped) {
  if (tooLarge(key) || tooLarge(value)) return Status::kTooLarge;
  *swapped = false;
  ebr::Guard guard(rec);
  const uint64_t hash = hashOf(key);
  const Entry* seen = find(key, hash);
  if (seen == nullptr || !(entryValue(seen) == expected)) return Status::kOk;  // lock-free fail
  Entry* fresh = newEntry(hash, key, value);
  if (fresh == nullptr) return Status::kNoMemory;
  return upsert(rec, fresh, [&](const Entry* cur) { return cur != nullptr && entryValue(cur) == expected; },
                swapped);
}

bool ConcurrentMap::compareAndDelete(ebr::ThreadRecord& rec, Blob key, Blob expected) {
  ebr::Guard guard(rec);
  return removeIf(rec, key, [&](const Entry* cur) { return entryValue(cur) == expected; });
}

bool ConcurrentMap::erase(ebr::ThreadRecord& rec, Blob key) {
  ebr::Guard guard(rec);
  return removeIf(rec, key, [](const Entry*) { return true; });
}

// Empties every live bucket in place (pointers first, then the tophash words), keeping
// the table and its chains; entries are retired.
void ConcurrentMap::clear(ebr::ThreadRecord& rec) {
  ebr::Guard guard(rec);
  WriteLock lock(*this);
  clearLocked(rec);
}

bool ConcurrentMap::repairAfterDeadWriter() noexcept {
  Table* t = current();
  Table* o = t->old.load(std::memory_order_relaxed);
  Table* fresh = newTable(t->B);
  if (fresh == nullptr) return false;
  uint64_t count = 0, overflow = 0;
  uint64_t bytes = tableBytes(fresh);
  bool ok = true;
  // Puts e in the first free slot of its chain in `fresh` (nobody reads it yet).
  auto place = [&](Entry* e) {
    Bucket* b = bucketAt(fresh, e->hash & maskOf(fresh));
    for (;;) {
      const uint64_t word = b->tophash.load(std::memory_order_relaxed);
      for (size_t i = 0; i < kBucketCount; ++i) {
        if (topAt(word, i) >= kMinTopHash) continue;
        b->tophash.store(withTop(word, i, map_detail::topHash(e->hash)), std::memory_order_relaxed);
        b->slots[i].store(e, std::memory_order_relaxed);
        ++count;
        bytes += entrySize(e);
        return;
      }
      Bucket* next = b->overflow.load(std::memory_order_relaxed);
      if (next == nullptr) {
        next = newBucket();
        if (next == nullptr) {
          ok = false;
          return;
        }
        b->overflow.store(next, std::memory_order_relaxed);
        ++overflow;
        bytes += sizeof(Bucket);
      }
      b = next;
    }
  };
  // What a reader sees of a chain: slots with a key's tophash and an entry.
  auto placeChain = [&](Bucket* b) {
    for (; b != nullptr && ok; b = b->overflow.load(std::memory_order_relaxed)) {
      const uint64_t word = b->tophash.load(std::memory_order_relaxed);
      for (size_t i = 0; i < kBucketCount && ok; ++i) {
        Entry* e = b->slots[i].load(std::memory_order_relaxed);
        if (topAt(word, i) >= kMinTopHash && e != nullptr) place(e);
      }
    }
  };
  // A reader looks in the old bucket while it is not evacuated, else in the new one.
  if (o != nullptr) {
    for (uint64_t i = 0; i <= maskOf(o); ++i) {
      Bucket* ob = bucketAt(o, i);
      if (!isEvacuated(ob->tophash.load(std::memory_order_relaxed))) placeChain(ob);
    }
  }
  for (uint64_t i = 0; i <= maskOf(t); ++i) {
    if (o != nullptr && !isEvacuated(bucketAt(o, i & maskOf(o))->tophash.load(std::memory_order_relaxed))) continue;
    placeChain(bucketAt(t, i));
  }
  if (!ok) {
    freeTableNow(fresh);
    return false;
  }
  sameSizeGrow_ = false;
  nevacuate_ = 0;
  evacuatedCount_ = 0;
  noverflow_ = overflow;
  oldNoverflow_ = 0;
  count_.store(count, std::memory_order_relaxed);
  bytes_.store(bytes, std::memory_order_relaxed);
  table_.store(fresh, std::memory_order_release);  // t and o are leaked (see the header)
  return true;
}

void ConcurrentMap::clearLocked(ebr::ThreadRecord& rec) {
  auto clearChain = [&](Bucket* b) {
    for (; b != nullptr; b = b->overflow.load(std::memory_order_relaxed)) {
      const uint64_t word = b->tophash.load(std::memory_order_relaxed);
      for (size_t i = 0; i < kBucketCount; ++i) {
        Entry* e = b->slots[i].load(std::memory_order_relaxed);
        if (e == nullptr || topAt(word, i) < kMinTopHash) continue;
        b->slots[i].store(nullptr, std::memory_order_release);
        retireEntry(rec, e);
      }
      b->tophash.store(0, std::memory_order_release);
    }
  };
  Table* t = current();
  if (Table* o = t->old.load(std::memory_order_relaxed)) {
    for (uint64_t i = 0; i <= maskOf(o); ++i) {
      Bucket* ob = bucketAt(o, i);
      if (!isEvacuated(ob->tophash.load(std::memory_order_relaxed))) clearChain(ob);
    }
  }
  for (uint64_t i = 0; i <= maskOf(t); ++i) clearChain(bucketAt(t, i));
  count_.store(0, std::memory_order_relaxed);
}

Status ConcurrentMap::reserve(ebr::ThreadRecord& rec, uint64_t n) {
  const unsigned target = map_detail::bucketBitsFor(n);
  if (tableTooLarge(target)) return Status::kTooLarge;
  ebr::Guard guard(rec);
  WriteLock lock(*this);
  Table* t = current();
  if (target <= t->B || growing() || count_.load(std::memory_order_relaxed) != 0) return Status::kOk;
  Table* fresh = newTable(target);
  if (fresh == nullptr) return Status::kNoMemory;
  // The old table is empty, but may still have (empty) overflow chains.
  addBytes(tableBytes(fresh));
  subBytes(tableBytes(t) + noverflow_ * sizeof(Bucket));
  noverflow_ = 0;
  table_.store(fresh, std::memory_order_release);
  ebr::retireShared(rec, &t->retired, &ConcurrentMap::reclaimTable);
  return Status::kOk;
}

MapStats ConcurrentMap::stats(ebr::ThreadRecord& rec) {
  ebr::Guard guard(rec);
  WriteLock lock(*this);
  Table* t = current();
  Table* o = t->old.load(std::memory_order_relaxed);
  MapStats s;
  s.count = count_.load(std::memory_order_relaxed);
  s.B = t->B;
  s.buckets = bucketShift(t->B);
  s.overflowBuckets = noverflow_ + oldNoverflow_;
  s.loadFactor = static_cast<double>(s.count) / static_cast<double>(s.buckets * kBucketCount);
  s.growing = o != nullptr;
  s.oldBuckets = o != nullptr ? bucketShift(o->B) : 0;
  s.evacuated = o != nullptr ? evacuatedCount_ : 0;
  s.grows = grows_;
  s.sameSizeGrows = sameSizeGrows_;
  s.shrinks = 0;
  s.bytes = bytes();
  return s;
}

// ===========================================================================================
// Iteration
// ===========================================================================================

Status ConcurrentMap::iterStart(ebr::ThreadRecord& rec, Iterator** out) noexcept {
  auto* it = new (std::nothrow) Iterator();
  if (it == nullptr) return Status::kNoMemory;
  // A random start class and slot offset (Go's random start bucket), without a lock.
  const uint64_t r = SplitMix64(iteratorSeed_.fetch_add(0x9e3779b97f4a7c15ull, std::memory_order_relaxed)).next();
  {
    ebr::Guard guard(rec);
    it->R_ = table_.load(std::memory_order_acquire)->B;
  }
  it->position_ = it->R_ == 0 ? 0 : (r & ~(~uint64_t{0} >> it->R_));
  it->offset_ = static_cast<uint8_t>(r & (kBucketCount - 1));
  it->map_ = this;
  retain();
  *out = it;
  return Status::kOk;
}

void ConcurrentMap::iterEnd(Iterator* it) noexcept {
  if (it == nullptr) return;
  ConcurrentMap* m = it->map_;
  delete it;
  m->release();
}

}  // namespace gomap
