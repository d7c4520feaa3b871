// JavaScript errors thrown by the binding, and the words they use.
//
// Every error the addon throws is one of three kinds (API.md "Errors"):
//   TypeError  (code ERR_INVALID_ARG_TYPE)  a key, value or argument of the wrong type;
//   RangeError (code ERR_OUT_OF_RANGE)      a size beyond the limits, or memory that cannot
//                                           be allocated (code ERR_GOMAP_NO_MEMORY);
//   Error      (code ERR_GOMAP_CLOSED)      a handle that names no live map.
// Each helper throws and returns nullptr, so a callback can `return throwX(...)`. Messages
// name what was expected and what was received, e.g.
//   "GoMap key must be a bigint for key kind 'i64', got number".
#pragma once

#include <node_api.h>

#include <string>

#include "core/status.h"

namespace gomap::addon {

// What a JS value is, for messages: "number", "null", "array", "Float64Array", ...
std::string describeType(napi_env env, napi_value value);

napi_value throwTypeError(napi_env env, const std::string& message);
napi_value throwRangeError(napi_env env, const std::string& message);
napi_value throwClosed(napi_env env);
// A failed core Status: RangeError (kTooLarge, kNoMemory), naming what was attempted.
napi_value throwStatus(napi_env env, Status status, const char* what);

// "GoMap key must be <expected> for key kind '<kind>', got <type>" (role: "key"/"value").
napi_value throwWrongKind(napi_env env, const char* role, const char* expected, const char* kind,
                          napi_value received);
// "GoMap key of <n> bytes is over the 1 GiB limit (kind '<kind>')".
napi_value throwTooLong(napi_env env, const char* role, const char* kind, uint64_t bytes);

// Whether a JS exception is pending (after a failed napi call).
bool exceptionPending(napi_env env);

}  // namespace gomap::addon
