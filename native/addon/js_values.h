// JS values made from native ones by the raw Node-API callbacks (SyncMap, GoCache and
// shared GoCache functions): undefined, booleans, numbers, and the counters object of a
// cache. Raw napi calls that never throw and never run JS; a failed call leaves the
// result null with an exception pending, as the callbacks expect.
#pragma once

#include <node_api.h>

#include <cstdint>

#include "core/cache.h"

namespace gomap::addon {

inline napi_value undefinedValue(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

inline napi_value boolValue(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

inline napi_value numberValue(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

// { hits, misses, evictions, expirations, size, bytes, tableBytes }: what GoCache's and a
// shared GoCache's stats() return (tableBytes: the native bytes of the cache's table).
inline napi_value cacheStatsValue(napi_env env, const CacheStats& s, uint64_t tableBytes) {
  napi_value result;
  if (napi_create_object(env, &result) != napi_ok) return nullptr;
  auto put = [&](const char* name, double v) { napi_set_named_property(env, result, name, numberValue(env, v)); };
  put("hits", static_cast<double>(s.hits));
  put("misses", static_cast<double>(s.misses));
  put("evictions", static_cast<double>(s.evictions));
  put("expirations", static_cast<double>(s.expirations));
  put("size", static_cast<double>(s.size));
  put("bytes", static_cast<double>(s.bytes));
  put("tableBytes", static_cast<double>(tableBytes));
  return result;
}

}  // namespace gomap::addon
