// The sources of wasm/gomap.wasm and wasm/gomap-threads.wasm and their hash (shared by
// scripts/build-wasm.mjs, which writes the hash beside each .wasm, and
// test/wasm-build.test.ts, which checks both). Both modules have the same hash: one
// build script builds both from one tree.
//
// The hash covers every file under native/core and native/wasm plus the build script,
// sorted by path, each as `path \0 contents \0`: renaming, adding, removing or editing
// any of them changes it; timestamps and the machine do not.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Directories whose every file is a source of the .wasm, and single source files. */
export const WASM_SOURCE_DIRS = ['native/core', 'native/wasm'];
export const WASM_SOURCE_FILES = ['scripts/build-wasm.mjs'];

/**
 * .cc files that the single-thread build (wasm/gomap.wasm: GoMap and GoCache) does not
 * compile (still hashed): SyncMap's concurrent map and epochs, and the threads build's
 * own exports and allocator.
 */
export const WASM_EXCLUDED_SOURCES = [
  'native/core/concurrent_map.cc',
  'native/core/epoch.cc',
  'native/core/shared_cache.cc',
  'native/wasm/shared_cache_exports.cc',
  'native/wasm/sync_exports.cc',
  'native/wasm/threads_heap.cc',
  'native/wasm/thread_liveness.cc',
];

/**
 * The .cc files of the threads build (wasm/gomap-threads.wasm: SyncMap over a shared
 * memory). Every other .cc of native/core and native/wasm is left out of it.
 */
export const THREADS_WASM_SOURCES = [
  'native/core/alloc.cc',
  'native/core/concurrent_map.cc',
  'native/core/epoch.cc',
  'native/core/hash.cc',
  'native/core/random.cc',
  'native/core/shared_cache.cc',
  'native/wasm/runtime.cc',
  'native/wasm/shared_cache_exports.cc',
  'native/wasm/sync_exports.cc',
  'native/wasm/threads_heap.cc',
  'native/wasm/thread_liveness.cc',
];

/** Where the build writes its output (relative to the package root). */
export const WASM_FILE = 'wasm/gomap.wasm';
export const WASM_HASH_FILE = 'wasm/gomap.wasm.sources-sha256';
export const THREADS_WASM_FILE = 'wasm/gomap-threads.wasm';
export const THREADS_WASM_HASH_FILE = 'wasm/gomap-threads.wasm.sources-sha256';

function listFiles(root, dir) {
  const out = [];
  for (const name of readdirSync(join(root, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) out.push(...listFiles(root, rel));
    else out.push(rel);
  }
  return out;
}

/** Every source file of the .wasm, relative to `root`, sorted. */
export function wasmSourceFiles(root) {
  const files = [...WASM_SOURCE_DIRS.flatMap((d) => listFiles(root, d)), ...WASM_SOURCE_FILES];
  return files.sort();
}

/** The hex SHA-256 of the .wasm's sources under `root`. */
export function wasmSourcesHash(root) {
  const h = createHash('sha256');
  for (const rel of wasmSourceFiles(root)) {
    h.update(rel);
    h.update('\0');
    h.update(readFileSync(join(root, rel)));
    h.update('\0');
  }
  return h.digest('hex');
}
