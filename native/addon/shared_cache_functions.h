// The shared GoCache functions of the addon (shared_cache_functions.cc).
#pragma once

#include <node_api.h>

namespace gomap::addon {

// Defines the scache* functions on `exports`. Call after defineSyncFunctions: they use
// the thread's SyncEnv (views, EBR record, scratch) that it creates.
napi_status defineSharedCacheFunctions(napi_env env, napi_value exports);

}  // namespace gomap::addon
