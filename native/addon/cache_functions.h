// The cache* functions of the addon (GoCache's binding), defined beside GoMap's own.
#pragma once

#include <node_api.h>

namespace gomap::addon {

// Defines cacheCreate, cacheGet, ... and cacheIo on `exports`.
napi_status defineCacheFunctions(napi_env env, napi_value exports);

}  // namespace gomap::addon
