import { defineConfig } from 'vitest/config';

// Tests load a native addon (build/Release/gomap.node): run each test file in its
// own child process ('forks'), not in worker threads sharing one process, so a
// crash or a leak in native code is confined to that file and worker_threads
// tests start from a clean main thread.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2, // the machines have 2 cores
    testTimeout: 120_000, // heavy tests (20M-entry maps) exist
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
});
