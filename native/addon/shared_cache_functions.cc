// The shared GoCache functions of the addon (lib/shared-cache.ts declares them): raw
// Node-API callbacks with the thread's SyncEnv as their callback data.
//
// A shared cache is a ConcurrentMap that carries a SharedCache (core/shared_cache.h), so
// it lives in the SyncMap registry and views (sync_registry.h, sync_env.h) unchanged:
// a view is one GoCache object in one thread, named by its view handle (SyncView with
// isCache set, which the SyncMap functions refuse); the cache is named across threads by
// its registry id; the last view closed or collected frees it; a terminated worker's
// views are closed by its environment clean-up. Keys and values are converted by the
// SyncMap codecs (sync_codec.h). No cache logic here.
//
// Removals: a write called with report = true (the view has onEvict) gets the entries
// it removed, copied under the core's lock by a RemovalCopy sink, as
// [result, reason0, key0, value0, reason1, ...] (reasons: 0 evict, 1 expire, 2 delete,
// 3 set); with report = false it gets the result alone. Reads never remove (an expired
// entry reads as absent and is left to writers).
#include "shared_cache_functions.h"

#include <cmath>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "cache_binding.h"  // cacheNowMs
#include "core/shared_cache.h"
#include "errors.h"
#include "function_table.h"
#include "guarded.h"
#include "io_area.h"
#include "js_args.h"
#include "js_values.h"
#include "sync_codec.h"
#include "sync_env.h"
#include "sync_registry.h"
#include "sync_view_calls.h"

namespace gomap::addon {

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1
constexpr uint32_t kEntriesBatch = 256;                 // entries per pinned iteration step

SyncEnv* envOf(void* data) { return static_cast<SyncEnv*>(data); }

napi_value throwCacheClosed(napi_env env) {
  if (!exceptionPending(env))
    napi_throw_error(env, "ERR_GOMAP_CLOSED", "GoCache is closed: it cannot be used after close()");
  return nullptr;
}

// The view's clock: its manual time, else the process-wide monotonic ms clock (one clock
// for every thread, so expiry agrees across workers).
uint64_t nowOf(const SyncView* view) { return view->manualNow != 0 ? view->manualNow : cacheNowMs(); }

// The open cache view a handle argument names, the thread's EBR record, and the argument
// values (view null, with an exception pending, when either is missing).
template <size_t N>
struct CacheViewArgs {
  size_t argc = N;
  napi_value argv[N];
  SyncEnv* state = nullptr;
  SyncView* view = nullptr;
  SharedCache* cache = nullptr;
  ebr::ThreadRecord* rec = nullptr;
  CacheViewArgs(napi_env env, napi_callback_info info) {
    void* data;
    napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
    for (size_t i = argc; i < N; ++i) napi_get_undefined(env, &argv[i]);
    state = envOf(data);
    double handle;
    if (napi_get_value_double(env, argv[0], &handle) != napi_ok) {
      throwTypeError(env, "GoCache view handle must be a number, got " + describeType(env, argv[0]));
      return;
    }
    SyncView* v = state->findView(handle);
    if (v == nullptr || !v->isCache) {
      throwCacheClosed(env);
      return;
    }
    rec = state->record();
    if (rec == nullptr) {
      throwStatus(env, Status::kNoMemory, "thread registration");
      return;
    }
    view = v;
    cache = v->map->cache();
  }
};

bool readKey(napi_env env, SyncEnv* state, const SyncView* view, napi_value value, Blob* out) {
  return readSyncBlob(env, view->key, true, value, state->keyScratch, out, "GoCache");
}

bool readBool(napi_env env, napi_value value) {
  bool b = false;
  napi_get_value_bool(env, value, &b);
  return b;
}

// An integer argument from 0 to `max`.
bool readCount(napi_env env, napi_value value, const char* what, double max, uint64_t* out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok) {
    throwTypeError(env, std::string("GoCache ") + what + " must be a number, got " + describeType(env, value));
    return false;
  }
  if (!(d >= 0 && d <= max) || std::floor(d) != d) {
    throwRangeError(env, std::string("GoCache ") + what + " is out of range");
    return false;
  }
  *out = static_cast<uint64_t>(d);
  return true;
}

// Copies what a write removes (under the core's lock: no JS, no throwing), to hand to JS
// after the call.
class RemovalCopy final : public SharedRemovalSink {
 public:
  struct Item {
    RemovalReason reason;
    uint8_t keyTag, valueTag;
    size_t keyAt, valueAt;
    uint32_t keyLen, valueLen;
  };
  void removed(const Blob& key, const Blob& value, RemovalReason reason) noexcept override {
    try {
      Item item{reason, key.tag, value.tag, bytes_.size(), bytes_.size() + key.len, key.len, value.len};
      bytes_.insert(bytes_.end(), key.data, key.data + key.len);
      bytes_.insert(bytes_.end(), value.data, value.data + value.len);
      items_.push_back(item);
    } catch (...) {
      // Out of memory: this report is lost (the removal itself happened).
    }
  }
  // [result, reason0, key0, value0, ...]
  napi_value toJs(napi_env env, const SyncView* view, napi_value result) const {
    napi_value out;
    if (napi_create_array_with_length(env, 1 + 3 * items_.size(), &out) != napi_ok) return nullptr;
    napi_set_element(env, out, 0, result);
    uint32_t i = 1;
    for (const Item& item : items_) {
      napi_value k = syncBlobToJs(env, view->key, Blob{item.keyTag, bytes_.data() + item.keyAt, item.keyLen});
      napi_value v = syncBlobToJs(env, view->value, Blob{item.valueTag, bytes_.data() + item.valueAt, item.valueLen});
      if (k == nullptr || v == nullptr) return nullptr;
      napi_set_element(env, out, i++, numberValue(env, static_cast<double>(item.reason)));
      napi_set_element(env, out, i++, k);
      napi_set_element(env, out, i++, v);
    }
    return out;
  }

 private:
  std::vector<uint8_t> bytes_;
  std::vector<Item> items_;
};

// The result of a write, with its removals when the caller asked for them.
napi_value writeResult(napi_env env, const SyncView* view, const RemovalCopy* copy, napi_value result) {
  return copy == nullptr ? result : copy->toJs(env, view, result);
}

// Every callback runs guarded (guarded.h): no C++ exception may reach V8.
constexpr char kCall[] = "GoCache call";
template <napi_value (*Body)(napi_env, napi_callback_info)>
constexpr napi_callback guarded = guardedCall<kCall, Body>;

// ---- creating, attaching, closing views ----------------------------------------------

// scacheCreate(keyKind, valueKind, max, maxBytes, ttl, updateAgeOnGet, seed?) -> [view, id]
napi_value Create(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  if (argc < 6) return throwTypeError(env, "scacheCreate needs 6 arguments");
  SyncEnv* state = envOf(data);
  SyncKind key, value;
  if (!readSyncKind(env, argv[0], true, kSharedCacheOwner, &key) ||
      !readSyncKind(env, argv[1], false, kSharedCacheOwner, &value)) {
    return nullptr;
  }
  CacheLimits limits;
  if (!readCount(env, argv[2], "max", kMaxSafeInteger, &limits.maxEntries) ||
      !readCount(env, argv[3], "maxBytes", kMaxSafeInteger, &limits.maxBytes) ||
      !readCount(env, argv[4], "ttl", static_cast<double>(kMaxCacheTtl), &limits.ttl)) {
    return nullptr;
  }
  limits.updateAgeOnGet = readBool(env, argv[5]);
  MapOptions options;
  if (!readSeed(env, argc, argv, 6, "GoCache", &options)) return nullptr;
  ConcurrentMap* map = nullptr;
  Status status = SharedCache::create(options, limits, &map);
  if (status != Status::kOk) return throwStatus(env, status, "shared cache");
  return openNewSyncMap(env, state, map, key, value, true);
}

// scacheAttach(id, keyKind, valueKind) -> [view, max, maxBytes, ttl, updateAgeOnGet]
napi_value Attach(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  if (argc < 3) return throwTypeError(env, "scacheAttach needs 3 arguments");
  SyncEnv* state = envOf(data);
  double id;
  SyncKind key, value;
  ConcurrentMap* map = attachSyncMap(env, argv, kSharedCacheOwner, &id, &key, &value);
  if (map == nullptr) return nullptr;
  if (map->cache() == nullptr) {
    SyncRegistry::global().detach(id);
    return throwTypeError(env, "GoCache.attach: the handle names a SyncMap, not a shared GoCache; use SyncMap.attach");
  }
  const SyncView* view = openSyncView(state, map, id, key, value, true);
  const CacheLimits& limits = map->cache()->limits();
  napi_value result;
  napi_create_array_with_length(env, 5, &result);
  napi_set_element(env, result, 0, numberValue(env, view->handle));
  napi_set_element(env, result, 1, numberValue(env, static_cast<double>(limits.maxEntries)));
  napi_set_element(env, result, 2, numberValue(env, static_cast<double>(limits.maxBytes)));
  napi_set_element(env, result, 3, numberValue(env, static_cast<double>(limits.ttl)));
  napi_set_element(env, result, 4, boolValue(env, limits.updateAgeOnGet));
  return result;
}

// scacheClose(view) -> boolean (false: closed already; never throws for a stale handle)
napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  SyncEnv* state = envOf(data);
  double handle = 0;
  if (argc < 1 || napi_get_value_double(env, argv[0], &handle) != napi_ok) return boolValue(env, false);
  SyncView* view = state->findView(handle);
  return boolValue(env, view != nullptr && view->isCache && state->closeView(handle));
}

// ---- reads (lock-free) -----------------------------------------------------------------

// scacheGet(view, key) -> value | undefined   (recency, updateAgeOnGet, hit/miss)
// scachePeek(view, key) -> value | undefined  (none of those)
template <bool kTouch>
napi_value Read(napi_env env, napi_callback_info info) {
  CacheViewArgs<2> a(env, info);
  if (a.view == nullptr) return nullptr;
  Blob key;
  if (!readKey(env, a.state, a.view, a.argv[1], &key)) return nullptr;
  napi_value result = nullptr;
  const SyncKind kind = a.view->value;
  auto onValue = [&](Blob v) { result = syncBlobToJs(env, kind, v); };
  const bool found = kTouch ? a.cache->get(*a.rec, key, nowOf(a.view), onValue)
                            : a.cache->peek(*a.rec, key, nowOf(a.view), onValue);
  return found ? result : undefinedValue(env);
}

// scacheFastGet() -> value (non-numeric value kinds) | undefined: get for 'f64' / 'i64'
// keys through the thread's I/O area (io_area.h), as syncFastGet: cell 0 the view handle,
// 1 the key; out: cell 3 found (0 / 1), cell 2 an 'f64' / 'i64' value.
napi_value FastGet(napi_env env, napi_callback_info info) {
  SyncEnv* state = fastCallEnv(env, info);
  uint64_t* io = state->io();
  SyncView* view = state->findView(ioDouble(io, kIoHandle));
  if (view == nullptr || !view->isCache) return throwCacheClosed(env);
  Blob key;
  if (!fastCallKey(state, view, &key)) {
    return throwTypeError(env, "GoCache internal error: a fast call on a cache whose keys are not numbers");
  }
  ebr::ThreadRecord* rec = state->record();
  if (rec == nullptr) return throwStatus(env, Status::kNoMemory, "thread registration");
  SharedCache* cache = view->map->cache();
  napi_value result = nullptr;
  bool found;
  if (view->value == SyncKind::kF64 || view->value == SyncKind::kI64) {
    found = cache->get(*rec, key, nowOf(view), [&](Blob v) { io[kIoValue] = blobWord(v); });
  } else {
    const SyncKind kind = view->value;
    found = cache->get(*rec, key, nowOf(view), [&](Blob v) { result = syncBlobToJs(env, kind, v); });
    if (found && result == nullptr) return nullptr;
  }
  ioSetDouble(io, kIoResult, found ? 1 : 0);
  return result;
}

// scacheHas(view, key) -> boolean
napi_value Has(napi_env env, napi_callback_info info) {
  CacheViewArgs<2> a(env, info);
  if (a.view == nullptr) return nullptr;
  Blob key;
  if (!readKey(env, a.state, a.view, a.argv[1], &key)) return nullptr;
  return boolValue(env, a.cache->has(*a.rec, key, nowOf(a.view)));
}

// scacheRemainingTtl(view, key) -> ms left; Infinity: no expiry; 0: absent
napi_value RemainingTtl(napi_env env, napi_callback_info info) {
  CacheViewArgs<2> a(env, info);
  if (a.view == nullptr) return nullptr;
  Blob key;
  if (!readKey(env, a.state, a.view, a.argv[1], &key)) return nullptr;
  uint64_t left = 0;
  bool never = false;
  if (!a.cache->remainingTtl(*a.rec, key, nowOf(a.view), &left, &never)) return numberValue(env, 0);
  return numberValue(env, never ? std::numeric_limits<double>::infinity() : static_cast<double>(left));
}

// scacheSize(view) -> entries held (expired ones until a writer removes them)
napi_value Size(napi_env env, napi_callback_info info) {
  CacheViewArgs<1> a(env, info);
  if (a.view == nullptr) return nullptr;
  return numberValue(env, static_cast<double>(a.cache->size()));
}

// scacheStats(view) -> { hits, misses, evictions, expirations, size, bytes, tableBytes }
napi_value Stats(napi_env env, napi_callback_info info) {
  CacheViewArgs<1> a(env, info);
  if (a.view == nullptr) return nullptr;
  return cacheStatsValue(env, a.cache->stats(), a.cache->nativeBytes());
}

// scacheEntries(view, keysOnly) -> [k0, v0, k1, v1, ...] ([k0, k1, ...] when keysOnly): a
// snapshot of the live entries (each produced once, as SyncMap iteration guarantees).
napi_value Entries(napi_env env, napi_callback_info info) {
  CacheViewArgs<2> a(env, info);
  if (a.view == nullptr) return nullptr;
  const bool keysOnly = readBool(env, a.argv[1]);
  ConcurrentMap* map = a.view->map;
  ConcurrentMap::Iterator* it = nullptr;
  Status st = map->iterStart(*a.rec, &it);
  if (st != Status::kOk) return throwStatus(env, st, "GoCache entries");
  napi_value result;
  napi_create_array(env, &result);
  FlatEntries out{env, result, a.view->key, a.view->value, keysOnly};
  const uint64_t now = nowOf(a.view);
  while (!out.failed && map->iterNext(*a.rec, it, kEntriesBatch, [&](Blob k, Blob v) {
    if (SharedCache::liveAt(k, now)) out.add(k, v);
  }) != 0) {
  }
  map->iterEnd(it);
  return out.failed ? nullptr : result;
}

// ---- writes (under the cache's write lock, in the core) ------------------------------------

// scacheSet(view, key, value, ttl, report) -> outcome (0 inserted, 1 replaced, 2 refused),
// or [outcome, removals...] when report. ttl: ms, or -1 for the cache's default.
napi_value Set(napi_env env, napi_callback_info info) {
  CacheViewArgs<5> a(env, info);
  if (a.view == nullptr) return nullptr;
  Blob key, value;
  if (!readKey(env, a.state, a.view, a.argv[1], &key)) return nullptr;
  if (!readSyncBlob(env, a.view->value, false, a.argv[2], a.state->valueScratch, &value, "GoCache")) return nullptr;
  double ttlArg = -1;
  if (napi_get_value_double(env, a.argv[3], &ttlArg) != napi_ok) {
    return throwTypeError(env, "GoCache set ttl must be a number, got " + describeType(env, a.argv[3]));
  }
  uint64_t ttl = cache_detail::kDefaultTtl;
  if (ttlArg != -1) {
    if (!(ttlArg >= 0 && ttlArg <= static_cast<double>(kMaxCacheTtl))) {
      return throwRangeError(env, "GoCache set ttl must be from 0 to 2^32 - 1 ms");
    }
    ttl = static_cast<uint64_t>(std::ceil(ttlArg));
  }
  const bool report = readBool(env, a.argv[4]);
  RemovalCopy copy;
  SetOutcome outcome = SetOutcome::kInserted;
  Status st = a.cache->set(*a.rec, key, value, nowOf(a.view), ttl, &outcome, report ? &copy : nullptr);
  if (st != Status::kOk) return throwStatus(env, st, "GoCache set");
  a.state->trackMemory(a.view);
  return writeResult(env, a.view, report ? &copy : nullptr, numberValue(env, static_cast<double>(outcome)));
}

// scacheDelete(view, key, report) -> boolean, or [boolean, removals...]
napi_value Delete(napi_env env, napi_callback_info info) {
  CacheViewArgs<3> a(env, info);
  if (a.view == nullptr) return nullptr;
  Blob key;
  if (!readKey(env, a.state, a.view, a.argv[1], &key)) return nullptr;
  const bool report = readBool(env, a.argv[2]);
  RemovalCopy copy;
  const bool removed = a.cache->erase(*a.rec, key, nowOf(a.view), report ? &copy : nullptr);
  return writeResult(env, a.view, report ? &copy : nullptr, boolValue(env, removed));
}

// scacheClear(view, report) / scachePurge(view, report) -> undefined, or [undefined, removals...]
template <bool kPurge>
napi_value Sweep(napi_env env, napi_callback_info info) {
  CacheViewArgs<2> a(env, info);
  if (a.view == nullptr) return nullptr;
  const bool report = readBool(env, a.argv[1]);
  RemovalCopy copy;
  if (kPurge) a.cache->purgeExpired(*a.rec, nowOf(a.view), report ? &copy : nullptr);
  else a.cache->clear(*a.rec, report ? &copy : nullptr);
  a.state->trackMemory(a.view);
  return writeResult(env, a.view, report ? &copy : nullptr, undefinedValue(env));
}

// scacheSetTime(view, ms) -> undefined: this view's clock reads `ms` (>= 1) from now on;
// 0 returns to the monotonic clock. For tests of expiry; other views keep their clocks.
napi_value SetTime(napi_env env, napi_callback_info info) {
  CacheViewArgs<2> a(env, info);
  if (a.view == nullptr) return nullptr;
  uint64_t ms = 0;
  if (!readCount(env, a.argv[1], "manual time", static_cast<double>(kCacheExpiryMask), &ms)) return nullptr;
  a.view->manualNow = ms;
  return undefinedValue(env);
}

}  // namespace

napi_status defineSharedCacheFunctions(napi_env env, napi_value exports) {
  SyncEnv* state = SyncEnv::of(env);
  if (state == nullptr) return napi_generic_failure;
  const FunctionEntry entries[] = {
      {"scacheCreate", guarded<Create>},
      {"scacheAttach", guarded<Attach>},
      {"scacheClose", guarded<Close>},
      {"scacheGet", guarded<Read<true>>},
      {"scacheFastGet", guarded<FastGet>},
      {"scachePeek", guarded<Read<false>>},
      {"scacheHas", guarded<Has>},
      {"scacheRemainingTtl", guarded<RemainingTtl>},
      {"scacheSize", guarded<Size>},
      {"scacheStats", guarded<Stats>},
      {"scacheEntries", guarded<Entries>},
      {"scacheSet", guarded<Set>},
      {"scacheDelete", guarded<Delete>},
      {"scacheClear", guarded<Sweep<false>>},
      {"scachePurge", guarded<Sweep<true>>},
      {"scacheSetTime", guarded<SetTime>},
  };
  return defineFunctionTable(env, exports, entries, state);
}

}  // namespace gomap::addon
