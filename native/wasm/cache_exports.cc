// The C ABI of GoCache in the WebAssembly build: what lib/wasm/cache-binding.ts calls.
//
// The counterpart of the addon's cache functions (native/addon/cache_functions.cc), in
// the style of exports.cc: numbers in and out, keys and values as Args at addresses JS
// passes (the I/O area's key / value / out Args), removed entries as Report records
// (wasm_cache.h). Every call that can remove entries publishes how many reports wait in
// the cache I/O word (gomap_cache_io), so JS learns whether it has work without another
// call, as the addon's cacheIo cell 0. The cache's clock comes from JS with each call
// that reads it (`now`, integer ms >= 1; the addon reads a monotonic clock itself).
//
// JS checks every argument before it calls; these functions trust them and hold no cache
// logic. A failed allocation is a negative result or a null address, never a trap.
#include <cstdint>
#include <new>

#include "abi.h"
#include "wasm_cache.h"

#define GOMAP_CACHE_EXPORT(name) extern "C" __attribute__((export_name(#name), visibility("default")))

namespace gomap::wasm {

namespace {

template <class KA>
WasmCache* withValues(int32_t valueKind, const MapOptions& options, const CacheLimits& limits, bool report) {
  switch (valueKind) {
    case 0:                                                                                  // f64
    case 1: return new (std::nothrow) TypedWasmCache<KA, WordArg>(options, limits, report);  // i64
    case 2:                                                                                  // string
    case 3: return new (std::nothrow) TypedWasmCache<KA, BlobArg>(options, limits, report);  // bytes
    default: return new (std::nothrow) TypedWasmCache<KA, SlabChargeArg>(options, limits, report);  // any
  }
}

// The cache I/O word: removal reports waiting after the last call.
uint32_t g_pending = 0;

WasmCache* cacheAt(uint32_t address) { return reinterpret_cast<WasmCache*>(static_cast<uintptr_t>(address)); }
WasmCacheIter* iterAt(uint32_t address) { return reinterpret_cast<WasmCacheIter*>(static_cast<uintptr_t>(address)); }
const Arg& argAt(uint32_t address) { return *reinterpret_cast<const Arg*>(static_cast<uintptr_t>(address)); }
Arg* outAt(uint32_t address) { return reinterpret_cast<Arg*>(static_cast<uintptr_t>(address)); }
uint32_t addressOf(const void* p) { return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(p)); }
uint64_t ms(double d) { return static_cast<uint64_t>(d); }

template <class R>
R publish(WasmCache* c, R result) {
  g_pending = c->pending();
  return result;
}

}  // namespace

WasmCache* createWasmCache(int32_t keyKind, int32_t valueKind, const MapOptions& options, const CacheLimits& limits,
                           bool report) {
  switch (keyKind) {
    case 0: return withValues<F64KeyArg>(valueKind, options, limits, report);
    case 1: return withValues<WordArg>(valueKind, options, limits, report);
    default: return withValues<BlobArg>(valueKind, options, limits, report);  // string, bytes, any
  }
}

}  // namespace gomap::wasm

using gomap::CacheLimits;
using gomap::CacheStats;
using gomap::MapOptions;
using namespace gomap::wasm;

// Address of the cache I/O word (u32: reports waiting after the last call).
GOMAP_CACHE_EXPORT(gomap_cache_io) uint32_t gomap_cache_io() { return addressOf(&g_pending); }

// A new cache, or 0 when memory runs out. Kinds as gomap_create; limits are integers
// (0: none); ttl the default ttl in ms (0: none); report: keep removal reports for JS.
GOMAP_CACHE_EXPORT(gomap_cache_create)
uint32_t gomap_cache_create(int32_t keyKind, int32_t valueKind, double maxEntries, double maxBytes, double ttl,
                            int32_t updateAgeOnGet, int32_t report, uint32_t seedLo, uint32_t seedHi) {
  const MapOptions options = seededOptions(0, seedLo, seedHi);
  CacheLimits limits;
  limits.maxEntries = ms(maxEntries);
  limits.maxBytes = ms(maxBytes);
  limits.ttl = ms(ttl);
  limits.updateAgeOnGet = updateAgeOnGet != 0;
  return addressOf(createWasmCache(keyKind, valueKind, options, limits, report != 0));
}

GOMAP_CACHE_EXPORT(gomap_cache_destroy) void gomap_cache_destroy(uint32_t c) {
  delete cacheAt(c);
  g_pending = 0;
}

// ttl < 0: the cache's default. 0 inserted, 1 replaced, 2 refused, or a negative result.
GOMAP_CACHE_EXPORT(gomap_cache_set)
int32_t gomap_cache_set(uint32_t c, double now, double ttl, uint32_t key, uint32_t value) {
  const uint64_t t = ttl < 0 ? gomap::cache_detail::kDefaultTtl : ms(ttl);
  return publish(cacheAt(c), cacheAt(c)->set(argAt(key), argAt(value), ms(now), t));
}

// touch 1: get (recency, stats); 0: peek. 1 found (value to *out), else 0.
GOMAP_CACHE_EXPORT(gomap_cache_get)
int32_t gomap_cache_get(uint32_t c, double now, uint32_t key, uint32_t out, int32_t touch) {
  return publish(cacheAt(c), cacheAt(c)->get(argAt(key), ms(now), outAt(out), touch != 0));
}

GOMAP_CACHE_EXPORT(gomap_cache_has) int32_t gomap_cache_has(uint32_t c, double now, uint32_t key) {
  return publish(cacheAt(c), cacheAt(c)->has(argAt(key), ms(now)));
}

GOMAP_CACHE_EXPORT(gomap_cache_delete) int32_t gomap_cache_delete(uint32_t c, uint32_t key) {
  return publish(cacheAt(c), cacheAt(c)->erase(argAt(key)));
}

// ms left; Infinity: no expiry; 0: absent (as the addon's cacheRemainingTtl).
GOMAP_CACHE_EXPORT(gomap_cache_remaining_ttl) double gomap_cache_remaining_ttl(uint32_t c, double now, uint32_t key) {
  bool never = false;
  const double left = cacheAt(c)->remainingTtl(argAt(key), ms(now), &never);
  return publish(cacheAt(c), left < 0 ? 0.0 : never ? __builtin_inf() : left);
}

GOMAP_CACHE_EXPORT(gomap_cache_clear) void gomap_cache_clear(uint32_t c) {
  cacheAt(c)->clear();
  publish(cacheAt(c), 0);
}

GOMAP_CACHE_EXPORT(gomap_cache_purge) void gomap_cache_purge(uint32_t c, double now) {
  cacheAt(c)->purge(ms(now));
  publish(cacheAt(c), 0);
}

// hits, misses, evictions, expirations, size, bytes, tableBytes as 7 doubles at `out`.
GOMAP_CACHE_EXPORT(gomap_cache_stats) void gomap_cache_stats(uint32_t c, uint32_t out) {
  const CacheStats s = cacheAt(c)->stats();
  auto* d = reinterpret_cast<double*>(static_cast<uintptr_t>(out));
  d[0] = static_cast<double>(s.hits);
  d[1] = static_cast<double>(s.misses);
  d[2] = static_cast<double>(s.evictions);
  d[3] = static_cast<double>(s.expirations);
  d[4] = static_cast<double>(s.size);
  d[5] = static_cast<double>(s.bytes);
  d[6] = static_cast<double>(cacheAt(c)->tableBytes());
}

GOMAP_CACHE_EXPORT(gomap_cache_size) double gomap_cache_size(uint32_t c) {
  return static_cast<double>(cacheAt(c)->stats().size);
}

// A new iteration over the cache's entries, or 0 when memory runs out.
GOMAP_CACHE_EXPORT(gomap_cache_iter_start) uint32_t gomap_cache_iter_start(uint32_t c) {
  return addressOf(cacheAt(c)->newIterator());
}

// The next live entry into the Args at `key` / `value`: 1, or 0 when the iteration is over.
GOMAP_CACHE_EXPORT(gomap_cache_iter_next)
int32_t gomap_cache_iter_next(uint32_t it, double now, uint32_t key, uint32_t value) {
  return iterAt(it)->next(ms(now), outAt(key), outAt(value)) ? 1 : 0;
}

GOMAP_CACHE_EXPORT(gomap_cache_iter_end) void gomap_cache_iter_end(uint32_t it) { delete iterAt(it); }

// The waiting removal reports, as Report records whose blob Args point into the cache's
// log (valid until the next call on the cache); their count to the cache I/O word.
GOMAP_CACHE_EXPORT(gomap_cache_reports) uint32_t gomap_cache_reports(uint32_t c) {
  return publish(cacheAt(c), addressOf(cacheAt(c)->reports()));
}

// Empties the cache's removal reports (JS has read them).
GOMAP_CACHE_EXPORT(gomap_cache_reports_clear) void gomap_cache_reports_clear(uint32_t c) {
  cacheAt(c)->clearReports();
  g_pending = 0;
}
