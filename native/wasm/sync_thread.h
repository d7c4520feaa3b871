// What the exports of wasm/gomap-threads.wasm share (sync_exports.cc: SyncMap;
// shared_cache_exports.cc: shared GoCache): a thread's state and I/O area, values in and
// out, and the registry of live maps (a shared cache is a map of that registry, as on the
// native engine). The layout is described at the top of sync_exports.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "abi.h"
#include "holdings.h"
#include "core/concurrent_map.h"
#include "core/epoch.h"

#define GOMAP_EXPORT(name) extern "C" __attribute__((export_name(#name), visibility("default")))

namespace gomap::wasm {

struct SyncIo {
  Arg key;
  Arg value;
  Arg old;
  Arg out;
  double stats[kStatsCount];
  double aux;
};
static_assert(offsetof(SyncIo, out) == 72 && offsetof(SyncIo, stats) == 96 && offsetof(SyncIo, aux) == 192,
              "lib/wasm/sync-binding.ts mirrors this layout");

struct Thread {
  SyncIo io;  // first: the Thread's address is the I/O area's
  ebr::ThreadRecord* rec;
  uint8_t* scratch;
  uint32_t scratchCapacity;
  uint8_t* out;
  uint32_t outCapacity;
  uint32_t outLength;
  Holdings holdings;  // its views and iterators, for release after its death (holdings.h)
};

// ---- values in and out ----------------------------------------------------------------------

inline Blob blobOf(const Arg& a) {
  if (a.ptr == 0 && a.len == 8) return Blob{static_cast<uint8_t>(a.tag), reinterpret_cast<const uint8_t*>(&a.word), 8};
  return Blob{static_cast<uint8_t>(a.tag), reinterpret_cast<const uint8_t*>(static_cast<uintptr_t>(a.ptr)), a.len};
}

// Room for `bytes` more bytes at the end of the out buffer (contents kept), or false.
inline bool reserveOut(Thread* t, uint32_t bytes) {
  const uint64_t need = uint64_t{t->outLength} + bytes;
  if (need <= t->outCapacity) return true;
  if (need > 0xffff0000u) return false;
  uint64_t capacity = t->outCapacity == 0 ? 4096 : t->outCapacity;
  while (capacity < need) capacity *= 2;
  if (capacity > 0xffff0000u) capacity = 0xffff0000u;
  auto* grown = static_cast<uint8_t*>(std::realloc(t->out, static_cast<size_t>(capacity)));
  if (grown == nullptr) return false;
  t->out = grown;
  t->outCapacity = static_cast<uint32_t>(capacity);
  return true;
}

// Copies b into the out buffer (8-aligned) and describes it in *a; false: no memory.
inline bool copyOut(Thread* t, Arg* a, const Blob& b) {
  const uint32_t at = (t->outLength + 7) & ~7u;
  t->outLength = at;
  if (!reserveOut(t, b.len)) return false;
  if (b.len != 0) std::memcpy(t->out + at, b.data, b.len);
  t->outLength = at + b.len;
  a->word = 0;
  if (b.len <= 8 && b.len != 0) std::memcpy(&a->word, b.data, b.len);
  a->ptr = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(t->out + at));
  a->len = b.len;
  a->tag = b.tag;
  return true;
}

// Appends an entry record [keyTag u32, keyLen u32, valueTag u32, valueLen u32, key bytes,
// value bytes] to the out buffer (8-aligned; the value fields 0 when keysOnly); false: no
// memory (the record is not there).
inline bool appendEntry(Thread* t, const Blob& k, const Blob& v, bool keysOnly) {
  const uint32_t at = (t->outLength + 7) & ~7u;
  const uint32_t valueLen = keysOnly ? 0 : v.len;
  const uint64_t size = uint64_t{16} + k.len + valueLen;
  t->outLength = at;
  if (size > 0xffff0000u || !reserveOut(t, static_cast<uint32_t>(size))) return false;
  const uint32_t head[4] = {k.tag, k.len, keysOnly ? 0u : v.tag, valueLen};
  std::memcpy(t->out + at, head, sizeof head);
  if (k.len != 0) std::memcpy(t->out + at + 16, k.data, k.len);
  if (valueLen != 0) std::memcpy(t->out + at + 16 + k.len, v.data, valueLen);
  t->outLength = at + static_cast<uint32_t>(size);
  return true;
}

inline int32_t resultOf(Status s) {
  return s == Status::kOk ? 0 : s == Status::kTooLarge ? kResultTooLarge : kResultNoMemory;
}

inline Thread* threadAt(uint32_t address) { return reinterpret_cast<Thread*>(static_cast<uintptr_t>(address)); }
inline ConcurrentMap* mapAt(uint32_t address) { return reinterpret_cast<ConcurrentMap*>(static_cast<uintptr_t>(address)); }
inline ConcurrentMap::Iterator* iterAt(uint32_t address) {
  return reinterpret_cast<ConcurrentMap::Iterator*>(static_cast<uintptr_t>(address));
}
inline uint32_t addressOf(const void* p) { return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(p)); }

// Puts a new map (one reference, which the registry takes) in the registry with one view,
// recorded in `t`'s holdings (holdings.h): its id (> 0), or kResultNoMemory (the map is
// released then). Kinds are the façade's codes, stored for attach's check.
// (sync_exports.cc)
double registerMap(Thread* t, ConcurrentMap* map, int32_t keyKind, int32_t valueKind) noexcept;

}  // namespace gomap::wasm
