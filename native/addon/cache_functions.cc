// The cache* functions the addon exports to lib/go-cache.ts (raw Node-API callbacks).
//
// Same style as functions.cc: flat and positional, a cache named by a numeric handle
// (HandleTable), argument checking here and conversions in TypedCache. The caches of one
// addon instance (one per JS thread) live in a CacheRegistry, passed to every callback as
// its data and freed by an environment clean-up hook, so GoMap's AddonState is untouched.
//
// The cache I/O area (`cacheIo`, float64 cells): after every call on a cache, cell 0
// holds the number of removed entries waiting to be drained (cacheDrain), so the façade
// learns whether onEvict has work without another native call; for caches in inline
// report mode, cell 1 holds how many removed entries were moved to cells 2.. as pairs
// (slab index or -1, identity id to forget or 0), see CacheBinding::takeInline.
#include "cache_functions.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "cache_binding.h"
#include "errors.h"
#include "function_table.h"
#include "guarded.h"
#include "js_args.h"
#include "js_values.h"
#include "handle_table.h"

namespace gomap::addon {

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1
constexpr uint32_t kInlineReports = 32;
constexpr size_t kCacheIoCells = 2 + 2 * kInlineReports;
constexpr int kCacheIoPending = 0;
constexpr int kCacheIoInline = 1;
constexpr int kCacheIoInlineCells = 2;

class CacheRegistry {
 public:
  ~CacheRegistry() {
    caches_.forEach([](CacheBinding* c) { delete c; });
    if (ioRef_ != nullptr && env_ != nullptr) napi_delete_reference(env_, ioRef_);
  }
  HandleTable<CacheBinding> caches_;
  double* io = nullptr;
  napi_ref ioRef_ = nullptr;
  napi_env env_ = nullptr;
};

void freeRegistry(void* data) {
  auto* r = static_cast<CacheRegistry*>(data);
  r->env_ = nullptr;  // the environment is going away: no napi calls
  delete r;
}

CacheRegistry* registryOf(void* data) { return static_cast<CacheRegistry*>(data); }

napi_value throwCacheClosed(napi_env env) {
  if (!exceptionPending(env)) napi_throw_error(env, "ERR_GOMAP_CLOSED", "GoCache is closed: it cannot be used after close()");
  return nullptr;
}

// The arguments of a call whose first argument is a cache handle, and that cache.
template <size_t N>
struct CacheArgs {
  size_t argc = N;
  napi_value argv[N];
  CacheRegistry* registry = nullptr;
  CacheBinding* cache = nullptr;
  CacheArgs(napi_env env, napi_callback_info info) {
    void* data;
    napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
    registry = registryOf(data);
    double handle;
    if (argc < 1 || napi_get_value_double(env, argv[0], &handle) != napi_ok) {
      throwTypeError(env, "GoCache handle must be a number");
      return;
    }
    cache = registry->caches_.find(handle);
    if (cache == nullptr) throwCacheClosed(env);
  }
  napi_value arg(size_t i) const { return i < argc ? argv[i] : nullptr; }
  // Publishes the number of removed entries waiting (cacheIo cell 0).
  void publish() const {
    if (cache == nullptr || registry->io == nullptr) return;
    double* io = registry->io;
    io[kCacheIoInline] = cache->pending() == 0 ? 0 : cache->takeInline(io + kCacheIoInlineCells, kInlineReports);
    io[kCacheIoPending] = static_cast<double>(cache->pending());
  }
};

// Every callback runs guarded (guarded.h): no C++ exception may reach V8.
constexpr char kCall[] = "GoCache call";
template <napi_value (*Body)(napi_env, napi_callback_info)>
constexpr napi_callback guarded = guardedCall<kCall, Body>;

bool readLimit(napi_env env, napi_value v, const char* what, uint64_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    throwTypeError(env, std::string("GoCache ") + what + " must be a number, got " + describeType(env, v));
    return false;
  }
  if (!(d >= 0 && d <= kMaxSafeInteger) || std::floor(d) != d) {
    throwRangeError(env, std::string("GoCache ") + what + " must be an integer from 0 to 2^53 - 1");
    return false;
  }
  *out = static_cast<uint64_t>(d);
  return true;
}

// A ttl argument: -1 for the default, else ms (0: no expiry) up to kMaxCacheTtl.
bool readTtl(napi_env env, napi_value v, uint64_t* out) {
  double d;
  if (v == nullptr || napi_get_value_double(env, v, &d) != napi_ok) {
    throwTypeError(env, "GoCache ttl must be a number");
    return false;
  }
  if (d == -1) {
    *out = cache_detail::kDefaultTtl;
    return true;
  }
  if (!(d >= 0 && d <= static_cast<double>(kMaxCacheTtl)) || std::floor(d) != d) {
    throwRangeError(env, "GoCache ttl must be an integer number of ms from 0 to 2^32 - 1");
    return false;
  }
  *out = static_cast<uint64_t>(d);
  return true;
}

// cacheCreate(keyKind, valueKind, max, maxBytes, ttl, updateAgeOnGet, reportMode, seed?) -> handle
// (reportMode: 0 none, 1 drain, 2 inline; see ReportMode)
napi_value CacheCreate(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  if (argc < 7) return throwTypeError(env, "GoCache create needs 7 arguments");
  int keyKind = 0, valueKind = 0;
  if (!readKindIndex(env, argv[0], "GoCache", "key", &keyKind) || !readKindIndex(env, argv[1], "GoCache", "value", &valueKind)) {
    return nullptr;
  }
  CacheLimits limits;
  if (!readLimit(env, argv[2], "max", &limits.maxEntries)) return nullptr;
  if (!readLimit(env, argv[3], "maxBytes", &limits.maxBytes)) return nullptr;
  uint64_t ttl = 0;
  if (!readTtl(env, argv[4], &ttl)) return nullptr;
  limits.ttl = ttl == cache_detail::kDefaultTtl ? 0 : ttl;
  bool updateAge = false;
  napi_get_value_bool(env, argv[5], &updateAge);
  uint32_t report = 0;
  if (napi_get_value_uint32(env, argv[6], &report) != napi_ok || report > 2) {
    return throwTypeError(env, "GoCache report mode must be 0, 1 or 2");
  }
  limits.updateAgeOnGet = updateAge;
  MapOptions options;
  if (!readSeed(env, argc, argv, 7, "GoCache", &options)) return nullptr;
  std::unique_ptr<CacheBinding> cache = createCacheBinding(static_cast<KeyKind>(keyKind),
                                                           static_cast<ValueKind>(valueKind), options, limits,
                                                           static_cast<ReportMode>(report));
  if (!cache) return throwStatus(env, Status::kNoMemory, "GoCache create");
  CacheRegistry* registry = registryOf(data);
  double handle = registry->caches_.add(cache.get());
  cache->handle = handle;
  cache.release();
  napi_value result;
  napi_create_double(env, handle, &result);
  return result;
}

// cacheClose(h) -> boolean (false: closed already)
napi_value CacheClose(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void* data;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  double handle;
  if (argc < 1 || napi_get_value_double(env, argv[0], &handle) != napi_ok) {
    return throwTypeError(env, "GoCache handle must be a number");
  }
  CacheBinding* cache = registryOf(data)->caches_.remove(handle);
  delete cache;
  napi_value result;
  napi_get_boolean(env, cache != nullptr, &result);
  return result;
}

// cacheSet(h, key, value, ttl, charge, refId?) -> 0 inserted | 1 replaced | 2 refused
napi_value CacheSet(napi_env env, napi_callback_info info) {
  CacheArgs<6> a(env, info);
  if (a.cache == nullptr) return nullptr;
  uint64_t ttl;
  if (!readTtl(env, a.arg(3), &ttl)) return nullptr;
  double charge = 0;
  if (a.arg(4) == nullptr || napi_get_value_double(env, a.arg(4), &charge) != napi_ok || !(charge >= 0) ||
      charge > 4294967295.0) {
    return throwRangeError(env, "GoCache entry size must be a number from 0 to 2^32 - 1");
  }
  napi_value r = a.cache->set(env, a.arg(1), a.arg(2), ttl, static_cast<uint32_t>(charge), a.arg(5));
  a.publish();
  return r;
}

// cacheGet(h, key, refId?) / cachePeek(h, key, refId?) -> value | undefined
template <bool kTouch>
napi_value CacheGet(napi_env env, napi_callback_info info) {
  CacheArgs<3> a(env, info);
  if (a.cache == nullptr) return nullptr;
  napi_value r = a.cache->get(env, a.arg(1), a.arg(2), kTouch);
  a.publish();
  return r;
}

// cacheHas / cacheDelete / cacheRemainingTtl (h, key, refId?)
template <napi_value (CacheBinding::*Method)(napi_env, napi_value, napi_value)>
napi_value CacheKeyCall(napi_env env, napi_callback_info info) {
  CacheArgs<3> a(env, info);
  if (a.cache == nullptr) return nullptr;
  napi_value r = (a.cache->*Method)(env, a.arg(1), a.arg(2));
  a.publish();
  return r;
}

// cacheEntries(h, keysOnly) -> flat array of the live entries
napi_value CacheEntries(napi_env env, napi_callback_info info) {
  CacheArgs<2> a(env, info);
  if (a.cache == nullptr) return nullptr;
  bool keysOnly = false;
  if (a.arg(1) != nullptr) napi_get_value_bool(env, a.arg(1), &keysOnly);
  napi_value r = a.cache->entries(env, keysOnly);
  a.publish();
  return r;
}

// cacheDrain(h) -> [reason, key, value, ...]
napi_value CacheDrain(napi_env env, napi_callback_info info) {
  CacheArgs<1> a(env, info);
  if (a.cache == nullptr) return nullptr;
  napi_value r = a.cache->drain(env);
  a.publish();
  return r;
}

// cacheClear(h) / cachePurge(h) -> undefined
napi_value CacheClear(napi_env env, napi_callback_info info) {
  CacheArgs<1> a(env, info);
  if (a.cache == nullptr) return nullptr;
  a.cache->clear();
  a.publish();
  return nullptr;
}
napi_value CachePurge(napi_env env, napi_callback_info info) {
  CacheArgs<1> a(env, info);
  if (a.cache == nullptr) return nullptr;
  a.cache->purge();
  a.publish();
  return nullptr;
}

// cacheStats(h) -> { hits, misses, evictions, expirations, size, bytes, tableBytes }
napi_value CacheStatsCall(napi_env env, napi_callback_info info) {
  CacheArgs<1> a(env, info);
  if (a.cache == nullptr) return nullptr;
  return cacheStatsValue(env, a.cache->stats(), a.cache->tableBytes());
}

// cacheSize(h) -> entries held
napi_value CacheSize(napi_env env, napi_callback_info info) {
  CacheArgs<1> a(env, info);
  if (a.cache == nullptr) return nullptr;
  napi_value result;
  napi_create_double(env, static_cast<double>(a.cache->stats().size), &result);
  return result;
}

// cacheSetTime(h, ms) -> undefined: a manual clock for deterministic benchmarks (0: the
// monotonic clock again).
napi_value CacheSetTime(napi_env env, napi_callback_info info) {
  CacheArgs<2> a(env, info);
  if (a.cache == nullptr) return nullptr;
  uint64_t ms;
  if (a.arg(1) == nullptr || !readLimit(env, a.arg(1), "time", &ms)) return nullptr;
  a.cache->setManualTime(ms);
  return nullptr;
}

// cacheLive() -> number of open caches of this thread (tests).
napi_value CacheLive(napi_env env, napi_callback_info info) {
  void* data;
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, nullptr, nullptr, &data);
  napi_value result;
  napi_create_double(env, static_cast<double>(registryOf(data)->caches_.live()), &result);
  return result;
}

}  // namespace

napi_status defineCacheFunctions(napi_env env, napi_value exports) {
  auto* registry = new (std::nothrow) CacheRegistry();
  if (registry == nullptr) return napi_generic_failure;
  registry->env_ = env;
  if (napi_add_env_cleanup_hook(env, freeRegistry, registry) != napi_ok) {
    delete registry;
    return napi_generic_failure;
  }
  const FunctionEntry entries[] = {
      {"cacheCreate", guarded<CacheCreate>},
      {"cacheClose", guarded<CacheClose>},
      {"cacheSet", guarded<CacheSet>},
      {"cacheGet", guarded<CacheGet<true>>},
      {"cachePeek", guarded<CacheGet<false>>},
      {"cacheHas", guarded<CacheKeyCall<&CacheBinding::has>>},
      {"cacheDelete", guarded<CacheKeyCall<&CacheBinding::remove>>},
      {"cacheRemainingTtl", guarded<CacheKeyCall<&CacheBinding::remainingTtl>>},
      {"cacheEntries", guarded<CacheEntries>},
      {"cacheDrain", guarded<CacheDrain>},
      {"cacheClear", guarded<CacheClear>},
      {"cachePurge", guarded<CachePurge>},
      {"cacheStats", guarded<CacheStatsCall>},
      {"cacheSize", guarded<CacheSize>},
      {"cacheSetTime", guarded<CacheSetTime>},
      {"cacheLive", guarded<CacheLive>},
  };
  if (const napi_status status = defineFunctionTable(env, exports, entries, registry); status != napi_ok) return status;
  void* ioData = nullptr;
  napi_value io;
  napi_status status = napi_create_arraybuffer(env, kCacheIoCells * sizeof(double), &ioData, &io);
  if (status != napi_ok) return status;
  status = napi_create_reference(env, io, 1, &registry->ioRef_);
  if (status != napi_ok) return status;
  registry->io = static_cast<double*>(ioData);
  return napi_set_named_property(env, exports, "cacheIo", io);
}

}  // namespace gomap::addon
