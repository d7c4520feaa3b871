// The SyncMap functions of the addon (lib/sync-binding.ts declares them): raw Node-API
// callbacks with the thread's SyncEnv as their callback data.
//
// Flat on purpose, like functions.cc: a view is named by its numeric handle, keys and
// values are plain JS values of the map's kinds (sync_codec.h), results are values,
// booleans, numbers or flat arrays. A hot call is one napi_get_cb_info, one handle lookup
// in this thread's table (no lock), one key conversion and one call into the core.
//
// Every callback converts all of its arguments before it touches the map, so a wrong
// argument throws with the map unchanged; values the core hands to a callback are turned
// into JS values inside that callback (raw Node-API calls, which never throw and never
// run JS).
#include "sync_functions.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "addon_state.h"
#include "batch.h"
#include "core/alloc.h"
#include "errors.h"
#include "function_table.h"
#include "guarded.h"
#include "js_args.h"
#include "js_values.h"
#include "testing.h"
#include "io_area.h"
#include "packed.h"
#include "sync_codec.h"
#include "sync_env.h"
#include "sync_registry.h"
#include "sync_view_calls.h"

namespace gomap::addon {

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1
constexpr uint32_t kMaxIterBatch = 1u << 16;            // entries per iterNext call
constexpr size_t kGetManyChunk = 256;                   // keys per pinned loadMany

SyncEnv* envOf(void* data) { return static_cast<SyncEnv*>(data); }

napi_value throwViewClosed(napi_env env) {
  if (!exceptionPending(env))
    napi_throw_error(env, "ERR_GOMAP_CLOSED", "SyncMap is closed: this view cannot be used after close()");
  return nullptr;
}

// The open view a handle argument names: TypeError when it is not a number,
// ERR_GOMAP_CLOSED when it names no open view of this thread.
SyncView* viewArg(napi_env env, SyncEnv* state, napi_value value) {
  double handle;
  if (napi_get_value_double(env, value, &handle) != napi_ok) {
    throwTypeError(env, "SyncMap view handle must be a number, got " + describeType(env, value));
    return nullptr;
  }
  SyncView* view = state->findView(handle);
  if (view == nullptr) {
    throwViewClosed(env);
  } else if (view->isCache) {
    throwTypeError(env, "SyncMap view handle names a shared GoCache view: use the GoCache methods");
    view = nullptr;
  }
  return view;
}

// The thread's EBR record (RangeError when it cannot be registered).
ebr::ThreadRecord* recordOf(napi_env env, SyncEnv* state) {
  ebr::ThreadRecord* rec = state->record();
  if (rec == nullptr) throwStatus(env, Status::kNoMemory, "thread registration");
  return rec;
}

// The arguments of a call whose first argument is a view handle, that view, and the
// thread's EBR record (view null, with an exception pending, when either is missing).
template <size_t N>
struct ViewArgs {
  size_t argc = N;
  napi_value argv[N];
  SyncEnv* state = nullptr;
  SyncView* view = nullptr;
  ebr::ThreadRecord* rec = nullptr;
  ViewArgs(napi_env env, napi_callback_info info) {
    void* data;
    napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
    state = envOf(data);
    view = viewArg(env, state, argv[0]);
    if (view != nullptr) {
      rec = recordOf(env, state);
      if (rec == nullptr) view = nullptr;
    }
  }
};

bool readKey(napi_env env, SyncEnv* state, const SyncView* view, napi_value value, Blob* out) {
  return readSyncBlob(env, view->key, true, value, state->keyScratch, out);
}
bool readValue(napi_env env, SyncScratch& scratch, const SyncView* view, napi_value value, Blob* out) {
  return readSyncBlob(env, view->value, false, value, scratch, out);
}

// Every callback runs guarded (guarded.h): no C++ exception may reach V8.
constexpr char kCall[] = "SyncMap call";
template <napi_value (*Body)(napi_env, napi_callback_info)>
constexpr napi_callback guarded = guardedCall<kCall, Body>;

// ---- creating, attaching, closing views ----------------------------------------------

// syncCreate(keyKind, valueKind, hint, seed?) -> [view, id]
napi_value Create(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  SyncEnv* state = envOf(data);
  SyncKind key, value;
  if (!readSyncKind(env, argv[0], true, kSyncMapOwner, &key) ||
      !readSyncKind(env, argv[1], false, kSyncMapOwner, &value)) {
    return nullptr;
  }
  MapOptions options;
  double hint;
  if (napi_get_value_double(env, argv[2], &hint) != napi_ok) {
    return throwTypeError(env, "SyncMap hint must be a number, got " + describeType(env, argv[2]));
  }
  if (!(hint >= 0 && hint <= kMaxSafeInteger) || std::floor(hint) != hint) {
    return throwRangeError(env, "SyncMap hint must be an integer from 0 to 2^53 - 1");
  }
  options.hint = static_cast<uint64_t>(hint);
  if (!readSeed(env, argc, argv, 3, "SyncMap", &options)) return nullptr;
  ConcurrentMap* map = nullptr;
  Status status = ConcurrentMap::create(options, &map);
  if (status != Status::kOk) return throwStatus(env, status, "hint");
  return openNewSyncMap(env, state, map, key, value, false);
}

// syncAttach(id, keyKind, valueKind) -> view
napi_value Attach(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  SyncEnv* state = envOf(data);
  double id;
  SyncKind key, value;
  ConcurrentMap* map = attachSyncMap(env, argv, kSyncMapOwner, &id, &key, &value);
  if (map == nullptr) return nullptr;
  if (map->cache() != nullptr) {
    SyncRegistry::global().detach(id);
    return throwTypeError(env, "SyncMap.attach: the handle names a shared GoCache; use GoCache.attach");
  }
  return numberValue(env, openSyncView(state, map, id, key, value, false)->handle);
}

// syncClose(view) -> boolean (false: closed already; never throws for a stale handle)
napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  double handle = 0;
  bool closed = napi_get_value_double(env, argv[0], &handle) == napi_ok && envOf(data)->closeView(handle);
  return boolValue(env, closed);
}

// ---- reads ---------------------------------------------------------------------------

// syncGet(view, key) -> value | undefined
napi_value Get(napi_env env, napi_callback_info info) {
  ViewArgs<2> a(env, info);
  SyncView* view = a.view;
  if (view == nullptr) return nullptr;
  Blob key;
  if (!readKey(env, a.state, view, a.argv[1], &key)) return nullptr;
  napi_value result = nullptr;
  const SyncKind kind = view->value;
  if (!view->map->load(*a.rec, key, [&](Blob v) { result = syncBlobToJs(env, kind, v); })) return undefinedValue(env);
  return result;
}

// syncHas(view, key) -> boolean
napi_value Has(napi_env env, napi_callback_info info) {
  ViewArgs<2> a(env, info);
  SyncView* view = a.view;
  if (view == nullptr) return nullptr;
  Blob key;
  if (!readKey(env, a.state, view, a.argv[1], &key)) return nullptr;
  return boolValue(env, view->map->contains(*a.rec, key));
}

// syncGetMany(view, keys[]) -> (value | undefined)[]
napi_value GetMany(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  SyncEnv* state = envOf(data);
  if (viewArg(env, state, argv[0]) == nullptr) return nullptr;
  std::vector<napi_value> keys;
  if (!readArray(env, argv[1], "SyncMap", "getMany keys", &keys)) return nullptr;
  SyncView* view = viewArg(env, state, argv[0]);  // again: reading the array may have run JS
  if (view == nullptr) return nullptr;
  ebr::ThreadRecord* rec = recordOf(env, state);
  if (rec == nullptr) return nullptr;
  const SyncKind kind = view->value;
  ViewBatch<Blob> batch;
  batch.reserve(keys.size());
  for (napi_value k : keys) {
    Blob key;
    if (!readKey(env, state, view, k, &key)) return nullptr;
    batch.add(key);
  }
  const Blob* views = batch.finish();
  napi_value result;
  if (napi_create_array_with_length(env, keys.size(), &result) != napi_ok) return nullptr;
  napi_value undefined = undefinedValue(env);
  bool failed = false;
  // The core's batched lookup (prefetching ahead), in chunks: a pin held for the whole of
  // a huge batch would hold back reclamation in every thread.
  for (size_t from = 0; from < keys.size() && !failed; from += kGetManyChunk) {
    const size_t n = keys.size() - from < kGetManyChunk ? keys.size() - from : kGetManyChunk;
    view->map->loadMany(*rec, views + from, n, [&](size_t i, bool found, Blob b) {
      if (failed) return;
      napi_value v = found ? syncBlobToJs(env, kind, b) : undefined;
      if (v == nullptr) failed = true;
      else napi_set_element(env, result, static_cast<uint32_t>(from + i), v);
    });
  }
  return failed ? nullptr : result;
}

napi_value Size(napi_env env, napi_callback_info info) {
  ViewArgs<1> a(env, info);
  if (a.view == nullptr) return nullptr;
  return numberValue(env, static_cast<double>(a.view->map->size()));
}

napi_value Stats(napi_env env, napi_callback_info info) {
  ViewArgs<1> a(env, info);
  if (a.view == nullptr) return nullptr;
  const MapStats s = a.view->map->stats(*a.rec);
  a.state->trackMemory(a.view);
  napi_value result;
  if (napi_create_object(env, &result) != napi_ok) return nullptr;
  auto put = [&](const char* name, double v) { napi_set_named_property(env, result, name, numberValue(env, v)); };
  put("count", static_cast<double>(s.count));
  put("B", s.B);
  put("buckets", static_cast<double>(s.buckets));
  put("overflowBuckets", static_cast<double>(s.overflowBuckets));
  put("loadFactor", s.loadFactor);
  napi_set_named_property(env, result, "growing", boolValue(env, s.growing));
  put("oldBuckets", static_cast<double>(s.oldBuckets));
  put("evacuated", static_cast<double>(s.evacuated));
  put("grows", static_cast<double>(s.grows));
  put("sameSizeGrows", static_cast<double>(s.sameSizeGrows));
  put("shrinks", static_cast<double>(s.shrinks));
  put("bytes", static_cast<double>(s.bytes));
  return result;
}

// ---- writes --------------------------------------------------------------------------

// syncSet(view, key, value) -> inserted
napi_value Set(napi_env env, napi_callback_info info) {
  ViewArgs<3> a(env, info);
  SyncView* view = a.view;
  if (view == nullptr) return nullptr;
  Blob key, value;
  if (!readKey(env, a.state, view, a.argv[1], &key)) return nullptr;
  if (!readValue(env, a.state->valueScratch, view, a.argv[2], &value)) return nullptr;
  bool inserted = false;
  Status s = view->map->store(*a.rec, key, value, &inserted);
  if (s != Status::kOk) return throwStatus(env, s, "set");
  a.state->trackMemory(view);
  return boolValue(env, inserted);
}

// syncDelete(view, key) -> deleted
napi_value Delete(napi_env env, napi_callback_info info) {
  ViewArgs<2> a(env, info);
  SyncView* view = a.view;
  if (view == nullptr) return nullptr;
  Blob key;
  if (!readKey(env, a.state, view, a.argv[1], &key)) return nullptr;
  const bool deleted = view->map->erase(*a.rec, key);
  a.state->trackMemory(view);
  return boolValue(env, deleted);
}

// syncSetMany(view, keys[], values[]) -> number inserted
napi_value SetMany(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  SyncEnv* state = envOf(data);
  if (viewArg(env, state, argv[0]) == nullptr) return nullptr;
  std::vector<napi_value> keys, values;
  if (!readArray(env, argv[1], "SyncMap", "setMany keys", &keys)) return nullptr;
  if (!readArray(env, argv[2], "SyncMap", "setMany values", &values)) return nullptr;
  if (keys.size() != values.size()) {
    return throwTypeError(env, "SyncMap setMany needs as many values as keys (" + std::to_string(keys.size()) +
                                   " keys, " + std::to_string(values.size()) + " values)");
  }
  SyncView* view = viewArg(env, state, argv[0]);  // again: reading the arrays may have run JS
  if (view == nullptr) return nullptr;
  ebr::ThreadRecord* rec = recordOf(env, state);
  if (rec == nullptr) return nullptr;
  ViewBatch<Blob> keyBatch, valueBatch;
  keyBatch.reserve(keys.size());
  valueBatch.reserve(values.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    Blob key, value;
    if (!readKey(env, state, view, keys[i], &key)) return nullptr;
    if (!readValue(env, state->valueScratch, view, values[i], &value)) return nullptr;
    keyBatch.add(key);
    valueBatch.add(value);
  }
  const Blob* k = keyBatch.finish();
  const Blob* v = valueBatch.finish();
  // All or nothing: the core allocates everything the batch needs before it publishes.
  uint64_t inserted = 0;
  Status s = view->map->storeMany(*rec, k, v, keys.size(), &inserted);
  if (s != Status::kOk) return throwStatus(env, s, "setMany");
  state->trackMemory(view);
  return numberValue(env, static_cast<double>(inserted));
}

// The two calls that store a value and hand back the one they met, with the same
// signature in the core:
//   syncLoadOrStore(view, key, value) -> the existing value, or undefined when stored
//   syncSwap(view, key, value)        -> the previous value, or undefined
enum class Exchange { kLoadOrStore, kSwap };

template <Exchange kOp>
napi_value ExchangeCall(napi_env env, napi_callback_info info) {
  constexpr const char* kName = kOp == Exchange::kSwap ? "swap" : "loadOrStore";
  ViewArgs<3> a(env, info);
  SyncView* view = a.view;
  if (view == nullptr) return nullptr;
  Blob key, value;
  if (!readKey(env, a.state, view, a.argv[1], &key)) return nullptr;
  if (!readValue(env, a.state->valueScratch, view, a.argv[2], &value)) return nullptr;
  napi_value met = nullptr;
  bool loaded = false;
  const SyncKind kind = view->value;
  auto onValue = [&](Blob b) { met = syncBlobToJs(env, kind, b); };
  Status s = kOp == Exchange::kSwap ? view->map->swap(*a.rec, key, value, onValue, &loaded)
                                     : view->map->loadOrStore(*a.rec, key, value, onValue, &loaded);
  if (s != Status::kOk) return throwStatus(env, s, kName);
  a.state->trackMemory(view);
  return loaded ? met : undefinedValue(env);
}

// syncLoadAndDelete(view, key) -> the removed value, or undefined
napi_value LoadAndDelete(napi_env env, napi_callback_info info) {
  ViewArgs<2> a(env, info);
  SyncView* view = a.view;
  if (view == nullptr) return nullptr;
  Blob key;
  if (!readKey(env, a.state, view, a.argv[1], &key)) return nullptr;
  napi_value previous = nullptr;
  const SyncKind kind = view->value;
  if (!view->map->loadAndDelete(*a.rec, key, [&](Blob b) { previous = syncBlobToJs(env, kind, b); })) {
    return undefinedValue(env);
  }
  a.state->trackMemory(view);
  return previous;
}

// syncCompareAndSwap(view, key, old, value) -> swapped
napi_value CompareAndSwap(napi_env env, napi_callback_info info) {
  ViewArgs<4> a(env, info);
  SyncView* view = a.view;
  if (view == nullptr) return nullptr;
  Blob key, old, value;
  if (!readKey(env, a.state, view, a.argv[1], &key)) return nullptr;
  if (!readValue(env, a.state->oldScratch, view, a.argv[2], &old)) return nullptr;
  if (!readValue(env, a.state->valueScratch, view, a.argv[3], &value)) return nullptr;
  bool swapped = false;
  Status s = view->map->compareAndSwap(*a.rec, key, old, value, &swapped);
  if (s != Status::kOk) return throwStatus(env, s, "compareAndSwap");
  a.state->trackMemory(view);
  return boolValue(env, swapped);
}

// syncCompareAndDelete(view, key, old) -> deleted
napi_value CompareAndDelete(napi_env env, napi_callback_info info) {
  ViewArgs<3> a(env, info);
  SyncView* view = a.view;
  if (view == nullptr) return nullptr;
  Blob key, old;
  if (!readKey(env, a.state, view, a.argv[1], &key)) return nullptr;
  if (!readValue(env, a.state->oldScratch, view, a.argv[2], &old)) return nullptr;
  const bool deleted = view->map->compareAndDelete(*a.rec, key, old);
  a.state->trackMemory(view);
  return boolValue(env, deleted);
}

// syncClear(view) -> undefined
napi_value Clear(napi_env env, napi_callback_info info) {
  ViewArgs<1> a(env, info);
  if (a.view == nullptr) return nullptr;
  a.view->map->clear(*a.rec);
  a.state->trackMemory(a.view);
  return nullptr;
}

// ---- iteration -----------------------------------------------------------------------

// syncIterStart(view) -> iterator handle
napi_value IterStart(napi_env env, napi_callback_info info) {
  ViewArgs<1> a(env, info);
  SyncView* view = a.view;
  if (view == nullptr) return nullptr;
  ConcurrentMap::Iterator* it = nullptr;
  Status s = view->map->iterStart(*a.rec, &it);
  if (s != Status::kOk) return throwStatus(env, s, "iterator");
  a.state->trackMemory(view);
  double handle;
  try {
    handle = a.state->addIterator(view, it);
  } catch (const std::bad_alloc&) {
    view->map->iterEnd(it);
    throw;
  }
  return numberValue(env, handle);
}

// The arguments shared by syncIterNext and syncIterNextPacked: (view, it, max, keysOnly?).
struct IterRequest {
  double itHandle = 0;
  uint32_t batch = 1;     // max, clamped to 1..kMaxIterBatch
  bool keysOnly = false;  // non-booleans: false
};

bool readIterRequest(napi_env env, const napi_value* argv, size_t argc, IterRequest* out) {
  double max;
  if (napi_get_value_double(env, argv[1], &out->itHandle) != napi_ok) {
    throwTypeError(env, "SyncMap iterator handle must be a number, got " + describeType(env, argv[1]));
    return false;
  }
  if (napi_get_value_double(env, argv[2], &max) != napi_ok) {
    throwTypeError(env, "SyncMap iterNext batch size must be a number, got " + describeType(env, argv[2]));
    return false;
  }
  out->batch = !(max >= 1) ? 1 : max > kMaxIterBatch ? kMaxIterBatch : static_cast<uint32_t>(max);
  if (argc > 3) napi_get_value_bool(env, argv[3], &out->keysOnly);
  return true;
}

// syncIterNext(view, it, max, keysOnly?) -> flat [k0, v0, k1, v1, ...] ([k0, k1, ...] when
// keysOnly). Fewer than max entries: the iteration is over and the iterator freed; an
// iterator that is over (or unknown) gives [].
napi_value IterNext(napi_env env, napi_callback_info info) {
  ViewArgs<4> a(env, info);
  SyncView* view = a.view;
  if (view == nullptr) return nullptr;
  IterRequest req;
  if (!readIterRequest(env, a.argv, a.argc, &req)) return nullptr;
  const double itHandle = req.itHandle;
  const uint32_t batch = req.batch;
  const bool keysOnly = req.keysOnly;
  napi_value result;
  if (napi_create_array(env, &result) != napi_ok) return nullptr;
  SyncIter* iter = a.state->findIterator(itHandle);
  if (iter == nullptr) return result;
  if (iter->owner != view) return throwTypeError(env, "SyncMap iterator does not belong to this view");
  FlatEntries out{env, result, view->key, view->value, keysOnly};
  uint32_t count = 0;
  auto onEntry = [&](Blob k, Blob v) {
    if (out.add(k, v)) ++count;
  };
  bool finished = false;
  while (count < batch && !out.failed) {
    if (view->map->iterNext(*a.rec, iter->it, batch - count, onEntry) == 0) {
      finished = true;
      break;
    }
  }
  if (out.failed) return nullptr;
  if (finished) a.state->endIterator(iter);
  return result;
}

// A typed array of `count` elements of `type`, filled from `data` (nullptr on failure,
// with an exception pending).
napi_value typedArrayOf(napi_env env, napi_typedarray_type type, const void* data, size_t count, size_t elementSize) {
  void* bytes = nullptr;
  napi_value buffer, array;
  if (napi_create_arraybuffer(env, count * elementSize, &bytes, &buffer) != napi_ok) return nullptr;
  if (count != 0) std::memcpy(bytes, data, count * elementSize);
  if (napi_create_typedarray(env, type, count, buffer, 0, &array) != napi_ok) return nullptr;
  return array;
}

// One column of a packed iteration batch: numeric keys/values as words, strings joined
// with their lengths.
struct PackedColumn {
  SyncKind kind;
  std::vector<uint64_t> words;
  std::vector<uint32_t> lengths;
  JoinedStrings text;
  void add(const Blob& b) {
    if (kind == SyncKind::kF64 || kind == SyncKind::kI64) words.push_back(blobWord(b));
    else lengths.push_back(text.add(b));
  }
  // Sets element `at` (the numbers) and `at + 2` (the joined text) of result.
  bool toJs(napi_env env, napi_value result, uint32_t at) const {
    napi_value column;
    if (kind == SyncKind::kF64 || kind == SyncKind::kI64) {
      column = typedArrayOf(env, kind == SyncKind::kF64 ? napi_float64_array : napi_bigint64_array, words.data(),
                            words.size(), sizeof(uint64_t));
    } else {
      column = typedArrayOf(env, napi_uint32_array, lengths.data(), lengths.size(), sizeof(uint32_t));
      napi_value joined = text.toJs(env);
      if (joined == nullptr || napi_set_element(env, result, at + 2, joined) != napi_ok) return false;
    }
    return column != nullptr && napi_set_element(env, result, at, column) == napi_ok;
  }
};

bool packable(SyncKind kind) {
  return kind == SyncKind::kF64 || kind == SyncKind::kI64 || kind == SyncKind::kString || kind == SyncKind::kJson;
}

// syncIterNextPacked(view, it, max, keysOnly) -> [count, finished, keys, values, keyText,
// valueText]: about `max` entries (a native step may add a few) for views with 'f64' /
// 'i64' / 'string' keys and (unless keysOnly) 'f64' / 'i64' / 'string' / 'json' values.
// Numbers come as a Float64Array / BigInt64Array; strings as one joined string (keyText /
// valueText) and a Uint32Array of their lengths in UTF-16 units. A finished iterator is
// freed; one that is over (or unknown) gives [0, true].
napi_value IterNextPacked(napi_env env, napi_callback_info info) {
  ViewArgs<4> a(env, info);
  SyncView* view = a.view;
  if (view == nullptr) return nullptr;
  IterRequest req;
  if (!readIterRequest(env, a.argv, a.argc, &req)) return nullptr;
  const double itHandle = req.itHandle;
  const uint32_t batch = req.batch;
  const bool keysOnly = req.keysOnly;
  if (!packable(view->key) || (!keysOnly && !packable(view->value))) {
    return throwTypeError(env, "SyncMap packed iteration needs f64 / i64 / string keys and f64 / i64 / string / json values");
  }
  SyncIter* iter = a.state->findIterator(itHandle);
  if (iter != nullptr && iter->owner != view) return throwTypeError(env, "SyncMap iterator does not belong to this view");
  PackedColumn keys{view->key, {}, {}, {}}, values{view->value, {}, {}, {}};
  uint32_t count = 0;
  bool finished = iter == nullptr;
  if (iter != nullptr) {
    keys.words.reserve(batch);
    auto onEntry = [&](Blob k, Blob v) {
      keys.add(k);
      if (!keysOnly) values.add(v);
      ++count;
    };
    while (count < batch && keys.text.units() + values.text.units() < kMaxJoinedUnits) {
      if (view->map->iterNext(*a.rec, iter->it, batch - count, onEntry) == 0) {
        finished = true;
        break;
      }
    }
    if (finished) a.state->endIterator(iter);
  }
  napi_value result;
  if (napi_create_array_with_length(env, 6, &result) != napi_ok) return nullptr;
  napi_set_element(env, result, 0, numberValue(env, count));
  napi_set_element(env, result, 1, boolValue(env, finished));
  if (!keys.toJs(env, result, 2)) return nullptr;
  if (!keysOnly && !values.toJs(env, result, 3)) return nullptr;
  return result;
}

// syncIterEnd(view, it) -> boolean. Never throws (finalizers call it).
napi_value IterEnd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  SyncEnv* state = envOf(data);
  double viewHandle = 0, itHandle = 0;
  bool ended = false;
  if (napi_get_value_double(env, argv[0], &viewHandle) == napi_ok &&
      napi_get_value_double(env, argv[1], &itHandle) == napi_ok) {
    SyncIter* iter = state->findIterator(itHandle);
    if (iter != nullptr && iter->owner == state->findView(viewHandle)) {
      state->endIterator(iter);
      ended = true;
    }
  }
  return boolValue(env, ended);
}

// ---- fast calls: f64 / i64 keys and values through the I/O area (io_area.h) -----------
//
// For maps with 'f64' or 'i64' keys the façade writes the view handle (cell 0) and the key
// (cell 1) into the thread's I/O area and calls these without arguments; 'f64' / 'i64'
// values travel in cell 2, other values as the argument / return value; cell 3 gets the
// found / inserted flag. The façade checks the JS types first (a typed-array store would
// coerce) and sends anything else through the generic calls, which throw the right error.

// The view and key of a fast call (view null, with ERR_GOMAP_CLOSED or a TypeError
// pending, when the handle names no open view or the view's keys are not numeric).
struct FastArgs {
  SyncEnv* state;
  SyncView* view = nullptr;
  ebr::ThreadRecord* rec = nullptr;
  Blob key{0, nullptr, 0};
  FastArgs(napi_env env, napi_callback_info info) {
    state = fastCallEnv(env, info);
    view = state->findView(ioDouble(state->io(), kIoHandle));
    if (view == nullptr || view->isCache) {
      throwViewClosed(env);
      view = nullptr;
      return;
    }
    if (!fastCallKey(state, view, &key)) {
      throwTypeError(env, "SyncMap internal error: a fast call on a map whose keys are not numbers");
      view = nullptr;
      return;
    }
    rec = recordOf(env, state);
    if (rec == nullptr) view = nullptr;
  }
};

bool numericValues(const SyncView* view) { return view->value == SyncKind::kF64 || view->value == SyncKind::kI64; }

// syncFastGet() -> value (non-numeric value kinds) | undefined; found in cell 3, numeric
// values in cell 2
napi_value FastGet(napi_env env, napi_callback_info info) {
  FastArgs a(env, info);
  SyncView* view = a.view;
  if (view == nullptr) return nullptr;
  uint64_t* io = a.state->io();
  napi_value result = nullptr;
  bool found;
  if (numericValues(view)) {
    found = view->map->load(*a.rec, a.key, [&](Blob v) { io[kIoValue] = blobWord(v); });
  } else {
    const SyncKind kind = view->value;
    found = view->map->load(*a.rec, a.key, [&](Blob v) { result = syncBlobToJs(env, kind, v); });
    if (found && result == nullptr) return nullptr;
  }
  ioSetDouble(io, kIoResult, found ? 1 : 0);
  return result;
}

// syncFastHas() -> undefined; found in cell 3
napi_value FastHas(napi_env env, napi_callback_info info) {
  FastArgs a(env, info);
  if (a.view == nullptr) return nullptr;
  ioSetDouble(a.state->io(), kIoResult, a.view->map->contains(*a.rec, a.key) ? 1 : 0);
  return nullptr;
}

// syncFastSet(value?) -> undefined; inserted in cell 3 (numeric values in cell 2)
napi_value FastSet(napi_env env, napi_callback_info info) {
  FastArgs a(env, info);
  SyncView* view = a.view;
  if (view == nullptr) return nullptr;
  uint64_t* io = a.state->io();
  Blob value;
  if (view->value == SyncKind::kF64) {
    value = wordBlob(kTagNumber, io[kIoValue], a.state->valueScratch);
  } else if (view->value == SyncKind::kI64) {
    value = wordBlob(kTagBigInt, io[kIoValue], a.state->valueScratch);
  } else {
    size_t argc = 1;
    napi_value argv[1];
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
    if (!readValue(env, a.state->valueScratch, view, argv[0], &value)) return nullptr;
  }
  bool inserted = false;
  Status s = view->map->store(*a.rec, a.key, value, &inserted);
  if (s != Status::kOk) return throwStatus(env, s, "set");
  a.state->trackMemory(view);
  ioSetDouble(io, kIoResult, inserted ? 1 : 0);
  return nullptr;
}

// syncLiveHandles() -> { views, iterators, maps, retired } (tests): this thread's views and
// iterators, the shared maps of the process, and the objects retired to EBR not yet freed
napi_value LiveHandles(napi_env env, napi_callback_info info) {
  void* data;
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, nullptr, nullptr, &data);
  SyncEnv* state = envOf(data);
  napi_value result;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "views", numberValue(env, static_cast<double>(state->liveViews())));
  napi_set_named_property(env, result, "iterators", numberValue(env, static_cast<double>(state->liveIterators())));
  napi_set_named_property(env, result, "maps",
                          numberValue(env, static_cast<double>(SyncRegistry::global().liveMaps())));
  napi_set_named_property(env, result, "retired", numberValue(env, static_cast<double>(ebr::pendingObjects())));
  return result;
}

// syncTestingFailNthAllocation(n) (tests only: defined when GOMAP_TESTING=1 at load): the
// n-th native allocation from now fails (core/alloc.h failNthAllocation; 0 disarms), in
// the whole process.
napi_value TestingFailNthAllocation(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  double n = 0;
  if (argc < 1 || napi_get_value_double(env, argv[0], &n) != napi_ok || !(n >= 0) || n > kMaxSafeInteger) {
    return throwTypeError(env, "syncTestingFailNthAllocation needs a count >= 0");
  }
  failNthAllocation(static_cast<uint64_t>(n));
  return undefinedValue(env);
}

// syncTestingExternalMemory() -> number (tests only, as above): what this thread's isolate
// counts as external memory reported by native code (napi_adjust_external_memory by 0).
napi_value TestingExternalMemory(napi_env env, napi_callback_info info) {
  napi_get_cb_info(env, info, nullptr, nullptr, nullptr, nullptr);
  int64_t total = 0;
  if (napi_adjust_external_memory(env, 0, &total) != napi_ok) return nullptr;
  return numberValue(env, static_cast<double>(total));
}

// syncTestingCollect() -> number (tests only, as above): runs this thread's epoch
// reclamation a few times (its own retirements, those of ended threads, the shared list)
// and returns the objects still retired and not freed, in the whole process.
napi_value TestingCollect(napi_env env, napi_callback_info info) {
  void* data;
  napi_get_cb_info(env, info, nullptr, nullptr, nullptr, &data);
  ebr::ThreadRecord* rec = recordOf(env, envOf(data));
  if (rec == nullptr) return nullptr;
  for (int i = 0; i < 8 && ebr::pendingObjects() != 0; ++i) {
    ebr::collect(*rec);
    ebr::detail::helpReclaimShared(*rec);
  }
  return numberValue(env, static_cast<double>(ebr::pendingObjects()));
}

}  // namespace

napi_status defineSyncFunctions(napi_env env, napi_value exports) {
  AddonState* addon = AddonState::of(env);
  if (addon == nullptr || addon->io() == nullptr) return napi_generic_failure;
  SyncEnv* state = SyncEnv::create(env, addon->io());
  if (state == nullptr) return napi_generic_failure;
  const FunctionEntry entries[] = {
      {"syncCreate", guarded<Create>},
      {"syncAttach", guarded<Attach>},
      {"syncClose", guarded<Close>},
      {"syncGet", guarded<Get>},
      {"syncHas", guarded<Has>},
      {"syncSet", guarded<Set>},
      {"syncDelete", guarded<Delete>},
      {"syncGetMany", guarded<GetMany>},
      {"syncSetMany", guarded<SetMany>},
      {"syncLoadOrStore", guarded<ExchangeCall<Exchange::kLoadOrStore>>},
      {"syncLoadAndDelete", guarded<LoadAndDelete>},
      {"syncSwap", guarded<ExchangeCall<Exchange::kSwap>>},
      {"syncCompareAndSwap", guarded<CompareAndSwap>},
      {"syncCompareAndDelete", guarded<CompareAndDelete>},
      {"syncClear", guarded<Clear>},
      {"syncSize", guarded<Size>},
      {"syncStats", guarded<Stats>},
      {"syncIterStart", guarded<IterStart>},
      {"syncIterNext", guarded<IterNext>},
      {"syncIterEnd", guarded<IterEnd>},
      {"syncIterNextPacked", guarded<IterNextPacked>},
      {"syncLiveHandles", guarded<LiveHandles>},
      {"syncFastGet", guarded<FastGet>},
      {"syncFastHas", guarded<FastHas>},
      {"syncFastSet", guarded<FastSet>},
  };
  const bool withTestingHooks = testingRequested();  // GOMAP_TESTING=1 at load
  const FunctionEntry testingEntries[] = {
      {"syncTestingFailNthAllocation", guarded<TestingFailNthAllocation>},
      {"syncTestingExternalMemory", guarded<TestingExternalMemory>},
      {"syncTestingCollect", guarded<TestingCollect>},
  };
  if (withTestingHooks) {
    const napi_status status = defineFunctionTable(env, exports, testingEntries, state);
    if (status != napi_ok) return status;
  }
  return defineFunctionTable(env, exports, entries, state);
}

}  // namespace gomap::addon
