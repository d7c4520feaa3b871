#include "functions.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "addon_state.h"
#include "errors.h"
#include "function_table.h"
#include "js_args.h"
#include "io_area.h"
#include "map_binding.h"

namespace gomap::addon {

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1
constexpr uint32_t kMaxIterBatch = 1u << 16;            // entries per iterNext call

AddonState* stateOf(void* data) { return static_cast<AddonState*>(data); }

// A handle argument: TypeError when it is not a number.
bool readHandle(napi_env env, napi_value value, const char* what, double* out) {
  if (napi_get_value_double(env, value, out) == napi_ok) return true;
  throwTypeError(env, std::string("GoMap ") + what + " handle must be a number, got " + describeType(env, value));
  return false;
}

// The live map a handle argument names; ERR_GOMAP_CLOSED when there is none.
inline MapBinding* findMap(napi_env env, AddonState* state, napi_value value) {
  double handle;
  if (napi_get_value_double(env, value, &handle) != napi_ok) {
    readHandle(env, value, "map", &handle);  // throws the TypeError
    return nullptr;
  }
  MapBinding* map = state->findMap(handle);
  if (map == nullptr) throwClosed(env);
  return map;
}

// A count argument (hint, reserve): an integer 0 <= n <= 2^53 - 1.
bool readCount(napi_env env, napi_value value, const char* what, uint64_t* out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok) {
    throwTypeError(env, std::string("GoMap ") + what + " must be a number, got " + describeType(env, value));
    return false;
  }
  if (!(d >= 0 && d <= kMaxSafeInteger) || std::floor(d) != d) {
    throwRangeError(env, std::string("GoMap ") + what + " must be an integer from 0 to 2^53 - 1, got " +
                             std::to_string(d));
    return false;
  }
  *out = static_cast<uint64_t>(d);
  return true;
}


bool isUndefined(napi_env env, napi_value value) {
  napi_valuetype type;
  return napi_typeof(env, value, &type) == napi_ok && type == napi_undefined;
}

// The arguments of a call whose first argument is a map handle, and that map (null, with
// ERR_GOMAP_CLOSED or a TypeError pending, when the handle names none).
template <size_t N>
struct MapArgs {
  size_t argc = N;
  napi_value argv[N];
  AddonState* state = nullptr;
  MapBinding* map = nullptr;
  MapArgs(napi_env env, napi_callback_info info) {
    void* data;
    napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
    state = stateOf(data);
    map = findMap(env, state, argv[0]);
  }
};

// Runs a callback body, turning C++ allocation failure into a RangeError: no C++
// exception may reach V8.
template <napi_value (*Body)(napi_env, napi_callback_info)>
napi_value guarded(napi_env env, napi_callback_info info) {
  try {
    return Body(env, info);
  } catch (const std::bad_alloc&) {
    return throwStatus(env, Status::kNoMemory, "call");
  } catch (...) {
    return throwRangeError(env, "GoMap call failed in native code");
  }
}

// ---- hot calls ----------------------------------------------------------------------------

// The single-key calls: (h, key, refId?) -> what the map's method returns.
//   get(h, key, refId?)    -> value | undefined
//   has(h, key, refId?)    -> boolean
//   delete(h, key, refId?) -> boolean | removed slab index (-1: absent)
template <napi_value (MapBinding::*Method)(napi_env, napi_value, napi_value)>
napi_value KeyCall(napi_env env, napi_callback_info info) {
  MapArgs<3> args(env, info);
  MapBinding* map = args.map;
  if (map == nullptr) return nullptr;
  return (map->*Method)(env, args.argv[1], args.argc > 2 ? args.argv[2] : nullptr);
}

// set(h, key, value, refId?) -> inserted: boolean | stored slab index: number
napi_value Set(napi_env env, napi_callback_info info) {
  MapArgs<4> args(env, info);
  MapBinding* map = args.map;
  if (map == nullptr) return nullptr;
  return map->set(env, args.argv[1], args.argv[2], args.argc > 3 ? args.argv[3] : nullptr);
}

// ---- fast calls: handle, numeric keys and values in the I/O area (io_area.h) ---------------

// The map named by the I/O area's handle cell; ERR_GOMAP_CLOSED when there is none.
inline MapBinding* fastMap(napi_env env, AddonState* state) {
  MapBinding* map = state->findMap(ioDouble(state->io(), kIoHandle));
  if (map == nullptr) throwClosed(env);
  return map;
}

// The fast calls: the handle, numeric keys and values in the I/O area; string/bytes keys
// and values as the argument / return value.
//   fastGet(key?)           -> value (string / bytes values) | undefined; numbers in the area
//   fastHas(key?)           -> undefined; found in the area
//   fastSet(key?, value?)   -> undefined; inserted (or the stored slab index) in the area
//   fastDelete(key?)        -> undefined; deleted (or the removed slab index, -1) in the area
template <napi_value (MapBinding::*Method)(napi_env, napi_callback_info, uint64_t*)>
napi_value FastCall(napi_env env, napi_callback_info info) {
  AddonState* state = AddonState::of(env);
  MapBinding* map = fastMap(env, state);
  return map == nullptr ? nullptr : (map->*Method)(env, info, state->io());
}

// ---- batches ------------------------------------------------------------------------------

// getMany(h, keys[], refIds[]?) -> (value | undefined)[]
napi_value GetMany(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  double handle;
  if (!readHandle(env, argv[0], "map", &handle)) return nullptr;
  std::vector<napi_value> keys, refs;
  if (!readArray(env, argv[1], "GoMap", "getMany keys", &keys)) return nullptr;
  bool withRefs = argc > 2 && !isUndefined(env, argv[2]);
  if (withRefs && !readArray(env, argv[2], "GoMap", "getMany refIds", &refs)) return nullptr;
  if (withRefs && refs.size() < keys.size()) refs.resize(keys.size(), argv[2]);  // not ids: refused later
  MapBinding* map = stateOf(data)->findMap(handle);  // after the reads: they may have run JS
  if (map == nullptr) return throwClosed(env);
  return map->getMany(env, keys.data(), static_cast<uint32_t>(keys.size()), withRefs ? refs.data() : nullptr);
}

// setMany(h, keys[], values[] | Uint32Array, refIds[]?) -> number of keys inserted
napi_value SetMany(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  double handle;
  if (!readHandle(env, argv[0], "map", &handle)) return nullptr;
  std::vector<napi_value> keys, values, refs;
  if (!readArray(env, argv[1], "GoMap", "setMany keys", &keys)) return nullptr;
  uint32_t* slabIndexes = nullptr;
  size_t valueCount = 0;
  napi_typedarray_type type;
  void* indexData = nullptr;
  if (napi_get_typedarray_info(env, argv[2], &type, &valueCount, &indexData, nullptr, nullptr) == napi_ok) {
    if (type != napi_uint32_array) {
      return throwTypeError(env, "GoMap setMany values must be an array (or a Uint32Array of slab indexes), got " +
                                     describeType(env, argv[2]));
    }
    slabIndexes = static_cast<uint32_t*>(indexData);
  } else {
    if (!readArray(env, argv[2], "GoMap", "setMany values", &values)) return nullptr;
    valueCount = values.size();
  }
  if (valueCount != keys.size()) {
    return throwTypeError(env, "GoMap setMany needs as many values as keys (" + std::to_string(keys.size()) +
                                   " keys, " + std::to_string(valueCount) + " values)");
  }
  bool withRefs = argc > 3 && !isUndefined(env, argv[3]);
  if (withRefs && !readArray(env, argv[3], "GoMap", "setMany refIds", &refs)) return nullptr;
  if (withRefs && refs.size() < keys.size()) refs.resize(keys.size(), argv[3]);
  MapBinding* map = stateOf(data)->findMap(handle);  // after the reads: they may have run JS
  if (map == nullptr) return throwClosed(env);
  if (map->valuesAreSlabIndexes() != (slabIndexes != nullptr)) {
    return throwTypeError(env, map->valuesAreSlabIndexes()
                                   ? "GoMap internal error: setMany of 'any' values takes a Uint32Array of slab indexes"
                                   : "GoMap setMany values must be an array, got Uint32Array");
  }
  if (slabIndexes != nullptr && keys.empty()) slabIndexes = nullptr;
  if (keys.empty()) {
    napi_value zero;
    napi_create_uint32(env, 0, &zero);
    return zero;
  }
  return map->setMany(env, keys.data(), values.empty() ? nullptr : values.data(),
                      static_cast<uint32_t>(keys.size()), withRefs ? refs.data() : nullptr, slabIndexes);
}

// ---- packed batches (packed.h) -----------------------------------------------------------

struct TypedArg {
  napi_typedarray_type type;
  size_t length;
  void* data;
};

bool typedArg(napi_env env, napi_value value, TypedArg* out) {
  return napi_get_typedarray_info(env, value, &out->type, &out->length, &out->data, nullptr, nullptr) == napi_ok;
}

// Keys as a Float64Array, a BigInt64Array, or a joined string with a Uint32Array of lengths
// (copied into *units).
bool readPackedKeys(napi_env env, napi_value keys, napi_value lengths, PackedKeys* out,
                    std::unique_ptr<char16_t[]>* units) {
  TypedArg t;
  if (typedArg(env, keys, &t)) {
    if ((t.type != napi_float64_array && t.type != napi_bigint64_array) || t.length > UINT32_MAX) {
      throwTypeError(env, "GoMap packed keys must be a Float64Array or a BigInt64Array, got " + describeType(env, keys));
      return false;
    }
    out->form = t.type == napi_float64_array ? PackedForm::kF64 : PackedForm::kI64;
    out->count = static_cast<uint32_t>(t.length);
    out->words = static_cast<const uint64_t*>(t.data);
    return true;
  }
  TypedArg l;
  if (!typedArg(env, lengths, &l) || l.type != napi_uint32_array || l.length > UINT32_MAX) {
    throwTypeError(env, "GoMap packed string keys need a Uint32Array of lengths");
    return false;
  }
  size_t total = 0;
  if (napi_get_value_string_utf16(env, keys, nullptr, 0, &total) != napi_ok) {
    throwTypeError(env, "GoMap packed keys must be typed arrays or a string, got " + describeType(env, keys));
    return false;
  }
  const uint32_t* lens = static_cast<const uint32_t*>(l.data);
  uint64_t sum = 0;
  for (size_t i = 0; i < l.length; ++i) sum += lens[i];
  if (sum != total) {
    throwTypeError(env, "GoMap packed string keys: the lengths do not add up to the string");
    return false;
  }
  units->reset(new char16_t[total + 1]);
  size_t copied = 0;
  if (napi_get_value_string_utf16(env, keys, units->get(), total + 1, &copied) != napi_ok || copied != total) {
    throwTypeError(env, "GoMap packed string keys could not be read");
    return false;
  }
  out->form = PackedForm::kString;
  out->count = static_cast<uint32_t>(l.length);
  out->units = units->get();
  out->lengths = lens;
  return true;
}

// Numeric values as a Float64Array / BigInt64Array (words) or a Uint32Array (slab indexes).
bool readPackedValues(napi_env env, napi_value values, PackedValues* out) {
  TypedArg t;
  if (!typedArg(env, values, &t) || t.length > UINT32_MAX) return false;
  out->count = static_cast<uint32_t>(t.length);
  switch (t.type) {
    case napi_float64_array:
      out->form = PackedForm::kF64;
      out->words = static_cast<uint64_t*>(t.data);
      return true;
    case napi_bigint64_array:
      out->form = PackedForm::kI64;
      out->words = static_cast<uint64_t*>(t.data);
      return true;
    case napi_uint32_array:
      out->form = PackedForm::kSlab;
      out->u32 = static_cast<uint32_t*>(t.data);
      return true;
    default:
      return false;
  }
}

// getManyPacked(h, keys, lengths?, valuesOut?, found) -> values[] (string / bytes values) | undefined
napi_value GetManyPacked(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  double handle;
  if (!readHandle(env, argv[0], "map", &handle)) return nullptr;
  PackedKeys keys;
  std::unique_ptr<char16_t[]> units;
  if (!readPackedKeys(env, argv[1], argv[2], &keys, &units)) return nullptr;
  PackedValues out;
  if (!isUndefined(env, argv[3]) && !readPackedValues(env, argv[3], &out)) {
    return throwTypeError(env, "GoMap getMany output must be a Float64Array or a BigInt64Array");
  }
  TypedArg found;
  if (!typedArg(env, argv[4], &found) || found.type != napi_uint8_array || found.length < keys.count) {
    return throwTypeError(env, "GoMap getMany needs a Uint8Array of found flags as long as the keys");
  }
  MapBinding* map = stateOf(data)->findMap(handle);
  if (map == nullptr) return throwClosed(env);
  return map->getManyPacked(env, keys, out, static_cast<uint8_t*>(found.data));
}

// setManyPacked(h, keys, lengths?, values) -> number of keys inserted. values: a
// Float64Array / BigInt64Array (numeric values), a Uint32Array ('any' candidates, then the
// stored indexes), or a JS array (string / bytes values).
napi_value SetManyPacked(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  double handle;
  if (!readHandle(env, argv[0], "map", &handle)) return nullptr;
  PackedKeys keys;
  std::unique_ptr<char16_t[]> units;
  if (!readPackedKeys(env, argv[1], argv[2], &keys, &units)) return nullptr;
  PackedValues in;
  std::vector<napi_value> values;
  bool typed = readPackedValues(env, argv[3], &in);
  if (!typed && !readArray(env, argv[3], "GoMap", "setMany values", &values)) return nullptr;
  if ((typed ? in.count : values.size()) < keys.count) {
    return throwTypeError(env, "GoMap setMany needs as many values as keys");
  }
  // The reads above may have run JS (array elements); only now look the map up.
  MapBinding* map = stateOf(data)->findMap(handle);
  if (map == nullptr) return throwClosed(env);
  if (keys.count == 0) {
    napi_value zero;
    napi_create_uint32(env, 0, &zero);
    return zero;
  }
  return map->setManyPacked(env, keys, typed ? nullptr : values.data(), in);
}

// ---- whole-map calls ----------------------------------------------------------------------

// create(keyKind, valueKind, hint, seed?) -> handle
napi_value Create(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  int keyKind = 0, valueKind = 0;
  if (!readKindIndex(env, argv[0], "GoMap", "key", &keyKind)) return nullptr;
  if (!readKindIndex(env, argv[1], "GoMap", "value", &valueKind)) return nullptr;
  MapOptions options;
  if (!readCount(env, argv[2], "hint", &options.hint)) return nullptr;
  if (!readSeed(env, argc, argv, 3, "GoMap", &options)) return nullptr;
  Status status = Status::kOk;
  std::unique_ptr<MapBinding> map =
      createMapBinding(static_cast<KeyKind>(keyKind), static_cast<ValueKind>(valueKind), options, &status);
  if (!map) return throwStatus(env, status == Status::kOk ? Status::kNoMemory : status, "hint");
  MapBinding* raw = map.get();
  double handle = stateOf(data)->addMap(std::move(map));
  raw->trackMemory(env);
  napi_value result;
  napi_create_double(env, handle, &result);
  return result;
}

// close(h) -> boolean (false: it was closed already; never throws for a stale handle)
napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  double handle;
  if (!readHandle(env, argv[0], "map", &handle)) return nullptr;
  napi_value result;
  napi_get_boolean(env, stateOf(data)->closeMap(env, handle), &result);
  return result;
}

// clear(h) -> undefined
napi_value Clear(napi_env env, napi_callback_info info) {
  MapArgs<1> args(env, info);
  MapBinding* map = args.map;
  if (map == nullptr) return nullptr;
  map->clear();
  map->trackMemory(env);
  return nullptr;
}

// size(h) -> number
napi_value Size(napi_env env, napi_callback_info info) {
  MapArgs<1> args(env, info);
  MapBinding* map = args.map;
  if (map == nullptr) return nullptr;
  napi_value result;
  napi_create_double(env, static_cast<double>(map->size()), &result);
  return result;
}

// stats(h) -> MapStats (a plain object)
napi_value Stats(napi_env env, napi_callback_info info) {
  MapArgs<1> args(env, info);
  MapBinding* map = args.map;
  if (map == nullptr) return nullptr;
  const MapStats s = map->stats();
  napi_value result;
  if (napi_create_object(env, &result) != napi_ok) return nullptr;
  auto put = [&](const char* name, double v) {
    napi_value x;
    napi_create_double(env, v, &x);
    napi_set_named_property(env, result, name, x);
  };
  put("count", static_cast<double>(s.count));
  put("B", s.B);
  put("buckets", static_cast<double>(s.buckets));
  put("overflowBuckets", static_cast<double>(s.overflowBuckets));
  put("loadFactor", s.loadFactor);
  napi_value growing;
  napi_get_boolean(env, s.growing, &growing);
  napi_set_named_property(env, result, "growing", growing);
  put("oldBuckets", static_cast<double>(s.oldBuckets));
  put("evacuated", static_cast<double>(s.evacuated));
  put("grows", static_cast<double>(s.grows));
  put("sameSizeGrows", static_cast<double>(s.sameSizeGrows));
  put("shrinks", static_cast<double>(s.shrinks));
  put("bytes", static_cast<double>(s.bytes));
  return result;
}

// reserve(h, n) -> undefined
napi_value Reserve(napi_env env, napi_callback_info info) {
  MapArgs<2> args(env, info);
  MapBinding* map = args.map;
  if (map == nullptr) return nullptr;
  uint64_t n;
  if (!readCount(env, args.argv[1], "reserve(n)", &n)) return nullptr;
  Status s = map->reserve(n);
  if (s != Status::kOk) return throwStatus(env, s, "reserve(n)");
  map->trackMemory(env);
  return nullptr;
}

// shrink(h) -> undefined
napi_value Shrink(napi_env env, napi_callback_info info) {
  MapArgs<1> args(env, info);
  MapBinding* map = args.map;
  if (map == nullptr) return nullptr;
  Status s = map->shrink();
  if (s != Status::kOk) return throwStatus(env, s, "shrink()");
  map->trackMemory(env);
  return nullptr;
}

// ---- iteration ----------------------------------------------------------------------------

// iterStart(h) -> iterator handle
napi_value IterStart(napi_env env, napi_callback_info info) {
  MapArgs<1> args(env, info);
  AddonState* state = args.state;
  MapBinding* map = args.map;
  if (map == nullptr) return nullptr;
  double handle = state->startIterator(map);
  if (handle == 0) return throwStatus(env, Status::kNoMemory, "iterator");
  napi_value result;
  napi_create_double(env, handle, &result);
  return result;
}

// iterNext(h, it, max, keysOnly?) -> flat array [k0, v0, k1, v1, ...] ([k0, k1, ...] when
// keysOnly); fewer than max entries means the iteration is over (and the iterator freed);
// an iterator that is over already gives [].
napi_value IterNext(napi_env env, napi_callback_info info) {
  MapArgs<4> args(env, info);
  AddonState* state = args.state;
  MapBinding* map = args.map;
  if (map == nullptr) return nullptr;
  double itHandle;
  if (!readHandle(env, args.argv[1], "iterator", &itHandle)) return nullptr;
  double max;
  if (napi_get_value_double(env, args.argv[2], &max) != napi_ok) {
    return throwTypeError(env, "GoMap iterNext batch size must be a number, got " + describeType(env, args.argv[2]));
  }
  uint32_t batch = !(max >= 1) ? 1 : max > kMaxIterBatch ? kMaxIterBatch : static_cast<uint32_t>(max);
  bool keysOnly = false;
  if (args.argc > 3) napi_get_value_bool(env, args.argv[3], &keysOnly);  // non-booleans: false
  IterBinding* it = state->findIterator(itHandle);
  if (it == nullptr) {
    napi_value empty;
    napi_create_array(env, &empty);
    return empty;
  }
  if (it->owner != map) return throwTypeError(env, "GoMap iterator does not belong to this map");
  bool finished = false;
  napi_value result = map->iterNext(env, it, batch, keysOnly, &finished);
  if (finished) state->endIterator(it);
  return result;
}

// iterNextPacked(h, it, keysOut, valuesOut?) -> [count, finished, joinedKeys, joinedValues]
// for maps with f64 / i64 / string keys and f64 / i64 / 'any' / string values: numeric
// keys and values go to keysOut / valuesOut (Float64Array, BigInt64Array), strings are
// joined (their lengths go to keysOut / valuesOut as a Uint32Array). A finished iterator
// is freed; one that is over already gives [0, true].
napi_value IterNextPacked(napi_env env, napi_callback_info info) {
  MapArgs<4> args(env, info);
  AddonState* state = args.state;
  MapBinding* map = args.map;
  if (map == nullptr) return nullptr;
  double itHandle;
  if (!readHandle(env, args.argv[1], "iterator", &itHandle)) return nullptr;
  PackedValues keysOut, valuesOut;
  if (!readPackedValues(env, args.argv[2], &keysOut)) {
    return throwTypeError(env, "GoMap iterNextPacked keys output must be a typed array");
  }
  if (args.argc > 3 && !isUndefined(env, args.argv[3]) && !readPackedValues(env, args.argv[3], &valuesOut)) {
    return throwTypeError(env, "GoMap iterNextPacked values output must be a typed array");
  }
  uint32_t max = keysOut.count < kMaxIterBatch ? keysOut.count : kMaxIterBatch;
  if (valuesOut.form != PackedForm::kNone && valuesOut.count < max) max = valuesOut.count;
  IterBinding* it = state->findIterator(itHandle);
  if (it != nullptr && it->owner != map) return throwTypeError(env, "GoMap iterator does not belong to this map");
  bool finished = true;
  PackedBatch batch;
  if (it != nullptr) {
    if (!map->iterNextPacked(env, it, max, keysOut, valuesOut, &batch)) return nullptr;
    finished = batch.finished;
    if (finished) state->endIterator(it);
  }
  napi_value result, count, done;
  napi_create_array_with_length(env, 4, &result);
  napi_create_uint32(env, batch.count, &count);
  napi_get_boolean(env, finished, &done);
  napi_set_element(env, result, 0, count);
  napi_set_element(env, result, 1, done);
  if (batch.keys != nullptr) napi_set_element(env, result, 2, batch.keys);
  if (batch.values != nullptr) napi_set_element(env, result, 3, batch.values);
  return result;
}

// iterEnd(h, it) -> boolean. Never throws (finalizers call it): a stale handle is a no-op.
napi_value IterEnd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  AddonState* state = stateOf(data);
  double mapHandle = 0, itHandle = 0;
  bool ended = false;
  if (napi_get_value_double(env, argv[0], &mapHandle) == napi_ok &&
      napi_get_value_double(env, argv[1], &itHandle) == napi_ok) {
    IterBinding* it = state->findIterator(itHandle);
    if (it != nullptr && it->owner == state->findMap(mapHandle)) {
      state->endIterator(it);
      ended = true;
    }
  }
  napi_value result;
  napi_get_boolean(env, ended, &result);
  return result;
}

// liveHandles() -> { maps, iterators }: what this thread's addon instance holds (tests).
napi_value LiveHandles(napi_env env, napi_callback_info info) {
  void* data;
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, nullptr, nullptr, &data);
  AddonState* state = stateOf(data);
  napi_value result, maps, iterators;
  napi_create_object(env, &result);
  napi_create_double(env, static_cast<double>(state->liveMaps()), &maps);
  napi_create_double(env, static_cast<double>(state->liveIterators()), &iterators);
  napi_set_named_property(env, result, "maps", maps);
  napi_set_named_property(env, result, "iterators", iterators);
  return result;
}

}  // namespace

napi_status defineFunctions(napi_env env, napi_value exports, AddonState* state) {
  // guarded<> costs nothing until something throws (zero-cost exception tables).
  const FunctionEntry entries[] = {
      {"get", guarded<KeyCall<&MapBinding::get>>},
      {"has", guarded<KeyCall<&MapBinding::has>>},
      {"set", guarded<Set>},
      {"delete", guarded<KeyCall<&MapBinding::remove>>},
      {"fastGet", guarded<FastCall<&MapBinding::fastGet>>},
      {"fastHas", guarded<FastCall<&MapBinding::fastHas>>},
      {"fastSet", guarded<FastCall<&MapBinding::fastSet>>},
      {"fastDelete", guarded<FastCall<&MapBinding::fastDelete>>},
      {"getMany", guarded<GetMany>},
      {"getManyPacked", guarded<GetManyPacked>},
      {"setManyPacked", guarded<SetManyPacked>},
      {"iterNextPacked", guarded<IterNextPacked>},
      {"setMany", guarded<SetMany>},
      {"create", guarded<Create>},
      {"close", guarded<Close>},
      {"clear", guarded<Clear>},
      {"size", guarded<Size>},
      {"stats", guarded<Stats>},
      {"reserve", guarded<Reserve>},
      {"shrink", guarded<Shrink>},
      {"iterStart", guarded<IterStart>},
      {"iterNext", guarded<IterNext>},
      {"iterEnd", guarded<IterEnd>},
      {"liveHandles", guarded<LiveHandles>},
  };
  if (const napi_status status = defineFunctionTable(env, exports, entries, state); status != napi_ok) return status;
  napi_value io = state->ioBuffer(env);
  if (io == nullptr) return napi_generic_failure;
  return napi_set_named_property(env, exports, "io", io);
}

}  // namespace gomap::addon
