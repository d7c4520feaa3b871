/**
 * V8 flags the WebAssembly engine sets for itself: each one turns off a V8 feature that,
 * in Node 20 (V8 11.3), breaks this package's modules, with what was measured. V8 flags are
 * process-wide; each is set once, before the code it protects is compiled, and never set
 * back (code compiled later, in any thread, must not get the broken feature either).
 *
 * @module
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Turns off V8's inlining of JS-to-WebAssembly calls into optimized JS code (the
 * `--turbo-inline-js-wasm-calls` optimization). With it, Node 20 (V8 11.3) crashes the
 * process with a segmentation fault once the binding's functions are optimized under a
 * mix of map kinds (found by this package's test suite; reproduced outside vitest). The
 * crash needs the inlined call to sit inside a try/catch block (the binding catches
 * traps around every call): without the try/catch, or with this flag off, or with
 * TurboFan off, it is gone. Measured cost of the flag: about 5% of a get (the call is
 * not what dominates). Set once, before any of the binding's functions can be optimized.
 */
export function avoidInlinedWasmCalls(): void {
  setFlagsFromString('--no-turbo-inline-js-wasm-calls');
}

let liftoffOff = false;

/**
 * Turns off Liftoff, V8's baseline WebAssembly compiler (`--no-liftoff`): every wasm
 * function is then compiled by TurboFan, the optimizing compiler, on its first call.
 * Set before the threads module (wasm/gomap-threads.wasm, the SyncMap engine) is compiled.
 *
 * Why: with Liftoff's code, the threads module's lock (native/core/lock.h, a futex word
 * taken with `i32.atomic.rmw.cmpxchg`) lets two threads in at once under contention, in
 * Node 20 (V8 11.3.244) on x64. The same module, the same tests, compiled by TurboFan
 * never did. Measured on a 2-core machine, 4 threads, runs that lost updates:
 *
 * - test/wasm-syncmap.lock.test.ts (50,000 locked increments per thread, an "inside"
 *   flag checked on the way in): collisions in 4 of 4 runs with GOMAP_TESTING_KEEP_LIFTOFF=1
 *   (Liftoff kept), 0 of 4 with this function; the same stress in a standalone probe:
 *   lost increments in 5 of 6 runs with `--liftoff --no-wasm-tier-up`, 0 of 8 with
 *   `--no-liftoff`;
 * - 4 workers writing 5,000 disjoint keys each into one SyncMap: 16 of 60 runs with
 *   default flags (always the first round of a process, while functions still run their
 *   Liftoff code), 10 of 40 with Liftoff only, 0 of 40 with `--no-liftoff`.
 *
 * The wasm bytes of the lock are those clang emits for any futex lock and the
 * disassembly matches the source; whether Liftoff itself or its interaction with
 * `memory.atomic.wait32` is at fault was not pinned down (README, Engines).
 *
 * Cost: the process compiles every WebAssembly function (also the user's own, and
 * this package's single-threaded module) with TurboFan only: slower to compile on first
 * call, as fast or faster when running.
 */
export function avoidLiftoff(): void {
  if (liftoffOff) return;
  liftoffOff = true;
  if (process.env.GOMAP_TESTING_KEEP_LIFTOFF === '1') return; // to show the failure it prevents
  setFlagsFromString('--no-liftoff');
}
