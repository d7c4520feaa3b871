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
// What only the WebAssembly engine has: the allocation-failure and trap hooks of lib/wasm/,
// and the SyncMap module's own machinery (its allocator, its lock, terminate() safety of
// wasm code, for SyncMap and shared GoCache: native code cannot be stopped mid-write).
const WASM_ONLY = ['test/wasm-engine.test.ts', 'test/wasm-syncmap.*.test.ts', 'test/wasm-scache.*.test.ts'];
// What the WebAssembly engine does not have: syncmap.external-memory: V8 external-memory
// accounting is the addon's; wasm memory is a SharedArrayBuffer V8 already counts.
const NATIVE_ONLY: string[] = ['test/syncmap.external-memory.test.ts'];

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
          exclude: [...ENGINE_FREE, ...WASM_ONLY],
          env: { GOMAP_BACKEND: 'native' },
        },
      },
      {
        extends: true,
        test: {
          name: 'wasm',
          include: ['test/**/*.test.ts'],
          exclude: [...ENGINE_FREE, ...NATIVE_ONLY],
          env: { GOMAP_BACKEND: 'wasm' },
        },
      },
      {
        extends: true,
        test: { name: 'build', include: ENGINE_FREE },
      },
    ],
  },
});
