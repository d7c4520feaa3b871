/**
 * The committed WebAssembly build (wasm/gomap.wasm) matches its sources.
 *
 * The .wasm ships in the package and is not rebuilt by `npm ci` or CI (they need no
 * wasm toolchain), so this test is what catches a change to native/core or native/wasm
 * (or to the build script) committed without `npm run build:wasm`: the hash of those
 * sources, computed now, must equal the one the build wrote beside the .wasm.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  THREADS_WASM_FILE,
  THREADS_WASM_HASH_FILE,
  THREADS_WASM_SOURCES,
  WASM_EXCLUDED_SOURCES,
  WASM_FILE,
  WASM_HASH_FILE,
  WASM_SOURCE_DIRS,
  wasmSourceFiles,
  wasmSourcesHash,
} from '../scripts/wasm-sources.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The exports lib/wasm/heap.ts declares (WasmExports). */
const EXPECTED_EXPORTS = [
  'memory',
  '_initialize',
  'gomap_io',
  'gomap_scratch',
  'gomap_create',
  'gomap_destroy',
  'gomap_get',
  'gomap_has',
  'gomap_set',
  'gomap_delete',
  'gomap_get_many',
  'gomap_set_many',
  'gomap_get_many_words',
  'gomap_set_many_words',
  'gomap_get_many_latin1',
  'gomap_set_many_latin1',
  'gomap_clear',
  'gomap_stats',
  'gomap_reserve',
  'gomap_shrink',
  'gomap_iter_start',
  'gomap_iter_next',
  'gomap_iter_end',
  'gomap_fail_nth_allocation',
  'gomap_allocation_count',
  // GoCache (lib/wasm/cache-binding.ts CacheExports)
  'gomap_cache_io',
  'gomap_cache_create',
  'gomap_cache_destroy',
  'gomap_cache_set',
  'gomap_cache_get',
  'gomap_cache_has',
  'gomap_cache_delete',
  'gomap_cache_remaining_ttl',
  'gomap_cache_clear',
  'gomap_cache_purge',
  'gomap_cache_stats',
  'gomap_cache_size',
  'gomap_cache_iter_start',
  'gomap_cache_iter_next',
  'gomap_cache_iter_end',
  'gomap_cache_reports',
  'gomap_cache_reports_clear',
];

/** The exports lib/wasm/sync-binding.ts declares (ThreadsExports). */
const EXPECTED_THREADS_EXPORTS = [
  '__stack_pointer',
  'gomap_sync_boot_lock',
  'gomap_sync_stack',
  'gomap_sync_thread_start',
  'gomap_sync_thread_end',
  'gomap_sync_scratch',
  'gomap_sync_create',
  'gomap_sync_attach',
  'gomap_sync_detach',
  'gomap_sync_live_maps',
  'gomap_sync_get',
  'gomap_sync_has',
  'gomap_sync_size',
  'gomap_sync_set',
  'gomap_sync_delete',
  'gomap_sync_load_or_store',
  'gomap_sync_swap',
  'gomap_sync_compare_and_swap',
  'gomap_sync_compare_and_delete',
  'gomap_sync_set_many',
  'gomap_sync_clear',
  'gomap_sync_stats',
  'gomap_sync_iter_start',
  'gomap_sync_iter_next',
  'gomap_sync_iter_end',
  'gomap_sync_fail_nth_allocation',
  'gomap_sync_collect',
  'gomap_sync_pending',
  'gomap_sync_heap_pages',
  'gomap_sync_self',
  'gomap_sync_claim_id',
  'gomap_sync_take_broken',
  'gomap_sync_thread_renew',
  'gomap_sync_release_dead',
  'gomap_sync_testing_hold_write_lock',
  'gomap_sync_testing_heap_stress',
  'gomap_sync_testing_lock_stress',
  'gomap_sync_testing_lock_count',
  'gomap_scache_create',
  'gomap_scache_limits',
  'gomap_scache_get',
  'gomap_scache_has',
  'gomap_scache_remaining_ttl',
  'gomap_scache_size',
  'gomap_scache_stats',
  'gomap_scache_entries',
  'gomap_scache_set',
  'gomap_scache_delete',
  'gomap_scache_sweep',
];

interface WasmModuleApi {
  Module: {
    new (bytes: Uint8Array): object;
    imports(m: object): { module: string; name: string; kind: string }[];
    exports(m: object): { name: string }[];
  };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmModuleApi }).WebAssembly;

describe('wasm/gomap.wasm', () => {
  it('was built from the sources in this tree (else: run `npm run build:wasm` and commit the result)', () => {
    expect(existsSync(join(root, WASM_FILE)), `${WASM_FILE} is missing`).toBe(true);
    const recorded = readFileSync(join(root, WASM_HASH_FILE), 'utf8').trim();
    expect(recorded, `${WASM_FILE} is stale: native/core, native/wasm or scripts/build-wasm.mjs changed since it was built; run \`npm run build:wasm\``).toBe(
      wasmSourcesHash(root),
    );
  });

  it('imports nothing and exports what lib/wasm expects', () => {
    const module = new wasmApi.Module(readFileSync(join(root, WASM_FILE)));
    expect(wasmApi.Module.imports(module)).toEqual([]);
    expect(wasmApi.Module.exports(module).map((e) => e.name).sort()).toEqual([...EXPECTED_EXPORTS].sort());
  });

  it('the source list covers every file of native/core and native/wasm, and the build script', () => {
    const files = wasmSourceFiles(root);
    for (const dir of WASM_SOURCE_DIRS) {
      expect(files.filter((f) => f.startsWith(`${dir}/`)).length, dir).toBeGreaterThan(0);
    }
    expect(files).toContain('native/core/go_map.h');
    expect(files).toContain('native/wasm/exports.cc');
    expect(files).toContain('scripts/build-wasm.mjs');
    expect(files).toEqual([...files].sort());
  });

  it('the hash changes with any edit, addition or removal of a source file, and with nothing else', () => {
    const copy = mkdtempSync(join(tmpdir(), 'gomap-wasm-hash-'));
    try {
      for (const dir of [...WASM_SOURCE_DIRS, 'scripts']) cpSync(join(root, dir), join(copy, dir), { recursive: true });
      const base = wasmSourcesHash(copy);
      expect(base).toBe(wasmSourcesHash(root));
      writeFileSync(join(copy, 'README-unrelated.md'), 'not a source');
      expect(wasmSourcesHash(copy), 'a file outside the sources').toBe(base);
      const file = join(copy, 'native/core/hash.cc');
      const text = readFileSync(file, 'utf8');
      writeFileSync(file, `${text}\n`);
      expect(wasmSourcesHash(copy), 'an edit').not.toBe(base);
      writeFileSync(file, text);
      expect(wasmSourcesHash(copy)).toBe(base);
      writeFileSync(join(copy, 'native/wasm/extra.h'), '');
      expect(wasmSourcesHash(copy), 'an added file').not.toBe(base);
      rmSync(join(copy, 'native/wasm/extra.h'));
      rmSync(join(copy, 'native/core/status.h'));
      expect(wasmSourcesHash(copy), 'a removed file').not.toBe(base);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('wasm/gomap-threads.wasm (SyncMap on the WebAssembly engine)', () => {
  it('was built from the sources in this tree (else: run `npm run build:wasm` and commit the result)', () => {
    expect(existsSync(join(root, THREADS_WASM_FILE)), `${THREADS_WASM_FILE} is missing`).toBe(true);
    const recorded = readFileSync(join(root, THREADS_WASM_HASH_FILE), 'utf8').trim();
    expect(recorded, `${THREADS_WASM_FILE} is stale: run \`npm run build:wasm\``).toBe(wasmSourcesHash(root));
  });

  it('imports only its shared memory and exports what lib/wasm/sync-binding.ts expects', () => {
    const module = new wasmApi.Module(readFileSync(join(root, THREADS_WASM_FILE)));
    expect(wasmApi.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(wasmApi.Module.exports(module).map((e) => e.name).sort()).toEqual([...EXPECTED_THREADS_EXPORTS].sort());
  });

  it('its sources are .cc files of the tree, and the single-thread module leaves out the threads-only ones', () => {
    const files = wasmSourceFiles(root);
    for (const src of THREADS_WASM_SOURCES) expect(files, src).toContain(src);
    expect(WASM_EXCLUDED_SOURCES).toContain('native/wasm/sync_exports.cc');
    expect(WASM_EXCLUDED_SOURCES).toContain('native/wasm/threads_heap.cc');
  });
});
