// The functions the addon exports to lib/binding.ts (raw Node-API callbacks).
//
// Flat and positional on purpose: a map is named by its numeric handle, keys and values
// are plain JS values, results are numbers, booleans, strings, bigints, Buffers or flat
// arrays. The hot calls (get, set, has, delete) use raw Node-API: one napi_get_cb_info,
// one handle lookup, one virtual call into the map's TypedMap. Every callback gets the
// AddonState as its callback data.
#pragma once

#include <node_api.h>

namespace gomap::addon {

class AddonState;

// Defines every exported function on `exports`.
napi_status defineFunctions(napi_env env, napi_value exports, AddonState* state);

}  // namespace gomap::addon
