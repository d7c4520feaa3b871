// The C ABI of the WebAssembly build: what lib/wasm/ calls.
//
// Every export takes and returns numbers only (i32 addresses and counts, f64 sizes);
// keys, values and results travel through the I/O area and the scratch buffer described
// in abi.h. The module imports nothing: memory grows with memory.grow (malloc does it),
// and hash seeds come from JS (crypto.getRandomValues), which passes every map a seed.
//
// JS checks every argument before it calls (kinds, handles, lengths): these functions
// trust their arguments and hold no map logic. A failed allocation is a negative result
// or a null address, never a trap.
#include <cstdint>
#include <cstdlib>
#include <new>

#include "abi.h"
#include "core/alloc.h"
#include "wasm_map.h"

#define GOMAP_EXPORT(name) extern "C" __attribute__((export_name(#name), visibility("default")))

namespace gomap::wasm {

namespace {

template <class KA>
WasmMap* withValues(int32_t valueKind, const MapOptions& options) {
  switch (valueKind) {
    case 0: return new (std::nothrow) TypedWasmMap<KA, WordArg>(options);   // f64
    case 1: return new (std::nothrow) TypedWasmMap<KA, WordArg>(options);   // i64
    case 2:                                                                  // string
    case 3: return new (std::nothrow) TypedWasmMap<KA, BlobArg>(options);   // bytes
    default: return new (std::nothrow) TypedWasmMap<KA, SlabArg>(options);  // any
  }
}

Io g_io;
uint8_t* g_scratch = nullptr;
uint32_t g_scratchCapacity = 0;

int32_t resultOf(Status s) {
  return s == Status::kOk ? 0 : s == Status::kTooLarge ? kResultTooLarge : kResultNoMemory;
}

WasmMap* mapAt(uint32_t address) { return reinterpret_cast<WasmMap*>(static_cast<uintptr_t>(address)); }
WasmIter* iterAt(uint32_t address) { return reinterpret_cast<WasmIter*>(static_cast<uintptr_t>(address)); }
uint32_t addressOf(const void* p) { return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(p)); }

}  // namespace

WasmMap* createWasmMap(int32_t keyKind, int32_t valueKind, const MapOptions& options, Status* status) {
  WasmMap* map = nullptr;
  switch (keyKind) {
    case 0: map = withValues<F64KeyArg>(valueKind, options); break;
    case 1: map = withValues<WordArg>(valueKind, options); break;
    default: map = withValues<BlobArg>(valueKind, options); break;  // string, bytes, any
  }
  if (map == nullptr) {
    *status = Status::kNoMemory;
    return nullptr;
  }
  *status = map->init(options.hint);
  if (*status != Status::kOk) {
    delete map;
    return nullptr;
  }
  return map;
}

}  // namespace gomap::wasm

using gomap::MapOptions;
using gomap::Status;
using namespace gomap::wasm;

// The I/O area's address.
GOMAP_EXPORT(gomap_io) uint32_t gomap_io() { return addressOf(&g_io); }

// A scratch buffer of at least `bytes` bytes (8-byte aligned), or 0 when memory runs out
// (the previous buffer is kept then). Its contents do not survive growing.
GOMAP_EXPORT(gomap_scratch) uint32_t gomap_scratch(uint32_t bytes) {
  if (bytes > g_scratchCapacity) {
    uint32_t want = bytes < 4096 ? 4096 : bytes;
    void* fresh = std::malloc(want);
    if (fresh == nullptr) return 0;
    std::free(g_scratch);
    g_scratch = static_cast<uint8_t*>(fresh);
    g_scratchCapacity = want;
  }
  if (g_scratch == nullptr) {
    g_scratch = static_cast<uint8_t*>(std::malloc(4096));
    if (g_scratch == nullptr) return 0;
    g_scratchCapacity = 4096;
  }
  return addressOf(g_scratch);
}

// A new map; 0 when it cannot be made (the reason, kResultNoMemory or kResultTooLarge,
// in out.word). Kinds: 0 f64, 1 i64, 2 string, 3 bytes, 4 any. The seed is always given.
GOMAP_EXPORT(gomap_create)
uint32_t gomap_create(int32_t keyKind, int32_t valueKind, double hint, uint32_t seedLo, uint32_t seedHi) {
  const MapOptions options = seededOptions(hint, seedLo, seedHi);
  Status status = Status::kOk;
  WasmMap* map = createWasmMap(keyKind, valueKind, options, &status);
  if (map == nullptr) {
    g_io.out.word = static_cast<uint64_t>(static_cast<int64_t>(resultOf(status)));
    return 0;
  }
  return addressOf(map);
}

GOMAP_EXPORT(gomap_destroy) void gomap_destroy(uint32_t map) { delete mapAt(map); }

GOMAP_EXPORT(gomap_get) int32_t gomap_get(uint32_t map) { return mapAt(map)->get(g_io.key, &g_io.out); }

GOMAP_EXPORT(gomap_has) int32_t gomap_has(uint32_t map) { return mapAt(map)->has(g_io.key); }

GOMAP_EXPORT(gomap_set) int32_t gomap_set(uint32_t map) { return mapAt(map)->set(g_io.key, g_io.value, &g_io.out); }

GOMAP_EXPORT(gomap_delete) int32_t gomap_delete(uint32_t map) { return mapAt(map)->erase(g_io.key, &g_io.out); }

// n keys (Args at `keys`) -> n Args at `out`, n found flags at `found`.
GOMAP_EXPORT(gomap_get_many) void gomap_get_many(uint32_t map, uint32_t n, uint32_t keys, uint32_t out, uint32_t found) {
  mapAt(map)->getMany(reinterpret_cast<const Arg*>(keys), n, reinterpret_cast<Arg*>(out),
                      reinterpret_cast<uint8_t*>(found));
}

// n entries (Args at `keys` and `values`): the number inserted, or a negative result.
GOMAP_EXPORT(gomap_set_many) int32_t gomap_set_many(uint32_t map, uint32_t n, uint32_t keys, uint32_t values) {
  return mapAt(map)->setMany(reinterpret_cast<const Arg*>(keys), reinterpret_cast<Arg*>(values), n);
}

// Word batches (f64 / i64 keys and values): n keys as 64-bit words at `keys`; values to
// / from n words at `values`, found flags to `found`. 0 / the number inserted, or a
// negative result (kResultWrongForm when the map's kinds are not both words).
GOMAP_EXPORT(gomap_get_many_words)
int32_t gomap_get_many_words(uint32_t map, uint32_t n, uint32_t keys, uint32_t values, uint32_t found) {
  return mapAt(map)->getManyWords(reinterpret_cast<const uint64_t*>(keys), n, reinterpret_cast<uint64_t*>(values),
                                  reinterpret_cast<uint8_t*>(found));
}

GOMAP_EXPORT(gomap_set_many_words)
int32_t gomap_set_many_words(uint32_t map, uint32_t n, uint32_t keys, uint32_t values) {
  return mapAt(map)->setManyWords(reinterpret_cast<const uint64_t*>(keys), reinterpret_cast<const uint64_t*>(values), n);
}

// Latin-1 batches (string keys, f64 / i64 values): key i is the next lengths[i] bytes of
// `text` (n u32 lengths at `lengths`); values as words, as the word batches. 0 / the
// number inserted, or a negative result (kResultWrongForm for other kinds).
GOMAP_EXPORT(gomap_get_many_latin1)
int32_t gomap_get_many_latin1(uint32_t map, uint32_t n, uint32_t text, uint32_t lengths, uint32_t values,
                              uint32_t found) {
  return mapAt(map)->getManyLatin1(reinterpret_cast<const uint8_t*>(text), reinterpret_cast<const uint32_t*>(lengths),
                                   n, reinterpret_cast<uint64_t*>(values), reinterpret_cast<uint8_t*>(found));
}
GOMAP_EXPORT(gomap_set_many_latin1)
int32_t gomap_set_many_latin1(uint32_t map, uint32_t n, uint32_t text, uint32_t lengths, uint32_t values) {
  return mapAt(map)->setManyLatin1(reinterpret_cast<const uint8_t*>(text), reinterpret_cast<const uint32_t*>(lengths),
                                   reinterpret_cast<const uint64_t*>(values), n);
}
GOMAP_EXPORT(gomap_clear) void gomap_clear(uint32_t map) { mapAt(map)->clear(); }

// The map's MapStats into io.stats, in API.md's order.
GOMAP_EXPORT(gomap_stats) void gomap_stats(uint32_t map) {
  writeMapStats(mapAt(map)->stats(), g_io.stats);
}

GOMAP_EXPORT(gomap_reserve) int32_t gomap_reserve(uint32_t map, double n) {
  return resultOf(mapAt(map)->reserve(static_cast<uint64_t>(n)));
}

GOMAP_EXPORT(gomap_shrink) int32_t gomap_shrink(uint32_t map) { return resultOf(mapAt(map)->shrink()); }

// A new iterator of the map, or 0 when memory runs out.
GOMAP_EXPORT(gomap_iter_start) uint32_t gomap_iter_start(uint32_t map) { return addressOf(mapAt(map)->newIterator()); }

// The next entry into io.key / io.out: 1, or 0 when the iteration is over.
GOMAP_EXPORT(gomap_iter_next) int32_t gomap_iter_next(uint32_t it) {
  return iterAt(it)->next(&g_io.key, &g_io.out) ? 1 : 0;
}

GOMAP_EXPORT(gomap_iter_end) void gomap_iter_end(uint32_t it) { delete iterAt(it); }

// Test hook (core/alloc.h): the allocation n calls from now fails; 0 disarms it.
GOMAP_EXPORT(gomap_fail_nth_allocation) void gomap_fail_nth_allocation(double n) {
  gomap::failNthAllocation(static_cast<uint64_t>(n));
}

// Test hook (core/alloc.h): allocations made so far, as a double (exact below 2^53).
GOMAP_EXPORT(gomap_allocation_count) double gomap_allocation_count() {
  return static_cast<double>(gomap::allocationCount());
}
