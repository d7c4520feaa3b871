/**
 * The memory layout lib/wasm/sync-binding.ts (SyncMap) and lib/wasm/shared-cache-binding.ts
 * (shared GoCache) share with the threads module (native/wasm/sync_thread.h): the thread's
 * I/O area, result codes, kind codes, and the cells of the façade's I/O area.
 *
 * @module
 */
import type { SyncKeyKind, SyncValueKind } from '../sync-binding.ts';

// Layout of the thread's I/O area (SyncIo in native/wasm/sync_thread.h).
export const ARG_BYTES = 24;
export const IO_KEY = 0;
export const IO_VALUE = 24;
export const IO_OLD = 48;
export const IO_OUT = 72;
export const IO_STATS = 96;
export const IO_AUX = 192;
export const RESULT_NO_MEMORY = -1;
export const RESULT_TOO_LARGE = -2;
/** What gomap_sync_attach returns when it could not record the view (out of memory). */
export const ATTACH_NO_MEMORY = 2;

// Kind codes (the module stores them for attach's check only).
export const KEY_CODES: Record<SyncKeyKind, number> = { f64: 0, i64: 1, string: 2, bytes: 3 };
export const VALUE_CODES: Record<SyncValueKind, number> = { f64: 0, i64: 1, string: 2, bytes: 3, json: 4, v8: 5 };
export const KIND_NAMES = ['f64', 'i64', 'string', 'bytes', 'json', 'v8'] as const;
export const K_F64 = 0;
export const K_I64 = 1;
export const K_STRING = 2;
export const K_BYTES = 3;
export const K_JSON = 4;

// Cells of the façade's I/O area (lib/sync-map.ts).
export const CELL_HANDLE = 0;
export const CELL_KEY = 1;
export const CELL_VALUE = 2;
export const CELL_RESULT = 3;

// Words of a gomap shared memory below the module's data (which starts at 1024): bytes
// 0..3 the magic, 8..15 the memory's id (sync-binding.ts), 16..19 the watcher word
// (sync-watcher.ts WATCHER_WORD), 24..31 flags of the terminate tests, 32..39 the clock.
/**
 * Float64 index (byte 32) of the memory's clock origin (`performance.timeOrigin + now()`
 * when its creator made it): shared GoCaches of the memory read their time as ms since
 * then, in every thread (lib/wasm/shared-cache-binding.ts).
 */
export const MEMORY_CLOCK_INDEX = 4;
