// MapBinding: one GoMap of the core as JavaScript sees it, whatever its kinds.
//
// The core map is a template over slot policies; the binding turns it into one interface
// the JS-callable functions (functions.cc) dispatch to with a single virtual call. Each
// method converts its JS arguments with the map's key and value codecs, calls the core
// and converts the result back: no map logic lives here (see DESIGN.md "Layers").
//
// Return values (the protocol lib/binding.ts declares):
//   get       the value, or undefined (nullptr) when absent; for 'any' values the
//             value's slab index
//   has       boolean
//   set       boolean "inserted"; for 'any' values the slab index now stored for the
//             key (getOrInsert of the candidate index: equal to it when inserted)
//   remove    boolean; for 'any' values the removed slab index, or -1
//   getMany   an array of values / undefined (slab indexes for 'any' values)
//   setMany   the number of keys inserted; for 'any' values the Uint32Array of
//             candidate indexes is overwritten with the index stored for each key
//   iterNext  a flat array [k0, v0, k1, v1, ...] (or [k0, k1, ...] when keysOnly)
// Two faster forms of the same operations avoid a Node-API call per number or per
// element: the fast calls (io_area.h: handle, numeric keys and values in a shared I/O
// area) and the packed batches (packed.h: typed arrays and joined strings).
// Every method returns nullptr with a JS exception pending when it fails, and leaves the
// map unchanged then.
#pragma once

#include <node_api.h>

#include <cstdint>
#include <memory>

#include "core/go_map.h"
#include "core/map_stats.h"
#include "core/status.h"
#include "packed.h"

namespace gomap::addon {

enum class KeyKind : uint8_t { kF64, kI64, kString, kBytes, kAny };
enum class ValueKind : uint8_t { kF64, kI64, kString, kBytes, kAny };

class MapBinding;

// A live native iterator of one map. Owned by the addon state (handle table); linked into
// its map's list so closing the map frees it.
class IterBinding {
 public:
  virtual ~IterBinding() = default;
  MapBinding* owner = nullptr;
  double handle = 0;
  IterBinding* prev = nullptr;
  IterBinding* next = nullptr;
};

class MapBinding {
 public:
  virtual ~MapBinding() = default;

  virtual napi_value get(napi_env env, napi_value key, napi_value ref) = 0;
  virtual napi_value has(napi_env env, napi_value key, napi_value ref) = 0;
  virtual napi_value set(napi_env env, napi_value key, napi_value value, napi_value ref) = 0;
  virtual napi_value remove(napi_env env, napi_value key, napi_value ref) = 0;
  // Fast calls (io_area.h): the handle and numeric keys / values travel through the I/O
  // area `io`; a key or value that is not numeric is an argument of the call (key first).
  // Results go to the area (numeric values, found / inserted flags, slab indexes) or are
  // returned (string / bytes values; undefined when absent).
  virtual napi_value fastGet(napi_env env, napi_callback_info info, uint64_t* io) = 0;
  virtual napi_value fastHas(napi_env env, napi_callback_info info, uint64_t* io) = 0;
  virtual napi_value fastSet(napi_env env, napi_callback_info info, uint64_t* io) = 0;
  virtual napi_value fastDelete(napi_env env, napi_callback_info info, uint64_t* io) = 0;
  // Batches get the elements already read out of the JS arrays (reading an element may run
  // JS, which must not happen while a map is in use): n keys, n values, and for an
  // 'any'-keyed batch with object keys n refIds (else nullptr); slabIndexes: the
  // candidate indexes of an 'any'-valued setMany (read, then overwritten), else nullptr.
  virtual napi_value getMany(napi_env env, const napi_value* keys, uint32_t n, const napi_value* refs) = 0;
  virtual napi_value setMany(napi_env env, const napi_value* keys, const napi_value* values, uint32_t n,
                             const napi_value* refs, uint32_t* slabIndexes) = 0;
  // Packed batches (packed.h): keys from typed arrays or one joined string, numeric
  // values to / from typed arrays, found flags to a Uint8Array. getManyPacked returns a
  // JS array of the values when they are strings or bytes (else undefined); setManyPacked
  // takes such values as `values` (else nullptr) and returns the number inserted;
  // iterNextPacked (f64 / i64 / string keys, f64 / i64 / 'any' / string values) writes
  // numeric keys and values to keysOut / valuesOut and joins strings (their lengths in
  // keysOut / valuesOut); valuesOut.form kNone means keys only.
  virtual napi_value getManyPacked(napi_env env, const PackedKeys& keys, const PackedValues& out,
                                   uint8_t* found) = 0;
  virtual napi_value setManyPacked(napi_env env, const PackedKeys& keys, const napi_value* values,
                                   const PackedValues& in) = 0;
  // Fills *batch; false with a JS exception pending on failure.
  virtual bool iterNextPacked(napi_env env, IterBinding* it, uint32_t max, const PackedValues& keysOut,
                              const PackedValues& valuesOut, PackedBatch* batch) = 0;
  virtual void clear() = 0;
  virtual uint64_t size() const = 0;
  virtual MapStats stats() const = 0;
  virtual Status reserve(uint64_t n) = 0;
  virtual Status shrink() = 0;
  // A new iterator (not yet registered), or nullptr when memory runs out.
  virtual IterBinding* newIterator() = 0;
  // Up to `max` entries of `it`; *finished says the iteration is over.
  virtual napi_value iterNext(napi_env env, IterBinding* it, uint32_t max, bool keysOnly, bool* finished) = 0;
  virtual bool valuesAreSlabIndexes() const = 0;
  // Reports a change of the map's native bytes to V8 (napi_adjust_external_memory), in
  // coarse steps, so that V8 knows what an unreachable map holds.
  virtual void trackMemory(napi_env env) = 0;

  // Native bytes held, as last reported to V8 (napi_adjust_external_memory).
  int64_t reportedBytes = 0;
  double handle = 0;
  IterBinding* iterators = nullptr;  // live iterators of this map (intrusive list)

  void linkIterator(IterBinding* it) {
    it->owner = this;
    it->prev = nullptr;
    it->next = iterators;
    if (iterators != nullptr) iterators->prev = it;
    iterators = it;
  }
  void unlinkIterator(IterBinding* it) {
    if (it->prev != nullptr) it->prev->next = it->next;
    else iterators = it->next;
    if (it->next != nullptr) it->next->prev = it->prev;
    it->prev = it->next = nullptr;
  }
};

// A new map of the given kinds, pre-sized for options.hint entries. On failure returns
// nullptr and sets *status (kNoMemory, kTooLarge).
std::unique_ptr<MapBinding> createMapBinding(KeyKind key, ValueKind value, const MapOptions& options,
                                             Status* status);

// Split by key family so the two halves compile in parallel (map_factory_*.cc).
std::unique_ptr<MapBinding> createWordKeyedMap(KeyKind key, ValueKind value, const MapOptions& options,
                                               Status* status);
std::unique_ptr<MapBinding> createBlobKeyedMap(KeyKind key, ValueKind value, const MapOptions& options,
                                               Status* status);

}  // namespace gomap::addon
