// SharedCache: the write side (under the map's write lock), creation and stats. The
// design is described at the top of shared_cache.h.
#include "shared_cache.h"

#include <new>

namespace gomap {

using namespace cmap_detail;
using map_detail::kBucketCount;
using map_detail::kMinTopHash;

namespace {
// Hands out counter stripes to threads in turn.
std::atomic<size_t> g_nextStripe{0};
}  // namespace

Status SharedCache::create(const MapOptions& options, const CacheLimits& limits, ConcurrentMap** out) noexcept {
  ConcurrentMap* map = nullptr;
  Status s = ConcurrentMap::create(options, &map);
  if (s != Status::kOk) return s;
  auto* cache = new (std::nothrow) SharedCache(*map, limits);
  if (cache == nullptr) {
    map->release();
    return Status::kNoMemory;
  }
  map->cache_ = cache;  // before the map is shared with anyone
  map->destroyCache_ = destroySharedCache;
  if (limits.maxEntries != 0) {
    // As the single-thread cache (cache.h "Table size"): the table stops doubling once
    // its slots could hold every entry, up to kMaxLoadPerBucket per bucket.
    unsigned b = 0;
    while (b < map_detail::kMaxB && (uint64_t{cache_detail::kMaxLoadPerBucket} << b) < limits.maxEntries + 1) ++b;
    map->limitGrowth(b);
  }
  *out = map;
  return Status::kOk;
}

void destroySharedCache(SharedCache* cache) noexcept { delete cache; }

SharedCache::Counters& SharedCache::stripe(Counters* stripes) {
#if defined(GOMAP_WASM_THREADS)
  // No thread_local in the threads build (its statics are shared by every thread): the
  // thread's id (lock.h) picks the stripe.
  (void)g_nextStripe;
  return stripes[liveness::selfId() % shared_cache_detail::kCounterStripes];
#else
  thread_local const size_t mine = g_nextStripe.fetch_add(1, std::memory_order_relaxed) % shared_cache_detail::kCounterStripes;
  return stripes[mine];
#endif
}

#if defined(GOMAP_WASM_THREADS)
bool SharedCache::repairAfterDeadWriter() noexcept {
  // The map's repair left one current table and no old one: everything a reader sees.
  new (&index_) ExpiryIndex();  // the old one is leaked: the dead writer may have been resizing it
  Table* t = map_.current();
  uint64_t bytes = 0;
  bool anyExpiry = false;
  auto eachEntry = [&](auto&& f) {
    for (uint64_t i = 0; i <= maskOf(t); ++i) {
      for (Bucket* b = bucketAt(t, i); b != nullptr; b = b->overflow.load(std::memory_order_relaxed)) {
        const uint64_t word = b->tophash.load(std::memory_order_relaxed);
        for (size_t k = 0; k < kBucketCount; ++k) {
          const Entry* e = b->slots[k].load(std::memory_order_relaxed);
          if (e != nullptr && topAt(word, k) >= kMinTopHash) f(e, i);
        }
      }
    }
  };
  eachEntry([&](const Entry* e, uint64_t) {
    bytes += chargeOfEntry(e);
    if ((entryState(e).load(std::memory_order_relaxed) & kCacheExpiryMask) != 0) anyExpiry = true;
  });
  bytes_.store(bytes, std::memory_order_relaxed);
  hand_ = sweepHand_ = 0;
  handPosition_ = 0;
  anyExpiry_ = anyExpiry;
  indexFailed_ = false;
  if (anyExpiry && index_.resize(bucketCount())) {
    eachEntry([&](const Entry* e, uint64_t b) {
      const uint64_t at = entryState(e).load(std::memory_order_relaxed) & kCacheExpiryMask;
      if (at != 0) index_.lower(b, at);
    });
  } else if (anyExpiry) {
    indexFailed_ = true;  // swept in order instead, as after any failed index allocation
  }
  indexBytes_.store(index_.bytes(), std::memory_order_relaxed);
  return true;
}
#endif

CacheStats SharedCache::stats() const {
  CacheStats s;
  for (const Counters& c : counters_) {
    s.hits += c.hits.load(std::memory_order_relaxed);
    s.misses += c.misses.load(std::memory_order_relaxed);
  }
  s.evictions = evictions_.load(std::memory_order_relaxed);
  s.expirations = expirations_.load(std::memory_order_relaxed);
  s.size = size();
  s.bytes = bytes();
  return s;
}

bool SharedCache::remainingTtl(ebr::ThreadRecord& rec, Blob key, uint64_t now, uint64_t* remaining, bool* noExpiry) {
  ebr::Guard guard(rec);
  const Entry* e = map_.find(key, map_.hashOf(key));
  if (e == nullptr) return false;
  const uint64_t at = entryState(e).load(std::memory_order_relaxed) & kCacheExpiryMask;
  if (at != 0 && at <= now) return false;
  *noExpiry = at == 0;
  *remaining = at == 0 ? 0 : at - now;
  return true;
}

// ---- writes -------------------------------------------------------------------------------

Status SharedCache::set(ebr::ThreadRecord& rec, Blob key, Blob value, uint64_t now, uint64_t ttl,
                        SetOutcome* outcome, SharedRemovalSink* sink) {
  if (ConcurrentMap::tooLarge(key) || ConcurrentMap::tooLarge(value)) return Status::kTooLarge;
  if (ttl == cache_detail::kDefaultTtl) ttl = limits_.ttl;
  if (ttl > kMaxCacheTtl) return Status::kTooLarge;
  ebr::Guard guard(rec);
  const uint64_t hash = map_.hashOf(key);
  const uint64_t charge = chargeOf(key, value);
  if (limits_.maxBytes != 0 && charge > limits_.maxBytes) {
    // Refused, as the single-thread cache does: an older entry under key goes (delete).
    WriteLock lock(*this);
    eraseLocked(rec, key, hash, now, sink);
    *outcome = SetOutcome::kRefused;
    return Status::kOk;
  }
  const uint64_t expiresAt = expiryFor(now, ttl);
  // The entry is made outside the lock; an overwrite marks it referenced (it is in use).
  Entry* fresh = map_.newEntry(hash, key, value, 1, expiresAt | cache_ttl::encode(ttl));
  if (fresh == nullptr) return Status::kNoMemory;
  WriteLock lock(*this);
  if (!map_.growWork(rec, hash)) {
    map_.discardEntry(fresh);
    return Status::kNoMemory;
  }
  if (anyExpiry_) sweep(rec, now, cache_detail::kSweepBucketsPerWrite, sink);
  Bucket* origin = map_.writerHome(hash);
  ConcurrentMap::Slot s = ConcurrentMap::locate(origin, key, hash);
  const Entry* old = s.bucket == nullptr ? nullptr : s.bucket->slots[s.index].load(std::memory_order_relaxed);
  if (old != nullptr && expired(entryState(old).load(std::memory_order_relaxed), now)) {
    // Readers already miss it: it expired, and the set inserts anew.
    report(old, RemovalReason::kExpire, sink);
    bump(expirations_);
    map_.removeAt(rec, origin, s);
    old = nullptr;
  }
  Bucket* spare = nullptr;
  if (old == nullptr) {
    // Everything that can fail happens before the first eviction: a failed set changes nothing.
    Status st = map_.prepareInsert(rec, hash, &spare);
    if (st != Status::kOk) {
      map_.discardEntry(fresh);
      return st;
    }
    syncIndex();  // the table may have doubled: leaves must match its buckets before eviction
  }
  // Room first, then the entry: a thread reading size() or bytes() meanwhile never sees
  // the cache over a limit.
  const Pending pending{old == nullptr ? 1u : 0u,
                        static_cast<int64_t>(charge) - static_cast<int64_t>(old == nullptr ? 0 : chargeOfEntry(old))};
  if (overLimits(pending)) enforceLimits(rec, old, pending, now, sink);
  if (old != nullptr) {
    entryState(fresh).fetch_or(kCacheReferencedBit, std::memory_order_relaxed);  // in use; unpublished yet
    s = ConcurrentMap::locate(map_.writerHome(hash), key, hash);  // eviction never removes `old`
    report(old, RemovalReason::kSet, sink);                      // old stays readable: we are pinned
    map_.replaceAt(rec, s, fresh);
    *outcome = SetOutcome::kReplaced;
  } else {
    map_.commitInsert(fresh, spare);
    *outcome = SetOutcome::kInserted;
  }
  addBytes(static_cast<int64_t>(charge));
  if (ttl != 0) anyExpiry_ = true;
  syncIndex();
  if (expiresAt != 0 && indexed()) index_.lower(hash & maskOf(map_.current()), expiresAt);
  return Status::kOk;
}

bool SharedCache::erase(ebr::ThreadRecord& rec, Blob key, uint64_t now, SharedRemovalSink* sink) {
  ebr::Guard guard(rec);
  const uint64_t hash = map_.hashOf(key);
  if (map_.find(key, hash) == nullptr) return false;  // absent: no lock needed
  WriteLock lock(*this);
  return eraseLocked(rec, key, hash, now, sink);
}

bool SharedCache::eraseLocked(ebr::ThreadRecord& rec, const Blob& key, uint64_t hash, uint64_t now,
                              SharedRemovalSink* sink) {
  // Growth work may fail for lack of memory: the delete then works in the old bucket.
  map_.growWork(rec, hash);
  Bucket* origin = map_.writerHome(hash);
  ConcurrentMap::Slot s = ConcurrentMap::locate(origin, key, hash);
  if (s.bucket == nullptr) return false;
  const Entry* e = s.bucket->slots[s.index].load(std::memory_order_relaxed);
  const bool live = !expired(entryState(e).load(std::memory_order_relaxed), now);
  report(e, live ? RemovalReason::kDelete : RemovalReason::kExpire, sink);
  if (!live) bump(expirations_);
  map_.removeAt(rec, origin, s);
  return live;
}

void SharedCache::clear(ebr::ThreadRecord& rec, SharedRemovalSink* sink) {
  ebr::Guard guard(rec);
  WriteLock lock(*this);
  auto reportChain = [&](Bucket* b) {
    for (; b != nullptr; b = b->overflow.load(std::memory_order_relaxed)) {
      const uint64_t word = b->tophash.load(std::memory_order_relaxed);
      for (size_t i = 0; i < kBucketCount; ++i) {
        const Entry* e = b->slots[i].load(std::memory_order_relaxed);
        if (e != nullptr && topAt(word, i) >= kMinTopHash && sink != nullptr) {
          sink->removed(entryKey(e), entryValue(e), RemovalReason::kDelete);
        }
      }
    }
  };
  Table* t = map_.current();
  if (Table* o = t->old.load(std::memory_order_relaxed)) {
    for (uint64_t i = 0; i <= maskOf(o); ++i) {
      Bucket* ob = bucketAt(o, i);
      if (!isEvacuated(ob->tophash.load(std::memory_order_relaxed))) reportChain(ob);
    }
  }
  for (uint64_t i = 0; i <= maskOf(t); ++i) reportChain(bucketAt(t, i));
  map_.clearLocked(rec);
  bytes_.store(0, std::memory_order_relaxed);
  hand_ = sweepHand_ = 0;
  handPosition_ = 0;
  anyExpiry_ = false;
  indexFailed_ = false;
  index_.reset();
}

void SharedCache::purgeExpired(ebr::ThreadRecord& rec, uint64_t now, SharedRemovalSink* sink) {
  ebr::Guard guard(rec);
  WriteLock lock(*this);
  if (!anyExpiry_) return;
  if (indexed()) {
    uint64_t b;
    while (index_.findDue(now, &b)) purgeBucket(rec, b, now, sink);
    return;
  }
  sweepHand_ = 0;
  sweep(rec, now, bucketCount(), sink);
}

// ---- eviction and expiry, under the lock ---------------------------------------------------

void SharedCache::syncIndex() {
  if (!anyExpiry_ || indexFailed_) return;
  const uint64_t n = bucketCount();
  if (index_.leaves() != n && !index_.resize(n)) indexFailed_ = true;
  indexBytes_.store(index_.bytes(), std::memory_order_relaxed);
}

template <class F>
void SharedCache::visitBucket(ebr::ThreadRecord& rec, uint64_t b, F&& visit) {
  Table* t = map_.current();
  const uint64_t mask = maskOf(t);
  b &= mask;
  Bucket* origin = bucketAt(t, b);
  bool filter = false;  // reading an old bucket: keep only the entries of new bucket b
  if (Table* o = t->old.load(std::memory_order_relaxed)) {
    const uint64_t ob = b & maskOf(o);
    if (!isEvacuated(bucketAt(o, ob)->tophash.load(std::memory_order_relaxed))) {
      map_.evacuate(rec, ob);  // may finish the grow (the old table is retired: we are pinned)
      if (!isEvacuated(bucketAt(o, ob)->tophash.load(std::memory_order_relaxed))) {
        origin = bucketAt(o, ob);  // no memory to evacuate: read it where it is
        filter = true;
      }
    }
  }
  size_t position = 0;
  for (Bucket* bk = origin; bk != nullptr; bk = bk->overflow.load(std::memory_order_relaxed)) {
    for (size_t i = 0; i < kBucketCount; ++i, ++position) {
      if (topAt(bk->tophash.load(std::memory_order_relaxed), i) < kMinTopHash) continue;
      Entry* e = bk->slots[i].load(std::memory_order_relaxed);
      if (e == nullptr || (filter && (e->hash & mask) != b)) continue;
      const Visit action = visit(static_cast<const Entry*>(e), position);
      if (action == Visit::kStop) return;
      // Removing slot i changes no later slot (concurrent_map.cc removeAt).
      if (action == Visit::kRemove) map_.removeAt(rec, origin, ConcurrentMap::Slot{bk, i});
    }
  }
}

void SharedCache::purgeBucket(ebr::ThreadRecord& rec, uint64_t b, uint64_t now, SharedRemovalSink* sink) {
  uint64_t earliest = 0;  // of the entries that stay
  visitBucket(rec, b, [&](const Entry* e, size_t) {
    const uint64_t at = entryState(e).load(std::memory_order_relaxed) & kCacheExpiryMask;
    if (at != 0 && at <= now) {
      report(e, RemovalReason::kExpire, sink);
      bump(expirations_);
      return Visit::kRemove;
    }
    if (at != 0 && (earliest == 0 || at < earliest)) earliest = at;
    return Visit::kKeep;
  });
  if (indexed()) index_.assign(b, earliest);
}

void SharedCache::sweep(ebr::ThreadRecord& rec, uint64_t now, uint64_t buckets, SharedRemovalSink* sink) {
  syncIndex();  // a grow may have finished since the last write
  if (indexed()) {
    uint64_t b;
    for (uint64_t step = 0; step < buckets && index_.findDue(now, &b); ++step) purgeBucket(rec, b, now, sink);
    return;
  }
  const uint64_t n = bucketCount();
  if (buckets > n) buckets = n;
  for (uint64_t step = 0; step < buckets && map_.size() != 0; ++step) {
    purgeBucket(rec, sweepHand_ & (n - 1), now, sink);
    sweepHand_ = (sweepHand_ + 1) & (n - 1);
  }
}

void SharedCache::enforceLimits(ebr::ThreadRecord& rec, const Entry* keep, Pending pending, uint64_t now,
                                SharedRemovalSink* sink) {
  if (indexed()) {
    // Expired entries first, wherever they are. Each due bucket either loses an expired
    // entry or gets its exact bound (then in the future): this ends.
    uint64_t b;
    while (overLimits(pending) && index_.findDue(now, &b)) purgeBucket(rec, b, now, sink);
  }
  // The hand stays in a bucket until it has passed every slot there, so each entry gets
  // its second chance once per revolution; two revolutions clear and then find every bit.
  uint64_t budget = (cache_detail::kMaxRevolutions + 1) * bucketCount() + 1;
  while (overLimits(pending) && map_.size() != 0 && budget-- != 0) {
    const uint64_t n = bucketCount();
    hand_ &= n - 1;
    bool stopped = false;
    visitBucket(rec, hand_, [&](const Entry* e, size_t position) {
      if (e == keep) return Visit::kKeep;
      std::atomic<uint64_t>& word = entryState(e);
      const uint64_t state = word.load(std::memory_order_relaxed);
      if (expired(state, now)) {
        report(e, RemovalReason::kExpire, sink);
        bump(expirations_);
        return Visit::kRemove;
      }
      if (position < handPosition_) return Visit::kKeep;
      if (!overLimits(pending)) {
        stopped = true;
        handPosition_ = position;
        return Visit::kStop;
      }
      if ((state & kCacheReferencedBit) != 0) {
        word.fetch_and(~kCacheReferencedBit, std::memory_order_relaxed);  // a reader may set it again
        return Visit::kKeep;
      }
      report(e, RemovalReason::kEvict, sink);
      bump(evictions_);
      return Visit::kRemove;
    });
    if (!stopped) {
      if (!overLimits(pending)) {
        // Satisfied by the bucket's last entry: the next eviction resumes after it.
        handPosition_ = ~size_t{0};
        break;
      }
      hand_ = (hand_ + 1) & (n - 1);
      handPosition_ = 0;
    }
  }
  if (handPosition_ == ~size_t{0}) {
    hand_ = (hand_ + 1) & (bucketCount() - 1);
    handPosition_ = 0;
  }
}

}  // namespace gomap
