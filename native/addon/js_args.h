// Argument readers shared by the GoMap, SyncMap and GoCache functions: the elements of a
// JS array, a key / value kind name, and an optional hash seed. Each throws a TypeError naming its owner
// ("GoMap", "SyncMap", "GoCache") and the argument, and returns false, on bad input.
#pragma once

#include <node_api.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/go_map.h"  // MapOptions
#include "errors.h"

namespace gomap::addon {

// The elements of a JS array (reading them may run JS: do it before using a map).
inline bool readArray(napi_env env, napi_value array, const char* owner, const char* what,
                      std::vector<napi_value>* out) {
  bool isArray = false;
  if (napi_is_array(env, array, &isArray) != napi_ok || !isArray) {
    throwTypeError(env, std::string(owner) + " " + what + " must be an array, got " + describeType(env, array));
    return false;
  }
  uint32_t n = 0;
  if (napi_get_array_length(env, array, &n) != napi_ok) return false;
  out->resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (napi_get_element(env, array, i, &(*out)[i]) != napi_ok) {
      if (!exceptionPending(env)) throwTypeError(env, std::string(owner) + " " + what + " could not be read");
      return false;
    }
  }
  return true;
}

// The kind names a GoMap / GoCache is created with, in the index order of the factories
// ('json' and 'v8' values arrive as 'string' / 'bytes': the façade encodes them).
inline constexpr const char* kCreateKindNames[] = {"f64", "i64", "string", "bytes", "any"};

// Reads a kind name ("key" / "value" kind, per `what`) as its index in kCreateKindNames.
inline bool readKindIndex(napi_env env, napi_value value, const char* owner, const char* what, int* out) {
  char buf[16];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, buf, sizeof buf, &len) == napi_ok) {
    for (int i = 0; i < static_cast<int>(sizeof kCreateKindNames / sizeof kCreateKindNames[0]); ++i) {
      if (std::strcmp(buf, kCreateKindNames[i]) == 0) {
        *out = i;
        return true;
      }
    }
  }
  throwTypeError(env, std::string(owner) + " " + what + " kind must be one of 'f64', 'i64', 'string', 'bytes', 'any'");
  return false;
}

// The optional seed argument argv[i] (a bigint; missing or undefined: a random seed):
// sets options->seed to its low 64 bits (the façade checks the range) and fixedSeed.
inline bool readSeed(napi_env env, size_t argc, const napi_value* argv, size_t i, const char* owner,
                     MapOptions* options) {
  napi_valuetype type = napi_undefined;
  if (argc > i) napi_typeof(env, argv[i], &type);
  if (type == napi_undefined) return true;
  uint64_t seed = 0;
  bool lossless = false;
  if (napi_get_value_bigint_uint64(env, argv[i], &seed, &lossless) != napi_ok) {
    throwTypeError(env, std::string(owner) + " seed must be a bigint, got " + describeType(env, argv[i]));
    return false;
  }
  options->seed = seed;
  options->fixedSeed = true;
  return true;
}

}  // namespace gomap::addon
