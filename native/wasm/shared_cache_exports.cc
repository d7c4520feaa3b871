// The C ABI of a shared GoCache in wasm/gomap-threads.wasm (lib/wasm/shared-cache-binding.ts),
// the counterpart of the addon's native/addon/shared_cache_functions.cc. No cache logic:
// everything is core/shared_cache.h on a ConcurrentMap of the SyncMap registry, so a
// cache is attached by id from any thread (gomap_sync_attach, which checks the kinds;
// gomap_scache_limits then says whether the map is a cache) and its views end with
// gomap_sync_detach, as a SyncMap's.
//
// Arguments and results travel as for SyncMap (sync_exports.cc, sync_thread.h): the key in
// io.key, the value in io.value, a value read copied into the thread's out buffer and
// described by io.out. The module has no clock: JS passes `now` (ms >= 1, the view's
// clock) to every call that needs one, as the addon passes its monotonic clock.
//
// Removals: a write called with report != 0 copies the entries it removed, under the
// cache's lock, into the thread's out buffer as records
//   [keyTag u32, keyLen u32, valueTag u32, valueLen u32, reason u32, 0 u32, key, value]
// (each 8-aligned; reasons as core RemovalReason: 0 evict, 1 expire, 2 delete, 3 set);
// io.out.ptr is the first record and io.aux their count. A record that cannot be copied
// for lack of memory is lost (the removal itself happened), as in the addon.
//
// Allocation failure is a negative result (abi.h), never a trap; a cache write traps only
// when its lock's owner died and the repair could not allocate (lock.h, shared_cache.h).
#include <cstdint>
#include <cstring>

#include "abi.h"
#include "core/shared_cache.h"
#include "sync_thread.h"

namespace gomap::wasm {
namespace {

constexpr uint32_t kRecordHead = 24;

SharedCache* cacheAt(uint32_t map) { return mapAt(map)->cache(); }

// Copies removals into the out buffer (see the header comment).
class OutSink final : public SharedRemovalSink {
 public:
  explicit OutSink(Thread* t) : t_(t) {
    t->outLength = 0;
    t->io.aux = 0;
  }
  void removed(const Blob& key, const Blob& value, RemovalReason reason) noexcept override {
    const uint32_t at = (t_->outLength + 7) & ~7u;
    const uint64_t size = uint64_t{kRecordHead} + key.len + value.len;
    t_->outLength = at;
    if (size > 0xffff0000u || !reserveOut(t_, static_cast<uint32_t>(size))) return;
    const uint32_t head[6] = {key.tag, key.len, value.tag, value.len, static_cast<uint32_t>(reason), 0};
    std::memcpy(t_->out + at, head, sizeof head);
    if (key.len != 0) std::memcpy(t_->out + at + kRecordHead, key.data, key.len);
    if (value.len != 0) std::memcpy(t_->out + at + kRecordHead + key.len, value.data, value.len);
    t_->outLength = at + static_cast<uint32_t>(size);
    ++count_;
  }
  // Publishes the records to io.out / io.aux.
  void finish() {
    t_->io.out.ptr = addressOf(t_->out);
    t_->io.out.len = t_->outLength;
    t_->io.aux = count_;
  }

 private:
  Thread* t_;
  uint32_t count_ = 0;
};

uint64_t msOf(double now) { return now < 1 ? 1 : static_cast<uint64_t>(now); }

}  // namespace
}  // namespace gomap::wasm

using gomap::Blob;
using gomap::CacheLimits;
using gomap::ConcurrentMap;
using gomap::SetOutcome;
using gomap::SharedCache;
using gomap::Status;
using namespace gomap::wasm;

// A new shared cache with one view: its registry id (> 0), or kResultNoMemory. Limits
// are checked by JS (max, maxBytes: integers up to 2^53 - 1; ttl: up to kMaxCacheTtl).
GOMAP_EXPORT(gomap_scache_create)
double gomap_scache_create(uint32_t thread, int32_t keyKind, int32_t valueKind, double max, double maxBytes, double ttl,
                           int32_t updateAgeOnGet, uint32_t seedLo, uint32_t seedHi) {
  CacheLimits limits;
  limits.maxEntries = static_cast<uint64_t>(max);
  limits.maxBytes = static_cast<uint64_t>(maxBytes);
  limits.ttl = static_cast<uint64_t>(ttl);
  limits.updateAgeOnGet = updateAgeOnGet != 0;
  ConcurrentMap* map = nullptr;
  Status s = SharedCache::create(seededOptions(0, seedLo, seedHi), limits, &map);
  if (s != Status::kOk) return resultOf(s);
  return registerMap(threadAt(thread), map, keyKind, valueKind);
}

// 1 when `map` carries a cache, with its limits in io.stats [max, maxBytes, ttl,
// updateAgeOnGet]; 0 for a plain SyncMap.
GOMAP_EXPORT(gomap_scache_limits) int32_t gomap_scache_limits(uint32_t thread, uint32_t map) {
  SharedCache* cache = cacheAt(map);
  if (cache == nullptr) return 0;
  const CacheLimits& l = cache->limits();
  double* out = threadAt(thread)->io.stats;
  out[0] = static_cast<double>(l.maxEntries);
  out[1] = static_cast<double>(l.maxBytes);
  out[2] = static_cast<double>(l.ttl);
  out[3] = l.updateAgeOnGet ? 1 : 0;
  return 1;
}

// ---- reads (lock-free) ---------------------------------------------------------------------

// get (touch != 0: recency, updateAgeOnGet, hit / miss) or peek: 1 found (value to
// io.out), 0 absent or expired, kResultNoMemory (no room to copy the value).
GOMAP_EXPORT(gomap_scache_get) int32_t gomap_scache_get(uint32_t thread, uint32_t map, double now, int32_t touch) {
  Thread* t = threadAt(thread);
  t->outLength = 0;
  bool copied = true;
  auto onValue = [&](Blob v) { copied = copyOut(t, &t->io.out, v); };
  const Blob key = blobOf(t->io.key);
  const bool found = touch != 0 ? cacheAt(map)->get(*t->rec, key, msOf(now), onValue)
                                : cacheAt(map)->peek(*t->rec, key, msOf(now), onValue);
  if (!found) return 0;
  return copied ? 1 : kResultNoMemory;
}

GOMAP_EXPORT(gomap_scache_has) int32_t gomap_scache_has(uint32_t thread, uint32_t map, double now) {
  Thread* t = threadAt(thread);
  return cacheAt(map)->has(*t->rec, blobOf(t->io.key), msOf(now)) ? 1 : 0;
}

// ms left; Infinity: no expiry; 0: absent or expired.
GOMAP_EXPORT(gomap_scache_remaining_ttl) double gomap_scache_remaining_ttl(uint32_t thread, uint32_t map, double now) {
  Thread* t = threadAt(thread);
  uint64_t left = 0;
  bool never = false;
  if (!cacheAt(map)->remainingTtl(*t->rec, blobOf(t->io.key), msOf(now), &left, &never)) return 0;
  return never ? __builtin_inf() : static_cast<double>(left);
}

GOMAP_EXPORT(gomap_scache_size) double gomap_scache_size(uint32_t map) { return static_cast<double>(cacheAt(map)->size()); }

// io.stats = [hits, misses, evictions, expirations, size, bytes, tableBytes].
GOMAP_EXPORT(gomap_scache_stats) void gomap_scache_stats(uint32_t thread, uint32_t map) {
  SharedCache* cache = cacheAt(map);
  const gomap::CacheStats s = cache->stats();
  double* out = threadAt(thread)->io.stats;
  out[0] = static_cast<double>(s.hits);
  out[1] = static_cast<double>(s.misses);
  out[2] = static_cast<double>(s.evictions);
  out[3] = static_cast<double>(s.expirations);
  out[4] = static_cast<double>(s.size);
  out[5] = static_cast<double>(s.bytes);
  out[6] = static_cast<double>(cache->nativeBytes());
}

// A snapshot of the live entries at `now`, each once (ConcurrentMap iteration), as the
// records of gomap_sync_iter_next [keyTag, keyLen, valueTag, valueLen, key, value]
// (value fields 0 when keysOnly) in the out buffer (io.out.ptr): their count, or
// kResultNoMemory.
GOMAP_EXPORT(gomap_scache_entries)
int32_t gomap_scache_entries(uint32_t thread, uint32_t map, double now, int32_t keysOnly) {
  constexpr uint32_t kBatch = 256;
  Thread* t = threadAt(thread);
  ConcurrentMap* m = mapAt(map);
  ConcurrentMap::Iterator* it = nullptr;
  if (m->iterStart(*t->rec, &it) != Status::kOk) return kResultNoMemory;
  // Held for this call only; recorded so that the watcher gives it back if the thread
  // dies inside the call (holdings.h).
  const Holding held = Holding{0, map, addressOf(it)};
  if (!t->holdings.add(held)) {
    m->iterEnd(it);
    return kResultNoMemory;
  }
  const uint64_t at = msOf(now);
  t->outLength = 0;
  bool ok = true;
  int32_t count = 0;
  while (ok && m->iterNext(*t->rec, it, kBatch, [&](Blob k, Blob v) {
    if (!ok || !SharedCache::liveAt(k, at)) return;
    ok = appendEntry(t, k, v, keysOnly != 0);
    if (ok) ++count;
  }) != 0) {
  }
  t->holdings.remove(held);
  m->iterEnd(it);
  t->io.out.ptr = addressOf(t->out);
  t->io.out.len = t->outLength;
  return ok ? count : kResultNoMemory;
}

// ---- writes (under the cache's write lock, in the core) ------------------------------------

// Stores io.key -> io.value for `ttl` ms (-1: the cache's default): 0 inserted, 1
// replaced, 2 refused (over maxBytes alone), or a negative result (nothing changed).
GOMAP_EXPORT(gomap_scache_set)
int32_t gomap_scache_set(uint32_t thread, uint32_t map, double now, double ttl, int32_t report) {
  Thread* t = threadAt(thread);
  OutSink sink(t);
  SetOutcome outcome = SetOutcome::kInserted;
  const uint64_t ms = ttl < 0 ? gomap::cache_detail::kDefaultTtl : static_cast<uint64_t>(ttl);
  Status s = cacheAt(map)->set(*t->rec, blobOf(t->io.key), blobOf(t->io.value), msOf(now), ms, &outcome,
                               report != 0 ? &sink : nullptr);
  sink.finish();
  return s != Status::kOk ? resultOf(s) : static_cast<int32_t>(outcome);
}

// 1 removed, 0 absent (or expired: removed as such, and reported).
GOMAP_EXPORT(gomap_scache_delete) int32_t gomap_scache_delete(uint32_t thread, uint32_t map, double now, int32_t report) {
  Thread* t = threadAt(thread);
  OutSink sink(t);
  const bool removed = cacheAt(map)->erase(*t->rec, blobOf(t->io.key), msOf(now), report != 0 ? &sink : nullptr);
  sink.finish();
  return removed ? 1 : 0;
}

// purge != 0: removes every expired entry at `now`; else removes everything.
GOMAP_EXPORT(gomap_scache_sweep) void gomap_scache_sweep(uint32_t thread, uint32_t map, double now, int32_t purge, int32_t report) {
  Thread* t = threadAt(thread);
  OutSink sink(t);
  if (purge != 0) cacheAt(map)->purgeExpired(*t->rec, msOf(now), report != 0 ? &sink : nullptr);
  else cacheAt(map)->clear(*t->rec, report != 0 ? &sink : nullptr);
  sink.finish();
}
