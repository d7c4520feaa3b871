/**
 * The options of `new SyncMap(options)` and the shape of a `SyncMap` handle: their
 * types, and the checks that turn wrong input into a TypeError / RangeError.
 *
 * @module
 */
import { describeType, rangeError, typeError } from './errors.ts';
import { checkCount } from './kinds.ts';
import type { SyncKeyKind, SyncValueKind } from './sync-binding.ts';

export type { SyncKeyKind, SyncValueKind } from './sync-binding.ts';

/** Every SyncMap key kind. */
export const SYNC_KEY_KINDS: readonly SyncKeyKind[] = ['string', 'f64', 'i64', 'bytes'];
/** Every SyncMap value kind. */
export const SYNC_VALUE_KINDS: readonly SyncValueKind[] = ['string', 'f64', 'i64', 'bytes', 'json', 'v8'];

/** Options of `new SyncMap(options)`. */
export interface SyncMapOptions {
  /**
   * How keys are stored and compared: `'string'`, `'f64'` (numbers, SameValueZero),
   * `'i64'` (bigints in the signed 64-bit range) or `'bytes'` (`Uint8Array` contents).
   * Required: keys are copied into native memory that every thread reads, so `'any'`
   * (live JS objects) is not possible.
   */
  key: SyncKeyKind;
  /**
   * How values are stored: `'string'`, `'f64'`, `'i64'`, `'bytes'`, `'json'`
   * (`JSON.stringify`-able values) or `'v8'` (structured-cloneable values). Required; every
   * read returns a copy.
   */
  value: SyncValueKind;
  /**
   * Pre-size the table for this many entries (like Go's `make(map, hint)`). An integer from
   * 0 to 2^53 - 1; a hint the memory cannot honour throws a `RangeError`. Default 0.
   */
  hint?: number;
  /**
   * A fixed 64-bit hash seed for reproducible tests and benchmarks (a bigint from
   * -(2^63) to 2^64 - 1). Default: a random seed per map.
   */
  seed?: bigint;
}

/**
 * What `map.handle` returns and `SyncMap.attach(handle)` takes: a plain, structured-
 * cloneable object naming one shared map, to send to other threads with `postMessage`
 * or `workerData`. Treat it as opaque; it is only valid in the process that made it,
 * and only while at least one view of the map is open.
 */
export interface SyncMapHandle {
  /** Always `'gomap.SyncMap'`. */
  readonly type: 'gomap.SyncMap';
  /** The map's id in this process's registry of shared maps. */
  readonly id: number;
  /** The map's key kind (a view rebuilds its codecs from it). */
  readonly key: SyncKeyKind;
  /** The map's value kind. */
  readonly value: SyncValueKind;
  /**
   * WebAssembly engine only: the shared `WebAssembly.Memory` the map lives in (the
   * thread that attaches instantiates the engine over it). Absent on the native engine.
   */
  readonly memory?: unknown;
}

/** Options after validation, with defaults applied. */
export interface ResolvedSyncMapOptions {
  key: SyncKeyKind;
  value: SyncValueKind;
  hint: number;
  /** The seed reduced to 64 unsigned bits, or undefined for a random one. */
  seed: bigint | undefined;
}

const OPTION_NAMES = ['key', 'value', 'hint', 'seed'] as const;
const MIN_SEED = -(2n ** 63n);
const MAX_SEED = 2n ** 64n - 1n;
const HANDLE_TYPE = 'gomap.SyncMap';

function checkKind<T extends string>(value: unknown, kinds: readonly T[], what: string): T {
  if (typeof value === 'string' && (kinds as readonly string[]).includes(value)) return value as T;
  const list = kinds.map((k) => `'${k}'`).join(', ');
  const got = typeof value === 'string' ? `'${value}'` : describeType(value);
  const hint = value === 'any' ? " ('any' keys and values are live JS values of one thread: they cannot be shared)" : '';
  throw typeError(`SyncMap ${what} must be one of ${list}, got ${got}${hint}`);
}

/** Validates `SyncMap` options (TypeError / RangeError) and applies the defaults. */
export function resolveSyncMapOptions(options: unknown): ResolvedSyncMapOptions {
  if (options === null || typeof options !== 'object') {
    throw typeError(`SyncMap options must be an object with 'key' and 'value' kinds, got ${describeType(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!(OPTION_NAMES as readonly string[]).includes(name)) {
      throw typeError(`SyncMap has no option '${name}' (options are ${OPTION_NAMES.map((n) => `'${n}'`).join(', ')})`);
    }
  }
  const o = options as Record<string, unknown>;
  const key = checkKind(o.key, SYNC_KEY_KINDS, "option 'key'");
  const value = checkKind(o.value, SYNC_VALUE_KINDS, "option 'value'");
  const hint = o.hint === undefined ? 0 : checkCount(o.hint, "option 'hint'");
  let seed: bigint | undefined;
  if (o.seed !== undefined) {
    if (typeof o.seed !== 'bigint') throw typeError(`SyncMap option 'seed' must be a bigint, got ${describeType(o.seed)}`);
    if (o.seed < MIN_SEED || o.seed > MAX_SEED) {
      throw rangeError(`SyncMap option 'seed' must fit in 64 bits (-(2^63) to 2^64 - 1), got ${o.seed}n`);
    }
    seed = BigInt.asUintN(64, o.seed);
  }
  return { key, value, hint, seed };
}

/**
 * A handle for the map `id` of the given kinds (frozen, structured-cloneable), with the
 * shared memory it lives in on the WebAssembly engine.
 */
export function makeHandle(id: number, key: SyncKeyKind, value: SyncValueKind, memory?: unknown): SyncMapHandle {
  return Object.freeze(memory === undefined ? { type: HANDLE_TYPE, id, key, value } : { type: HANDLE_TYPE, id, key, value, memory });
}

/** Checks the shape of a handle given to `SyncMap.attach` (TypeError when it is not one). */
export function checkHandle(handle: unknown): SyncMapHandle {
  if (handle === null || typeof handle !== 'object') {
    throw typeError(`SyncMap.attach needs a SyncMap handle (map.handle), got ${describeType(handle)}`);
  }
  const h = handle as Record<string, unknown>;
  if (h.type !== HANDLE_TYPE) {
    throw typeError(`SyncMap.attach needs a SyncMap handle (map.handle): its 'type' must be '${HANDLE_TYPE}'`);
  }
  if (typeof h.id !== 'number' || !Number.isSafeInteger(h.id) || h.id <= 0) {
    throw typeError(`SyncMap.attach: the handle's 'id' must be a positive integer, got ${describeType(h.id)}`);
  }
  const key = checkKind(h.key, SYNC_KEY_KINDS, "handle 'key'");
  const value = checkKind(h.value, SYNC_VALUE_KINDS, "handle 'value'");
  return makeHandle(h.id, key, value, h.memory);
}
