#include "testing.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/alloc.h"
#include "errors.h"

namespace gomap::addon {

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

// failNthAllocation(n): the core allocation n calls from now fails (1: the next one),
// once; 0 disarms. n must be an integer from 0 to 2^53 - 1.
napi_value FailNthAllocation(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {nullptr};
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  double n = 0;
  if (argc < 1 || napi_get_value_double(env, argv[0], &n) != napi_ok) {
    return throwTypeError(env, "__testing.failNthAllocation(n) needs a number, got " + describeType(env, argv[0]));
  }
  if (!(n >= 0 && n <= kMaxSafeInteger) || std::floor(n) != n) {
    return throwRangeError(env, "__testing.failNthAllocation(n) needs an integer from 0 to 2^53 - 1");
  }
  failNthAllocation(static_cast<uint64_t>(n));
  return nullptr;
}

// allocationCount() -> core allocations attempted so far in this process.
napi_value AllocationCount(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_double(env, static_cast<double>(allocationCount()), &result);
  return result;
}

}  // namespace

bool testingRequested() {
  const char* v = std::getenv("GOMAP_TESTING");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

napi_status defineTestingFunctions(napi_env env, napi_value exports) {
  napi_value testing, fn;
  napi_status s = napi_create_object(env, &testing);
  if (s != napi_ok) return s;
  if ((s = napi_create_function(env, "failNthAllocation", NAPI_AUTO_LENGTH, FailNthAllocation, nullptr, &fn)) != napi_ok)
    return s;
  if ((s = napi_set_named_property(env, testing, "failNthAllocation", fn)) != napi_ok) return s;
  if ((s = napi_create_function(env, "allocationCount", NAPI_AUTO_LENGTH, AllocationCount, nullptr, &fn)) != napi_ok)
    return s;
  if ((s = napi_set_named_property(env, testing, "allocationCount", fn)) != napi_ok) return s;
  return napi_set_named_property(env, exports, "__testing", testing);
}

}  // namespace gomap::addon
