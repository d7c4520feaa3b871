// gomap.node: the Node-API addon (module init).
//
// One addon instance per JS thread (main thread, each worker). Init creates the
// instance's AddonState (maps and iterators by handle), hands it to Node as instance data
// so it is freed with the environment, and defines the exported functions
// (functions.cc) with the state as their callback data.
//
// Files of the addon, one concept each:
//   addon.cc          module init (this file)
//   functions.cc      the exported JS-callable functions: argument handling, dispatch
//   addon_state.cc    per-instance registry of maps and iterators
//   handle_table.h    generation-checked numeric handles
//   io_area.h         the cells shared with JS by the fast calls
//   map_binding.h     the type-erased map interface and the return-value protocol
//   typed_map.h       MapBinding over GoMap<K, V> for one key kind x value kind
//   map_factory*.cc   the 25 instantiations, split in two files to compile in parallel
//   key_codec.*       JS keys <-> core key views, per key kind
//   value_codec.h     JS values <-> core value views, per value kind
//   js_string.*       JS strings <-> canonical Latin-1 / UTF-16 blobs
//   batch.h           converted keys/values of getMany / setMany
//   packed.*          typed-array / joined-string batches and iteration
//   errors.*          TypeError / RangeError / ERR_GOMAP_CLOSED, with their messages
//   sync_functions.cc the SyncMap functions (shared maps), sync_env.* per-thread views
//                     and EBR record, sync_registry.* the process-global map registry,
//                     sync_codec.h SyncMap keys / values <-> blobs
//   testing.*         `__testing` (allocation-failure hooks), only with GOMAP_TESTING=1
//   cache_*           GoCache: cache_functions.cc (its exported calls and registry),
//                     cache_binding.h (TypedCache over the core Cache), cache_factory.cc
//   shared_cache_functions.cc  shared GoCache (`shared: true`): views of a core
//                     SharedCache through the SyncMap registry and views
#include <napi.h>

#include "addon_state.h"
#include "cache_functions.h"
#include "shared_cache_functions.h"
#include "functions.h"
#include "sync_functions.h"
#include "testing.h"

namespace {

void freeState(napi_env, void* data, void*) { delete static_cast<gomap::addon::AddonState*>(data); }

// Init fails when the environment is shutting down (a worker terminated while it loads
// the addon): every Node-API call then fails. Throw with raw Node-API, which reports
// failure instead of throwing a C++ exception (a Napi::Error thrown there escapes the
// module wrapper and aborts the process).
Napi::Object failInit(Napi::Env env, Napi::Object exports, const char* message) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && !pending) napi_throw_error(env, nullptr, message);
  return exports;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* state = new gomap::addon::AddonState(env);
  if (napi_set_instance_data(env, state, freeState, nullptr) != napi_ok) {
    delete state;
    return failInit(env, exports, "gomap: could not set the addon's instance data");
  }
  if (gomap::addon::defineFunctions(env, exports, state) != napi_ok) {
    return failInit(env, exports, "gomap: could not define the addon's functions");
  }
  if (gomap::addon::defineSyncFunctions(env, exports) != napi_ok) {
    return failInit(env, exports, "gomap: could not define the addon's SyncMap functions");
  }
  if (gomap::addon::testingRequested() && gomap::addon::defineTestingFunctions(env, exports) != napi_ok) {
    return failInit(env, exports, "gomap: could not define the test-only functions");
  }
  if (gomap::addon::defineCacheFunctions(env, exports) != napi_ok) {
    return failInit(env, exports, "gomap: could not define the addon's cache functions");
  }
  if (gomap::addon::defineSharedCacheFunctions(env, exports) != napi_ok) {
    return failInit(env, exports, "gomap: could not define the addon's shared cache functions");
  }
  return exports;
}

}  // namespace

NODE_API_MODULE(gomap, Init)
