/**
 * The raw functions of the native addon (native/addon/functions.cc), as the façade calls
 * them. Not part of the public API.
 *
 * A map is named by a numeric handle (an integer >= 2^32 that the addon checks on every
 * call: a closed or forged handle throws `ERR_GOMAP_CLOSED`); the façade uses 0 for
 * "closed". Keys and values are passed as JS values; object and symbol keys of an
 * `'any'` map are passed by the identity id the façade assigned (`refId`), and come back
 * from iteration as a one-element array `[id]`. `'any'` values are slab indexes (the
 * façade holds the live values).
 *
 * @module
 */
import type { KeyKind, NativeValueKind } from './kinds.ts';

/** A native map handle (0: closed). */
export type MapHandle = number;
/** A native iterator handle. */
export type IteratorHandle = number;

/** The shape of a map's table at one moment (API.md `MapStats`). */
export interface MapStats {
  /** Live entries. */
  count: number;
  /** log2 of the bucket count. */
  B: number;
  /** Buckets: `2 ** B`. */
  buckets: number;
  /** Overflow buckets currently allocated. */
  overflowBuckets: number;
  /** `count / (buckets * 8)`. */
  loadFactor: number;
  /** Whether an incremental grow is in progress. */
  growing: boolean;
  /** Buckets of the old array while growing, else 0. */
  oldBuckets: number;
  /** Old buckets already evacuated while growing. */
  evacuated: number;
  /** Doubling grows so far. */
  grows: number;
  /** Same-size grows (overflow clean-up) so far. */
  sameSizeGrows: number;
  /** Shrinks so far. */
  shrinks: number;
  /** Native bytes held by this map (table, overflow buckets, out-of-line keys and values). */
  bytes: number;
}

export interface NativeBinding {
  /** A new map; `hint` pre-sizes it; `seed` fixes the hash seed (else random). */
  create(keyKind: KeyKind, valueKind: NativeValueKind, hint: number, seed?: bigint): MapHandle;
  /**
   * The I/O area of the fast calls (native/addon/io_area.h), 64 bytes: cell 0 the map
   * handle, 1 a numeric key, 2 a numeric value (in and out), 3 the result.
   */
  readonly io: ArrayBuffer;
  /**
   * Fast calls: the handle and numeric keys / values go through {@link io}; a string,
   * bytes or 'any' key, and a string / bytes value, is passed as an argument (key
   * first). fastGet returns string / bytes values (undefined when absent); every other
   * result is in cell 3 (found / inserted / deleted as 0 or 1; for 'any' values the
   * stored or removed slab index, -1 for none) and numeric values in cell 2.
   */
  fastGet(...keyIfNotNumeric: unknown[]): unknown;
  fastHas(...keyIfNotNumeric: unknown[]): void;
  fastSet(...keyAndValueIfNotNumeric: unknown[]): void;
  fastDelete(...keyIfNotNumeric: unknown[]): void;
  /** The value, or undefined when absent (a slab index for 'any' values). */
  get(h: MapHandle, key: unknown, refId?: number): unknown;
  has(h: MapHandle, key: unknown, refId?: number): boolean;
  /** Whether the key was inserted; for 'any' values, the slab index now stored (getOrInsert). */
  set(h: MapHandle, key: unknown, value: unknown, refId?: number): boolean | number;
  /** Whether the key was there; for 'any' values, the removed slab index or -1. */
  delete(h: MapHandle, key: unknown, refId?: number): boolean | number;
  /** Values in key order, undefined for misses (slab indexes for 'any' values). */
  getMany(h: MapHandle, keys: readonly unknown[], refIds?: readonly (number | undefined)[]): unknown[];
  /**
   * Stores every entry or none; returns how many keys were inserted. For 'any' values,
   * `values` is a Uint32Array of candidate slab indexes, overwritten with the index
   * stored for each key.
   */
  setMany(
    h: MapHandle,
    keys: readonly unknown[],
    values: readonly unknown[] | Uint32Array,
    refIds?: readonly (number | undefined)[],
  ): number;
  /**
   * getMany without a Node-API call per key: keys as a Float64Array (f64), a
   * BigInt64Array (i64) or one joined string with a Uint32Array of lengths (string);
   * numeric values are written to `valuesOut` (Float64Array for f64 and 'any' slab
   * indexes, BigInt64Array for i64) and string / bytes values returned as an array;
   * `found[i]` is 1 for a hit.
   */
  getManyPacked(
    h: MapHandle,
    keys: Float64Array | BigInt64Array | string,
    lengths: Uint32Array | undefined,
    valuesOut: Float64Array | BigInt64Array | undefined,
    found: Uint8Array,
  ): unknown[] | undefined;
  /**
   * setMany with packed keys (as getManyPacked) and values as a Float64Array /
   * BigInt64Array (numeric), a Uint32Array ('any' candidates, overwritten with the
   * stored indexes) or an array (string / bytes). Returns how many keys were inserted.
   */
  setManyPacked(
    h: MapHandle,
    keys: Float64Array | BigInt64Array | string,
    lengths: Uint32Array | undefined,
    values: Float64Array | BigInt64Array | Uint32Array | readonly unknown[],
  ): number;
  /**
   * iterNext without a Node-API call per entry, for f64 / i64 / string keys and f64 /
   * i64 / 'any' / string values: numeric keys and values are written to keysOut /
   * valuesOut (Float64Array, BigInt64Array), strings are joined into one string per batch
   * with their lengths written to keysOut / valuesOut (Uint32Array). Returns
   * [count, finished, joinedKeys, joinedValues]; a finished iterator is freed.
   */
  iterNextPacked(
    h: MapHandle,
    it: IteratorHandle,
    keysOut: Float64Array | BigInt64Array | Uint32Array,
    valuesOut?: Float64Array | BigInt64Array | Uint32Array,
  ): [count: number, finished: boolean, keys: string | undefined, values: string | undefined];
  clear(h: MapHandle): void;
  size(h: MapHandle): number;
  stats(h: MapHandle): MapStats;
  reserve(h: MapHandle, n: number): void;
  shrink(h: MapHandle): void;
  /** Frees the map and its iterators; false when it was closed already (never throws for that). */
  close(h: MapHandle): boolean;
  iterStart(h: MapHandle): IteratorHandle;
  /**
   * Up to `max` entries as a flat array [k0, v0, k1, v1, ...] ([k0, k1, ...] when
   * keysOnly). Fewer than `max` entries: the iteration is over and the native iterator
   * freed; an iterator that is over gives [].
   */
  iterNext(h: MapHandle, it: IteratorHandle, max: number, keysOnly?: boolean): unknown[];
  /** Frees an iterator; never throws (finalizers call it). */
  iterEnd(h: MapHandle, it: IteratorHandle): boolean;
  /** Maps and iterators this thread's addon instance holds (for tests). */
  liveHandles(): { maps: number; iterators: number };
}

/** A native cache handle (0: closed). */
export type CacheHandle = number;

/** What `cacheStats` returns. */
export interface NativeCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  expirations: number;
  size: number;
  bytes: number;
  /** Native bytes of the cache's table (slots, overflow, out-of-line keys and values). */
  tableBytes: number;
}

/**
 * The cache functions of the addon (native/addon/cache_functions.cc), used by GoCache.
 * Removed entries are queued natively when the cache was created with a report mode;
 * cell 0 of {@link CacheBinding.cacheIo} holds how many wait after each call, and
 * `cacheDrain` returns them as `[reason, key, value, ...]` (0 evict, 1 expire, 2 delete,
 * 3 set). In report mode 2, up to 32 of them come inline instead: cell 1 holds their
 * count and cells 2.. pairs (slab index or -1, identity id to forget or 0).
 */
export interface CacheBinding {
  readonly cacheIo: ArrayBuffer;
  cacheCreate(
    keyKind: KeyKind,
    valueKind: NativeValueKind,
    max: number,
    maxBytes: number,
    ttl: number,
    updateAgeOnGet: boolean,
    /** 0: no removal reports; 1: drained with cacheDrain; 2: inline in cacheIo when they fit. */
    reportMode: number,
    seed?: bigint,
  ): CacheHandle;
  cacheClose(h: CacheHandle): boolean;
  /** ttl -1: the cache's default. Returns 0 inserted, 1 replaced, 2 refused. */
  cacheSet(h: CacheHandle, key: unknown, value: unknown, ttl: number, charge: number, refId?: number): number;
  cacheGet(h: CacheHandle, key: unknown, refId?: number): unknown;
  cachePeek(h: CacheHandle, key: unknown, refId?: number): unknown;
  cacheHas(h: CacheHandle, key: unknown, refId?: number): boolean;
  cacheDelete(h: CacheHandle, key: unknown, refId?: number): boolean;
  cacheRemainingTtl(h: CacheHandle, key: unknown, refId?: number): number;
  cacheEntries(h: CacheHandle, keysOnly: boolean): unknown[];
  cacheDrain(h: CacheHandle): unknown[];
  cacheClear(h: CacheHandle): void;
  cachePurge(h: CacheHandle): void;
  cacheStats(h: CacheHandle): NativeCacheStats;
  cacheSize(h: CacheHandle): number;
  /** A manual clock (ms >= 1) for deterministic benchmarks; 0: the monotonic clock. */
  cacheSetTime(h: CacheHandle, ms: number): void;
  cacheLive(): number;
}
