/**
 * The raw SyncMap functions of the native addon (native/addon/sync_functions.cc), as the
 * `SyncMap` façade calls them. Not part of the public API.
 *
 * A view (one `SyncMap` object in one thread) is named by a view handle: an integer
 * >= 2^32 that only the thread that opened it can use (a closed or forged one throws
 * `ERR_GOMAP_CLOSED`; the façade uses 0 for "closed"). The shared map itself is named by
 * its id, which `SyncMap.attach` passes to {@link SyncBinding.syncAttach} in any thread.
 * Keys and values are plain JS values of the map's kinds; `'json'` / `'v8'` values cross
 * already encoded (a string / a Buffer). A result of `undefined` always means "no value":
 * no stored value is ever `undefined`.
 *
 * @module
 */
import { join } from 'node:path';
import { backend, binding, packageRoot } from './backend.ts';
import type { MapStats } from './binding.ts';
import type { KeyKind, ValueKind } from './kinds.ts';
import { createWasmSyncBinding } from './wasm/sync-binding.ts';

/** The key kinds a SyncMap can have (keys are copied into native memory). */
export type SyncKeyKind = Exclude<KeyKind, 'any'>;
/** The value kinds a SyncMap can have (values are stored encoded; reads return copies). */
export type SyncValueKind = Exclude<ValueKind, 'any'>;

/** A view handle (0: closed). */
export type SyncViewHandle = number;

/** A batch of packed iteration (see {@link SyncBinding.syncIterNextPacked}). */
export type SyncPackedBatch = [
  count: number,
  finished: boolean,
  keys: Float64Array | BigInt64Array | Uint32Array,
  values: Float64Array | BigInt64Array | Uint32Array | undefined,
  keyText: string | undefined,
  valueText: string | undefined,
];

/** A native iterator handle of one view. */
export type SyncIteratorHandle = number;

export interface SyncBinding {
  /** A new shared map and a first view of it: `[view, id]`. */
  syncCreate(key: SyncKeyKind, value: SyncValueKind, hint: number, seed?: bigint): [view: SyncViewHandle, id: number];
  /**
   * A new view of the map `id` names. Throws `ERR_GOMAP_CLOSED` when no live map has that
   * id (every view was closed), a TypeError when its kinds are not `key` / `value`.
   */
  syncAttach(id: number, key: SyncKeyKind, value: SyncValueKind, memory?: unknown): SyncViewHandle;
  /**
   * WebAssembly engine only: the shared `WebAssembly.Memory` of a view's map, which its
   * handle carries to other threads (`handle.memory`).
   */
  syncMemory?(v: SyncViewHandle): unknown;
  /** Ends a view (and its iterators); false when it was closed already. Never throws for that. */
  syncClose(v: SyncViewHandle): boolean;
  /** The value, or undefined when absent. */
  syncGet(v: SyncViewHandle, key: unknown): unknown;
  syncHas(v: SyncViewHandle, key: unknown): boolean;
  /** Whether the key was inserted (false: overwritten). */
  syncSet(v: SyncViewHandle, key: unknown, value: unknown): boolean;
  /** Whether the key was there. */
  syncDelete(v: SyncViewHandle, key: unknown): boolean;
  /** Values in key order, undefined for misses. */
  syncGetMany(v: SyncViewHandle, keys: readonly unknown[]): unknown[];
  /** Checks every pair, then stores them in order; returns how many keys were inserted. */
  syncSetMany(v: SyncViewHandle, keys: readonly unknown[], values: readonly unknown[]): number;
  /** The value already stored (nothing stored then), or undefined when `value` was stored. */
  syncLoadOrStore(v: SyncViewHandle, key: unknown, value: unknown): unknown;
  /** The value removed, or undefined when the key was absent. */
  syncLoadAndDelete(v: SyncViewHandle, key: unknown): unknown;
  /** Stores `value`; returns the previous value, or undefined when the key was absent. */
  syncSwap(v: SyncViewHandle, key: unknown, value: unknown): unknown;
  /** Stores `value` if the stored value's encoded bytes equal `old`'s. */
  syncCompareAndSwap(v: SyncViewHandle, key: unknown, old: unknown, value: unknown): boolean;
  /** Deletes the key if the stored value's encoded bytes equal `old`'s. */
  syncCompareAndDelete(v: SyncViewHandle, key: unknown, old: unknown): boolean;
  syncClear(v: SyncViewHandle): void;
  syncSize(v: SyncViewHandle): number;
  syncStats(v: SyncViewHandle): MapStats;
  syncIterStart(v: SyncViewHandle): SyncIteratorHandle;
  /**
   * Up to `max` entries as a flat array [k0, v0, k1, v1, ...] ([k0, k1, ...] when
   * keysOnly). Fewer than `max`: the iteration is over and the native iterator freed.
   */
  syncIterNext(v: SyncViewHandle, it: SyncIteratorHandle, max: number, keysOnly?: boolean): unknown[];
  /**
   * Packed iteration, for views with 'f64' / 'i64' / 'string' keys and (unless keysOnly)
   * 'f64' / 'i64' / 'string' / 'json' values: about `max` entries as
   * `[count, finished, keys, values, keyText, valueText]`. Numbers come as a Float64Array /
   * BigInt64Array; strings as one joined string (keyText / valueText) and a Uint32Array of
   * their lengths. A finished native iterator is freed.
   */
  syncIterNextPacked(v: SyncViewHandle, it: SyncIteratorHandle, max: number, keysOnly: boolean): SyncPackedBatch;
  /** Frees an iterator; never throws (finalizers call it). */
  syncIterEnd(v: SyncViewHandle, it: SyncIteratorHandle): boolean;
  /**
   * Fast calls for 'f64' / 'i64' keys, through the thread's I/O area (`binding.io`, shared
   * with GoMap): cell 0 the view handle, 1 the key, 2 an 'f64' / 'i64' value (in for set,
   * out for get), 3 the result (found / inserted as 0 or 1). Other values are the argument
   * of syncFastSet and the return value of syncFastGet.
   */
  syncFastGet(): unknown;
  syncFastHas(): void;
  syncFastSet(value?: unknown): void;
  /** The I/O area of the fast calls (the same ArrayBuffer as GoMap's). */
  readonly io: ArrayBuffer;
  /**
   * Views and iterators of this thread, shared maps alive in the process, and objects
   * retired to epoch reclamation but not freed yet (tests).
   */
  syncLiveHandles(): { views: number; iterators: number; maps: number; retired: number; heapPages?: number };
  /**
   * Tests only, present when the addon was loaded with `GOMAP_TESTING=1`: the `n`-th native
   * allocation from now fails, in the whole process (0 disarms).
   */
  syncTestingFailNthAllocation?(n: number): void;
  /**
   * Tests only (`GOMAP_TESTING=1`): the external memory V8 counts for this thread's
   * isolate, as native code reported it.
   */
  syncTestingExternalMemory?(): number;
  /**
   * Tests only (`GOMAP_TESTING=1`): runs this thread's epoch reclamation a few times and
   * returns the objects still retired and not freed (process-wide).
   */
  syncTestingCollect?(): number;
  /**
   * WebAssembly engine, testing only: pins the epoch and takes the view's map's write
   * lock, stores 1 into Int32 number `flagIndex` of the handle's memory (a word below
   * byte 1024 the module does not use) and never returns: a worker is meant to be
   * terminated holding them.
   */
  syncTestingHoldWriteLock?(v: SyncViewHandle, flagIndex: number): void;
  /**
   * WebAssembly engine, testing only: `rounds` random malloc / realloc / free calls of the
   * threads module's allocator in the memory of view `v`, every block checked against a
   * pattern of its own (native/wasm/threads_heap.cc). 0 when all was well, else the code
   * of the first failure.
   */
  syncTestingHeapStress?(v: SyncViewHandle, seed: number, rounds: number): number;
  /** WebAssembly engine only: `rounds` increments under `v`'s map's write lock; returns the collisions seen. */
  syncTestingLockStress?(v: SyncViewHandle, rounds: number): number;
  /** WebAssembly engine only: the counter syncTestingLockStress adds to. */
  syncTestingLockCount?(v: SyncViewHandle): number;
}

const candidate = binding as unknown as Partial<SyncBinding>;

/** Where the SyncMap engine of the WebAssembly build sits (scripts/build-wasm.mjs). */
export const THREADS_WASM_FILE = 'wasm/gomap-threads.wasm';

/**
 * The SyncMap functions of the loaded engine, or null when it has none. On the
 * WebAssembly engine: lib/wasm/sync-binding.ts (a second module over one shared memory per
 * creating thread; compiling it turns off V8's baseline wasm compiler for the process,
 * lib/wasm/v8-workarounds.ts). A worker terminated in the middle of a write does not hang
 * the others (lib/wasm/sync-watcher.ts): the next writer repairs the map, and throws
 * ERR_GOMAP_POISONED (which the native engine never does) when that repair cannot
 * allocate. The WebAssembly binding also carries the shared GoCache functions
 * (lib/wasm/shared-cache-binding.ts; lib/shared-cache.ts finds them here).
 */
export const syncBinding: SyncBinding | null =
  backend === 'wasm'
    ? createWasmSyncBinding(join(packageRoot(), THREADS_WASM_FILE))
    : typeof candidate.syncCreate === 'function' && typeof candidate.syncIterNext === 'function'
      ? (candidate as SyncBinding)
      : null;

/** The SyncMap functions, or an Error that says this engine cannot share maps. */
export function requireSyncBinding(): SyncBinding {
  if (syncBinding !== null) return syncBinding;
  throw new Error(
    `gomap: SyncMap is not available with the '${backend}' backend of this build ` +
      '(the loaded engine has no shared maps; rebuild the native addon with `npm run build:native`)',
  );
}
