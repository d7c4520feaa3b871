// The little C++ runtime the WebAssembly build needs, instead of libc++ / libc++abi.
//
// The module is built without exceptions and without the C++ standard library (whose
// prebuilt wasm32 objects would import WASI functions to print abort messages): the
// core only needs nothrow allocation and a pure-virtual-call stub. `new` here never
// throws: it returns nullptr when malloc (memory.grow) fails, which the core and the
// exports already turn into kNoMemory.
#include <cstddef>
#include <cstdlib>
#include <new>

void* operator new(std::size_t bytes, const std::nothrow_t&) noexcept { return std::malloc(bytes == 0 ? 1 : bytes); }
void* operator new[](std::size_t bytes, const std::nothrow_t&) noexcept { return std::malloc(bytes == 0 ? 1 : bytes); }
// Plain `new` is not used by gomap's code; should anything call it, it must not throw.
void* operator new(std::size_t bytes) { return std::malloc(bytes == 0 ? 1 : bytes); }
void* operator new[](std::size_t bytes) { return std::malloc(bytes == 0 ? 1 : bytes); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace std {
const nothrow_t nothrow{};
}  // namespace std

extern "C" void __cxa_pure_virtual() { __builtin_trap(); }

// The module is a library ("reactor"): the host calls _initialize once after instantiating
// it, which runs the static constructors. Defining it also tells lld not to wrap every
// export in a "command" shim that calls the constructors before and the destructors after
// each call (two extra calls on every get).
// (Not in the threads build, wasm/gomap-threads.wasm: its instances share one memory, so
// constructors of its globals must not run once per instance; it has none.)
#if !defined(__wasm_atomics__)
extern "C" void __wasm_call_ctors(void);
extern "C" __attribute__((export_name("_initialize"))) void _initialize(void) { __wasm_call_ctors(); }
#endif
