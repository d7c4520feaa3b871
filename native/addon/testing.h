// Test-only entry points of the addon: the allocation-failure hooks of native/core/alloc.h.
//
// They exist on the exports as `__testing` ({ failNthAllocation(n), allocationCount() })
// only when the environment variable GOMAP_TESTING is exactly "1" at the moment the addon
// is loaded (module init), so production code never reaches them by accident: the
// public types do not mention them, and a process that did not opt in at start-up does
// not have them at all. The vitest suite (test/hardening.alloc-failure.test.ts) sets the
// variable before it loads gomap, then sweeps "fail the Nth allocation" over a workload.
#pragma once

#include <node_api.h>

namespace gomap::addon {

// Whether GOMAP_TESTING=1 is set in this process's environment now.
bool testingRequested();

// Defines exports.__testing. Returns napi_ok or the failing call's status.
napi_status defineTestingFunctions(napi_env env, napi_value exports);

}  // namespace gomap::addon
