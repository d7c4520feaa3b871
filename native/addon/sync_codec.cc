#include "sync_codec.h"

#include <string>

namespace gomap::addon {

namespace {

// A string property of an object ("" when it is missing or not a string).
std::string stringProperty(napi_env env, napi_value object, const char* name) {
  napi_value v;
  size_t len = 0;
  if (napi_get_named_property(env, object, name, &v) != napi_ok) return "";
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return "";
  std::string out(len, '\0');
  napi_get_value_string_utf8(env, v, &out[0], len + 1, &len);
  return out;
}

}  // namespace

bool rewordForSyncMap(napi_env env, const char* owner) {
  napi_value error;
  if (napi_get_and_clear_last_exception(env, &error) != napi_ok) return false;
  bool isError = false;
  napi_is_error(env, error, &isError);
  std::string message = isError ? stringProperty(env, error, "message") : "";
  static const char kPrefix[] = "GoMap ";
  if (message.compare(0, sizeof kPrefix - 1, kPrefix) != 0) {
    napi_throw(env, error);  // not one of ours: as it was
    return false;
  }
  message = std::string(owner) + " " + message.substr(sizeof kPrefix - 1);
  const std::string code = stringProperty(env, error, "code");
  if (code == "ERR_INVALID_ARG_TYPE") {
    napi_throw_type_error(env, code.c_str(), message.c_str());
  } else {
    napi_throw_range_error(env, code.empty() ? nullptr : code.c_str(), message.c_str());
  }
  return false;
}

}  // namespace gomap::addon
