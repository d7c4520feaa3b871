// guardedCall: runs a raw Node-API callback body so that no C++ exception reaches V8.
// std::bad_alloc becomes the RangeError of Status::kNoMemory naming `kCall` (e.g.
// "SyncMap call"); anything else a RangeError "<kCall> failed in native code". Zero cost
// until something throws (exception tables).
//
// A file of callbacks names its call once and registers guarded<Body>:
//   constexpr char kCall[] = "SyncMap call";
//   template <napi_value (*Body)(napi_env, napi_callback_info)>
//   constexpr napi_callback guarded = guardedCall<kCall, Body>;
#pragma once

#include <node_api.h>

#include <new>
#include <string>

#include "errors.h"

namespace gomap::addon {

template <const char* kCall, napi_value (*Body)(napi_env, napi_callback_info)>
napi_value guardedCall(napi_env env, napi_callback_info info) {
  try {
    return Body(env, info);
  } catch (const std::bad_alloc&) {
    return throwStatus(env, Status::kNoMemory, kCall);
  } catch (...) {
    return throwRangeError(env, std::string(kCall) + " failed in native code");
  }
}

}  // namespace gomap::addon
