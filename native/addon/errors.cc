#include "errors.h"

#include "core/blob.h"

namespace gomap::addon {

namespace {

const char* typedArrayName(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "typed array";
  }
}

}  // namespace

std::string describeType(napi_env env, napi_value value) {
  napi_valuetype type;
  if (value == nullptr || napi_typeof(env, value, &type) != napi_ok) return "nothing";
  switch (type) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_symbol: return "symbol";
    case napi_function: return "function";
    case napi_external: return "external";
    case napi_bigint: return "bigint";
    case napi_object: break;
  }
  bool is = false;
  if (napi_is_array(env, value, &is) == napi_ok && is) return "array";
  if (napi_is_typedarray(env, value, &is) == napi_ok && is) {
    napi_typedarray_type t;
    size_t length;
    if (napi_get_typedarray_info(env, value, &t, &length, nullptr, nullptr, nullptr) == napi_ok)
      return typedArrayName(t);
    return "typed array";
  }
  if (napi_is_dataview(env, value, &is) == napi_ok && is) return "DataView";
  if (napi_is_arraybuffer(env, value, &is) == napi_ok && is) return "ArrayBuffer";
  return "object";
}

napi_value throwTypeError(napi_env env, const std::string& message) {
  if (!exceptionPending(env)) napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message.c_str());
  return nullptr;
}

napi_value throwRangeError(napi_env env, const std::string& message) {
  if (!exceptionPending(env)) napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message.c_str());
  return nullptr;
}

napi_value throwClosed(napi_env env) {
  if (!exceptionPending(env))
    napi_throw_error(env, "ERR_GOMAP_CLOSED", "GoMap is closed: it cannot be used after close()");
  return nullptr;
}

napi_value throwStatus(napi_env env, Status status, const char* what) {
  if (exceptionPending(env)) return nullptr;
  if (status == Status::kNoMemory) {
    std::string message = std::string("GoMap ") + what + ": out of memory (the map is unchanged)";
    napi_throw_range_error(env, "ERR_GOMAP_NO_MEMORY", message.c_str());
  } else {
    std::string message = std::string("GoMap ") + what + ": " + statusMessage(status) + " (the map is unchanged)";
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message.c_str());
  }
  return nullptr;
}

napi_value throwWrongKind(napi_env env, const char* role, const char* expected, const char* kind,
                          napi_value received) {
  std::string message = std::string("GoMap ") + role + " must be " + expected + " for " + role + " kind '" +
                        kind + "', got " + describeType(env, received);
  return throwTypeError(env, message);
}

napi_value throwTooLong(napi_env env, const char* role, const char* kind, uint64_t bytes) {
  std::string message = std::string("GoMap ") + role + " of " + std::to_string(bytes) + " bytes is over the " +
                        std::to_string(kMaxBlobLength) + "-byte (1 GiB) limit of " + role + " kind '" + kind +
                        "'";
  return throwRangeError(env, message);
}

bool exceptionPending(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  return pending;
}

}  // namespace gomap::addon
