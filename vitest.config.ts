import { defineConfig } from 'vitest/config';

// Tests load a native addon (build/Release/gomap.node): run each test file in its
// own child process ('forks'), not in worker threads sharing one process, so a
// crash or a leak in native code is confined to that file and worker_threads
// tests start from a clean main thread.
//
// The behavioural suite runs once per engine: one project per engine, each with
// GOMAP_BACKEND set for its test processes (test/helpers/backends.ts; a process loads
// one engine). `npx vitest run` runs both; `npx vitest run --project wasm` one of them.
// Files that test no engine (the build descriptions, the committed .wasm) run once, in
// the 'build' project.
const ENGINE_FREE = ['test/build-files.test.ts', 'test/wasm-build.test.ts'];
// What only the WebAssembly engine has (allocation-failure and trap hooks of lib/wasm/).
const WASM_ONLY = ['test/wasm-engine.test.ts'];
// Features the WebAssembly engine does not have yet (their constructors throw there, see
// requireNativeEngine in lib/backend.ts): their test files run in the native project only,
// Each such feature has a test, in both projects, that the wasm engine refuses it with
// ERR_GOMAP_NATIVE_ONLY (test/engine-features.test.ts). GoCache runs on both engines,
// except shared caches (gocache.shared*: SyncMap-backed, native only).
const NATIVE_ONLY: string[] = ['test/syncmap.*.test.ts', 'test/gocache.shared*.test.ts'];
// SyncMap on the WebAssembly engine (lib/wasm/sync-binding.ts) is experimental: reachable
// only with GOMAP_EXPERIMENTAL_WASM_SYNCMAP=1. The 'wasm-syncmap' project runs the SyncMap
// suite on it with that switch, syncmap.chaos included (terminate() at random moments:
// a worker that dies holding a lock is detected by the watcher, lib/wasm/sync-watcher.ts).
// Not there: syncmap.external-memory (V8 external-memory accounting is the addon's; wasm
// memory is a SharedArrayBuffer V8 already counts).
const WASM_SYNCMAP = ['test/syncmap.*.test.ts', 'test/engine-features.test.ts', 'test/wasm-syncmap.*.test.ts'];
// What only the WebAssembly SyncMap has (terminate() safety of wasm code: native code
// cannot be stopped mid-write): the 'wasm-syncmap' project only.
const WASM_SYNCMAP_ONLY = ['test/wasm-syncmap.*.test.ts'];
const WASM_SYNCMAP_EXCLUDED = ['test/syncmap.external-memory.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2, // the machines have 2 cores
    testTimeout: 120_000, // heavy tests (20M-entry maps) exist
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'native',
          include: ['test/**/*.test.ts'],
          exclude: [...ENGINE_FREE, ...WASM_ONLY, ...WASM_SYNCMAP_ONLY],
          env: { GOMAP_BACKEND: 'native' },
        },
      },
      {
        extends: true,
        test: {
          name: 'wasm',
          include: ['test/**/*.test.ts'],
          exclude: [...ENGINE_FREE, ...NATIVE_ONLY, ...WASM_SYNCMAP_ONLY],
          env: { GOMAP_BACKEND: 'wasm' },
        },
      },
      {
        extends: true,
        test: {
          name: 'wasm-syncmap',
          include: WASM_SYNCMAP,
          exclude: WASM_SYNCMAP_EXCLUDED,
          env: { GOMAP_BACKEND: 'wasm', GOMAP_EXPERIMENTAL_WASM_SYNCMAP: '1' },
        },
      },
      {
        extends: true,
        test: { name: 'build', include: ENGINE_FREE },
      },
    ],
  },
});
