// A table of addon functions ({name, callback}) defined as properties of `exports`, each
// created with the same callback data (the addon's per-environment state it serves).
#pragma once

#include <node_api.h>

#include <cstddef>

namespace gomap::addon {

struct FunctionEntry {
  const char* name;
  napi_callback fn;
};

template <size_t N>
napi_status defineFunctionTable(napi_env env, napi_value exports, const FunctionEntry (&entries)[N], void* data) {
  for (const FunctionEntry& e : entries) {
    napi_value fn;
    napi_status status = napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.fn, data, &fn);
    if (status != napi_ok) return status;
    status = napi_set_named_property(env, exports, e.name, fn);
    if (status != napi_ok) return status;
  }
  return napi_ok;
}

}  // namespace gomap::addon
