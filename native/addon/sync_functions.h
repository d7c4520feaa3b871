// The SyncMap functions the addon exports to lib/sync-binding.ts (raw Node-API
// callbacks; see sync_functions.cc).
#pragma once

#include <node_api.h>

namespace gomap::addon {

// Creates this environment's SyncEnv (freed by its clean-up hook) and defines the
// sync* functions on `exports`. Call it after defineFunctions: the fast calls share the
// thread's I/O area (io_area.h) with GoMap's.
napi_status defineSyncFunctions(napi_env env, napi_value exports);

}  // namespace gomap::addon
