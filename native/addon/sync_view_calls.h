// What the SyncMap functions (sync_functions.cc) and the shared GoCache functions
// (shared_cache_functions.cc) do alike: both are views of maps in the process-wide
// registry (sync_registry.h) held by this thread's SyncEnv (sync_env.h), so they read
// kind names, open and attach views, take the key of a fast call from the I/O area and
// write flat entry arrays the same way. Only the words of their messages differ, and
// those come from a SyncOwner. No map or cache logic here.
#pragma once

#include <node_api.h>

#include <cstring>
#include <new>
#include <string>

#include "core/concurrent_map.h"
#include "errors.h"
#include "io_area.h"
#include "js_values.h"
#include "sync_codec.h"
#include "sync_env.h"
#include "sync_registry.h"

namespace gomap::addon {

// Whose call it is, in messages.
struct SyncOwner {
  const char* name;       // "SyncMap" / "GoCache": handle messages
  const char* kindOwner;  // "SyncMap" / "shared GoCache": kind-name messages
  const char* noun;       // "map" / "cache"
};

inline constexpr SyncOwner kSyncMapOwner{"SyncMap", "SyncMap", "map"};
inline constexpr SyncOwner kSharedCacheOwner{"GoCache", "shared GoCache", "cache"};

// A kind name argument ('f64', 'i64', 'string', 'bytes', and for values 'json', 'v8').
inline bool readSyncKind(napi_env env, napi_value value, bool isKey, const SyncOwner& who, SyncKind* out) {
  char buf[16];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, buf, sizeof buf, &len) == napi_ok) {
    const int count = isKey ? 4 : kSyncKindCount;
    for (int i = 0; i < count; ++i) {
      if (std::strcmp(buf, syncKindName(static_cast<SyncKind>(i))) == 0) {
        *out = static_cast<SyncKind>(i);
        return true;
      }
    }
  }
  throwTypeError(env, std::string(who.kindOwner) +
                          (isKey ? " key kind must be one of 'string', 'f64', 'i64', 'bytes'"
                                 : " value kind must be one of 'string', 'f64', 'i64', 'bytes', 'json', 'v8'"));
  return false;
}

// Opens this thread's view of a map whose registry reference the caller holds (the view
// takes it over), marks it a cache view or not, and reports its memory. Throws
// std::bad_alloc with the reference given back.
inline SyncView* openSyncView(SyncEnv* state, ConcurrentMap* map, double id, SyncKind key, SyncKind value,
                              bool isCache) {
  double handle;
  try {
    handle = state->addView(map, id, key, value);
  } catch (const std::bad_alloc&) {
    SyncRegistry::global().detach(id);
    throw;
  }
  SyncView* view = state->findView(handle);
  view->isCache = isCache;
  state->trackMemory(view);
  return view;
}

// Puts a new map in the registry and opens this thread's first view of it; the result is
// [view handle, registry id]. Throws std::bad_alloc with the map freed.
inline napi_value openNewSyncMap(napi_env env, SyncEnv* state, ConcurrentMap* map, SyncKind key, SyncKind value,
                                 bool isCache) {
  double id;
  try {
    id = SyncRegistry::global().add(map, key, value);
  } catch (const std::bad_alloc&) {
    map->release();
    throw;
  }
  SyncView* view = openSyncView(state, map, id, key, value, isCache);
  napi_value result;
  napi_create_array_with_length(env, 2, &result);
  napi_set_element(env, result, 0, numberValue(env, view->handle));
  napi_set_element(env, result, 1, numberValue(env, id));
  return result;
}

// The arguments of an attach, (id, keyKind, valueKind) in argv[0..2], and a registry
// reference of the map they name: nullptr, with a TypeError or ERR_GOMAP_CLOSED pending,
// when the id is not a number, a kind is unknown or not the map's, or no map is live.
inline ConcurrentMap* attachSyncMap(napi_env env, const napi_value* argv, const SyncOwner& who, double* id,
                                    SyncKind* key, SyncKind* value) {
  if (napi_get_value_double(env, argv[0], id) != napi_ok) {
    throwTypeError(env, std::string(who.name) + " handle id must be a number, got " + describeType(env, argv[0]));
    return nullptr;
  }
  if (!readSyncKind(env, argv[1], true, who, key) || !readSyncKind(env, argv[2], false, who, value)) return nullptr;
  ConcurrentMap* map = nullptr;
  SyncKind actualKey = *key, actualValue = *value;
  switch (SyncRegistry::global().attach(*id, *key, *value, &map, &actualKey, &actualValue)) {
    case SyncRegistry::Attach::kOk:
      return map;
    case SyncRegistry::Attach::kGone:
      if (!exceptionPending(env)) {
        const std::string message = std::string(who.name) + " handle names no live " + who.noun +
                                    ": every view of that " + who.noun +
                                    " was closed before this attach (keep a view open until the other threads "
                                    "have attached), or the handle is forged";
        napi_throw_error(env, "ERR_GOMAP_CLOSED", message.c_str());
      }
      return nullptr;
    case SyncRegistry::Attach::kWrongKinds:
      throwTypeError(env, std::string(who.name) + " handle says key kind '" + syncKindName(*key) +
                              "' and value kind '" + syncKindName(*value) + "', but the " + who.noun +
                              " has key kind '" + syncKindName(actualKey) + "' and value kind '" +
                              syncKindName(actualValue) + "'");
      return nullptr;
  }
  return nullptr;
}

// The SyncEnv of a fast call, which has no arguments: the thread's, else the callback data.
inline SyncEnv* fastCallEnv(napi_env env, napi_callback_info info) {
  SyncEnv* state = SyncEnv::of(env);
  if (state == nullptr) {
    void* data = nullptr;
    size_t argc = 0;
    napi_get_cb_info(env, info, &argc, nullptr, nullptr, &data);
    state = static_cast<SyncEnv*>(data);
  }
  return state;
}

// The key of a fast call (I/O cell 1) as a blob of the view's key kind; false when the
// view's keys are not 'f64' / 'i64' (the façade never makes that call).
inline bool fastCallKey(SyncEnv* state, const SyncView* view, Blob* out) {
  const uint64_t* io = state->io();
  if (view->key == SyncKind::kF64) {
    *out = wordBlob(kTagNumber, f64KeyBits(bitsToF64(io[kIoKey])), state->keyScratch);
  } else if (view->key == SyncKind::kI64) {
    *out = wordBlob(kTagBigInt, io[kIoKey], state->keyScratch);
  } else {
    return false;
  }
  return true;
}

// Appends entries to a flat JS array, [k0, v0, k1, v1, ...] ([k0, k1, ...] when keysOnly).
// A conversion that fails sets `failed` (an exception is pending) and ignores the rest.
struct FlatEntries {
  napi_env env;
  napi_value out;
  SyncKind keyKind, valueKind;
  bool keysOnly;
  uint32_t index = 0;
  bool failed = false;
  // Whether the entry was added.
  bool add(const Blob& k, const Blob& v) {
    if (failed) return false;
    napi_value jk = syncBlobToJs(env, keyKind, k);
    napi_value jv = keysOnly ? nullptr : syncBlobToJs(env, valueKind, v);
    if (jk == nullptr || (!keysOnly && jv == nullptr)) {
      failed = true;
      return false;
    }
    napi_set_element(env, out, index++, jk);
    if (!keysOnly) napi_set_element(env, out, index++, jv);
    return true;
  }
};

}  // namespace gomap::addon
