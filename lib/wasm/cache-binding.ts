/**
 * GoCache on the WebAssembly engine: the cache part of the binding interface
 * ({@link CacheBinding}, what lib/go-cache.ts calls) over the cache exports of
 * wasm/gomap.wasm (native/wasm/cache_exports.cc), so that lib/go-cache.ts does not know
 * which engine it drives.
 *
 * This file does in TypeScript what native/addon/cache_functions.cc and cache_binding.h
 * do in C++, and nothing more: argument checks with the addon's messages and codes,
 * caches named by generation-checked handles, keys and values written into linear
 * memory with the writers GoMap's binding uses (heap.ts), results read back. No cache
 * logic: eviction, expiry and limits are the core's (native/core/cache.h).
 *
 * The clock. The addon reads a monotonic millisecond clock (steady_clock) for each call
 * that needs one, and only once some entry may expire; a cache given a manual time
 * (`cacheSetTime`) reads that instead. The module imports nothing, so it cannot read a
 * clock: this binding reads the same kind of clock, `performance.now()` (monotonic, ms)
 * floored, + 1 (0 means "never" in the core), under the same rules, and passes it to
 * every export that reads the time.
 *
 * Removal reports. As in the addon, a cache created with a report mode keeps the entries
 * the core removes (ReportLog, wasm_cache.h); after every call that can remove entries,
 * this binding publishes in `cacheIo` how many wait (cell 0) and, in inline mode, moves up
 * to 32 of them (slab index or -1, identity id or 0) to cells 2.. (cell 1: how many),
 * reading them straight from linear memory. `cacheDrain` returns them as the addon does:
 * `[reason, key, value, ...]`.
 *
 * Failures: allocation failure inside the module is a negative result or a null address,
 * thrown as a RangeError (code ERR_GOMAP_NO_MEMORY) with the cache unchanged. A trap (a
 * bug) takes only that cache out of service: later calls throw ERR_GOMAP_WASM_TRAP.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { CacheBinding, CacheHandle, NativeCacheStats } from '../binding.ts';
import { ERR_GOMAP_CLOSED, rangeError, typeError, type CodedError } from '../errors.ts';
import type { KeyKind, NativeValueKind } from '../kinds.ts';
import { HandleTable } from './handle-table.ts';
import {
  ARG_BYTES,
  ARG_LEN,
  ARG_PTR,
  ARG_TAG,
  cacheStatsAt,
  IO_KEY,
  IO_OUT,
  IO_STATS,
  IO_VALUE,
  K_ANY,
  KIND_NAMES,
  nativeTypeName,
  seedWords,
  statusError,
  TAG_OBJECT_REF,
  trapError,
  webAssembly,
  type WasmHeap,
} from './heap.ts';

/** The cache exports of wasm/gomap.wasm (native/wasm/cache_exports.cc). */
interface CacheExports {
  gomap_cache_io(): number;
  gomap_cache_create(
    keyKind: number,
    valueKind: number,
    maxEntries: number,
    maxBytes: number,
    ttl: number,
    updateAgeOnGet: number,
    report: number,
    seedLo: number,
    seedHi: number,
  ): number;
  gomap_cache_destroy(cache: number): void;
  gomap_cache_set(cache: number, now: number, ttl: number, key: number, value: number): number;
  gomap_cache_get(cache: number, now: number, key: number, out: number, touch: number): number;
  gomap_cache_has(cache: number, now: number, key: number): number;
  gomap_cache_delete(cache: number, key: number): number;
  gomap_cache_remaining_ttl(cache: number, now: number, key: number): number;
  gomap_cache_clear(cache: number): void;
  gomap_cache_purge(cache: number, now: number): void;
  gomap_cache_stats(cache: number, out: number): void;
  gomap_cache_size(cache: number): number;
  gomap_cache_iter_start(cache: number): number;
  gomap_cache_iter_next(it: number, now: number, key: number, value: number): number;
  gomap_cache_iter_end(it: number): void;
  gomap_cache_reports(cache: number): number;
  gomap_cache_reports_clear(cache: number): void;
}

// A Report record (wasm_cache.h): key Arg, value Arg, reason.
const REPORT_BYTES = 56;
const REPORT_VALUE = ARG_BYTES;
const REPORT_REASON = 48;
const REASON_SET = 3;

// The cache I/O area (cache_functions.cc): cell 0 reports waiting, cell 1 inline reports,
// cells 2.. inline pairs (slab index or -1, identity id or 0).
const INLINE_REPORTS = 32;
const CACHE_IO_CELLS = 2 + 2 * INLINE_REPORTS;
const IO_PENDING = 0;
const IO_INLINE = 1;
const IO_INLINE_CELLS = 2;

const REPORT_NONE = 0;
const REPORT_INLINE = 2;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_TTL = 0xffff_ffff;
const MAX_CHARGE = 0xffff_ffff;
const TWO_32 = 0x1_0000_0000;

interface CacheRecord {
  handle: number;
  /** Address of the WasmCache. */
  ptr: number;
  keyKind: number;
  valueKind: number;
  /** 0 none, 1 drain, 2 inline (the addon's ReportMode). */
  report: number;
  /** Whether some entry may expire: the clock is read only then (the addon's clocked_). */
  clocked: boolean;
  /** A manual time (ms >= 1), or 0: the monotonic clock. */
  manualNow: number;
}

function cacheClosedError(): CodedError {
  const e = new Error('GoCache is closed: it cannot be used after close()') as CodedError;
  Object.defineProperty(e, 'code', { value: ERR_GOMAP_CLOSED, enumerable: true, writable: true, configurable: true });
  return e;
}

/** A limit argument: an integer from 0 to 2^53 - 1 (the addon's readLimit). */
function readLimit(v: unknown, what: string): number {
  if (typeof v !== 'number') throw typeError(`GoCache ${what} must be a number, got ${nativeTypeName(v)}`);
  if (!(v >= 0 && v <= MAX_SAFE) || Math.floor(v) !== v) {
    throw rangeError(`GoCache ${what} must be an integer from 0 to 2^53 - 1`);
  }
  return v;
}

/** A ttl argument: -1 for the default, else ms (0: no expiry) up to 2^32 - 1 (the addon's readTtl). */
function readTtl(v: unknown): number {
  if (typeof v !== 'number') throw typeError('GoCache ttl must be a number');
  if (v === -1) return -1;
  if (!(v >= 0 && v <= MAX_TTL) || Math.floor(v) !== v) {
    throw rangeError('GoCache ttl must be an integer number of ms from 0 to 2^32 - 1');
  }
  return v;
}

function kindCode(v: unknown, what: string): number {
  const i = typeof v === 'string' ? (KIND_NAMES as readonly string[]).indexOf(v) : -1;
  if (i < 0) throw typeError(`GoCache ${what} kind must be one of 'f64', 'i64', 'string', 'bytes', 'any'`);
  return i;
}

/** The key of the test hook that points a cache outside linear memory (see binding.ts WasmTestHooks). */
export const BREAK_CACHE_FOR_TEST: unique symbol = Symbol('gomap.breakCacheForTest');

/** The cache functions of a wasm binding over `heap` (the module GoMap's binding uses). */
export function createWasmCacheBinding(heap: WasmHeap): CacheBinding & { [BREAK_CACHE_FOR_TEST]: (h: CacheHandle) => void } {
  const x = heap.x as unknown as CacheExports;
  const IO = heap.io;
  const KEY = IO + IO_KEY;
  const VALUE = IO + IO_VALUE;
  const OUT = IO + IO_OUT;
  const pendingAt = x.gomap_cache_io() >>> 2;
  const caches = new HandleTable<CacheRecord>();
  /** Handles of caches that trapped, for the error of later calls. */
  const trapped = new Map<number, Error>();
  const cacheIo = new ArrayBuffer(CACHE_IO_CELLS * 8);
  const io = new Float64Array(cacheIo);

  // ---- handles, clock, failures ---------------------------------------------------------

  function findCache(h: unknown): CacheRecord {
    if (typeof h !== 'number') throw typeError('GoCache handle must be a number');
    const rec = caches.find(h);
    if (rec === undefined) throw trapped.get(h) ?? cacheClosedError();
    return rec;
  }

  /** Takes a cache that trapped out of service (never touching its memory again). */
  function retire(rec: CacheRecord, e: unknown): Error {
    if (!(e instanceof webAssembly.RuntimeError)) return e as Error;
    const error = trapError(e, 'GoCache', 'cache');
    heap.refresh();
    if (caches.find(rec.handle) === rec) caches.remove(rec);
    trapped.set(rec.handle, error);
    return error;
  }

  function now(rec: CacheRecord): number {
    if (rec.manualNow !== 0) return rec.manualNow;
    return rec.clocked ? Math.floor(performance.now()) + 1 : 1;
  }

  /**
   * After every call that may change the cache: the memory views made current, then how
   * many reports wait (cell 0), and in inline mode, up to 32 of them moved to the I/O area
   * (the addon's CacheArgs::publish).
   */
  function publish(rec: CacheRecord): void {
    heap.refresh(); // the call may have grown memory (table, expiry index, report log)
    if (rec.report === REPORT_NONE) {
      io[IO_INLINE] = 0;
      io[IO_PENDING] = 0;
      return;
    }
    let pending = heap.u32[pendingAt]!;
    let inline = 0;
    if (pending !== 0 && rec.report === REPORT_INLINE && pending <= INLINE_REPORTS) {
      takeInline(rec, pending);
      inline = pending;
      pending = 0;
    }
    io[IO_INLINE] = inline;
    io[IO_PENDING] = pending;
  }

  /** Moves n reports to the I/O area as (slab index or -1, identity id to forget or 0). */
  function takeInline(rec: CacheRecord, n: number): void {
    const base = call(rec, () => x.gomap_cache_reports(rec.ptr));
    const u32 = heap.u32;
    for (let i = 0; i < n; i++) {
      const r = base + i * REPORT_BYTES;
      io[IO_INLINE_CELLS + 2 * i] = rec.valueKind === K_ANY ? u32[(r + REPORT_VALUE) >>> 2]! : -1;
      let id = 0;
      if (rec.keyKind === K_ANY && u32[(r + REPORT_REASON) >>> 2] !== REASON_SET) {
        const k = r >>> 2;
        if (u32[k + ARG_TAG / 4] === TAG_OBJECT_REF && u32[k + ARG_LEN / 4] === 8) {
          const p = u32[k + ARG_PTR / 4]!;
          id = heap.dv.getUint32(p, true) + heap.dv.getUint32(p + 4, true) * TWO_32;
        }
      }
      io[IO_INLINE_CELLS + 2 * i + 1] = id;
    }
    call(rec, () => x.gomap_cache_reports_clear(rec.ptr));
  }

  /** Runs an export on `rec`'s cache, taking the cache out of service if it traps. */
  function call<R>(rec: CacheRecord, fn: () => R): R {
    try {
      return fn();
    } catch (e) {
      throw retire(rec, e);
    }
  }

  /** The cache of handle `h` with `key` written into io.key (refId: the identity id of an object key). */
  function keyed(h: unknown, key: unknown, refId: unknown): CacheRecord {
    const rec = findCache(h);
    const hasRef = refId !== undefined && rec.keyKind === K_ANY;
    const at = heap.reserveScratch(hasRef ? 8 : heap.blobBound(rec.keyKind, key));
    heap.writeKey(rec.keyKind, KEY, at, key, refId, hasRef);
    return rec;
  }

  // ---- lifetime ---------------------------------------------------------------------------

  function cacheCreate(
    keyKind: KeyKind,
    valueKind: NativeValueKind,
    max: number,
    maxBytes: number,
    ttl: number,
    updateAgeOnGet: boolean,
    reportMode: number,
    seed?: bigint,
  ): CacheHandle {
    if (arguments.length < 7) throw typeError('GoCache create needs 7 arguments');
    const kk = kindCode(keyKind, 'key');
    const vk = kindCode(valueKind, 'value');
    const maxEntries = readLimit(max, 'max');
    const bytes = readLimit(maxBytes, 'maxBytes');
    const t = readTtl(ttl);
    const defaultTtl = t === -1 ? 0 : t;
    const updateAge = updateAgeOnGet === true;
    if (typeof reportMode !== 'number' || !(reportMode === 0 || reportMode === 1 || reportMode === 2)) {
      throw typeError('GoCache report mode must be 0, 1 or 2');
    }
    const [lo, hi] = seedWords(seed, 'GoCache');
    const ptr = x.gomap_cache_create(kk, vk, maxEntries, bytes, defaultTtl, updateAge ? 1 : 0, reportMode, lo, hi);
    heap.refresh();
    if (ptr === 0) throw statusError(-1, 'GoCache create');
    const rec = caches.add((handle) => ({
      handle,
      ptr,
      keyKind: kk,
      valueKind: vk,
      report: reportMode,
      clocked: defaultTtl !== 0,
      manualNow: 0,
    }));
    return rec.handle;
  }

  function cacheClose(h: CacheHandle): boolean {
    if (typeof h !== 'number') throw typeError('GoCache handle must be a number');
    const rec = caches.find(h);
    if (rec === undefined) return false;
    caches.remove(rec);
    try {
      x.gomap_cache_destroy(rec.ptr);
    } catch (e) {
      // Its memory is abandoned; later calls with the handle say why.
      retire(rec, e);
    }
    heap.refresh();
    return true;
  }

  // ---- single-key calls -------------------------------------------------------------------

  function cacheSet(h: CacheHandle, key: unknown, value: unknown, ttl: number, charge: number, refId?: number): number {
    const rec = findCache(h);
    const t = readTtl(ttl);
    if (typeof charge !== 'number' || !(charge >= 0) || charge > MAX_CHARGE) {
      throw rangeError('GoCache entry size must be a number from 0 to 2^32 - 1');
    }
    const hasRef = refId !== undefined && rec.keyKind === K_ANY;
    const keyBound = hasRef ? 8 : heap.blobBound(rec.keyKind, key);
    const at = heap.reserveScratch(keyBound + heap.blobBound(rec.valueKind, value));
    heap.writeKey(rec.keyKind, KEY, at, key, refId, hasRef);
    heap.writeValue(rec.valueKind, VALUE, at + keyBound, value);
    if (rec.valueKind === K_ANY) heap.u32[(VALUE >>> 2) + 1] = Math.floor(charge); // SlabChargeValue: charge in the high word
    if (t !== 0 && t !== -1) rec.clocked = true;
    let result: number;
    try {
      result = x.gomap_cache_set(rec.ptr, now(rec), t, KEY, VALUE);
    } catch (e) {
      throw retire(rec, e);
    }
    publish(rec);
    if (result < 0) throw statusError(result, 'GoCache set');
    return result;
  }

  function read(h: CacheHandle, key: unknown, refId: number | undefined, touch: number): unknown {
    const rec = keyed(h, key, refId);
    let found: number;
    try {
      found = x.gomap_cache_get(rec.ptr, now(rec), KEY, OUT, touch);
    } catch (e) {
      throw retire(rec, e);
    }
    publish(rec);
    return found !== 0 ? heap.readValue(rec.valueKind, OUT) : undefined;
  }

  function cacheGet(h: CacheHandle, key: unknown, refId?: number): unknown {
    return read(h, key, refId, 1);
  }

  function cachePeek(h: CacheHandle, key: unknown, refId?: number): unknown {
    return read(h, key, refId, 0);
  }

  function cacheHas(h: CacheHandle, key: unknown, refId?: number): boolean {
    const rec = keyed(h, key, refId);
    const found = call(rec, () => x.gomap_cache_has(rec.ptr, now(rec), KEY));
    publish(rec);
    return found !== 0;
  }

  function cacheDelete(h: CacheHandle, key: unknown, refId?: number): boolean {
    const rec = keyed(h, key, refId);
    const removed = call(rec, () => x.gomap_cache_delete(rec.ptr, KEY));
    publish(rec);
    return removed !== 0;
  }

  function cacheRemainingTtl(h: CacheHandle, key: unknown, refId?: number): number {
    const rec = keyed(h, key, refId);
    const left = call(rec, () => x.gomap_cache_remaining_ttl(rec.ptr, now(rec), KEY));
    publish(rec);
    return left;
  }

  // ---- whole-cache calls --------------------------------------------------------------------

  function cacheEntries(h: CacheHandle, keysOnly: boolean): unknown[] {
    const rec = findCache(h);
    const t = now(rec);
    const it = call(rec, () => x.gomap_cache_iter_start(rec.ptr));
    heap.refresh();
    if (it === 0) throw statusError(-1, 'GoCache entries');
    const flat: unknown[] = [];
    const withValues = keysOnly !== true;
    try {
      while (call(rec, () => x.gomap_cache_iter_next(it, t, KEY, OUT)) !== 0) {
        flat.push(heap.readKey(rec.keyKind, KEY));
        if (withValues) flat.push(heap.readValue(rec.valueKind, OUT));
      }
    } finally {
      if (caches.find(rec.handle) === rec) call(rec, () => x.gomap_cache_iter_end(it));
    }
    publish(rec);
    return flat;
  }

  function cacheDrain(h: CacheHandle): unknown[] {
    const rec = findCache(h);
    // gomap_cache_reports also publishes this cache's count in the cache I/O word.
    const base = call(rec, () => x.gomap_cache_reports(rec.ptr));
    heap.refresh();
    const n = heap.u32[pendingAt]!;
    const flat = new Array<unknown>(n * 3);
    if (n !== 0) {
      const u32 = heap.u32;
      for (let i = 0; i < n; i++) {
        const r = base + i * REPORT_BYTES;
        flat[3 * i] = u32[(r + REPORT_REASON) >>> 2];
        flat[3 * i + 1] = heap.readKey(rec.keyKind, r);
        flat[3 * i + 2] = heap.readValue(rec.valueKind, r + REPORT_VALUE);
      }
      call(rec, () => x.gomap_cache_reports_clear(rec.ptr));
    }
    publish(rec);
    return flat;
  }

  function cacheClear(h: CacheHandle): void {
    const rec = findCache(h);
    call(rec, () => x.gomap_cache_clear(rec.ptr));
    publish(rec);
  }

  function cachePurge(h: CacheHandle): void {
    const rec = findCache(h);
    call(rec, () => x.gomap_cache_purge(rec.ptr, now(rec)));
    publish(rec);
  }

  function cacheStats(h: CacheHandle): NativeCacheStats {
    const rec = findCache(h);
    const at = IO + IO_STATS;
    call(rec, () => x.gomap_cache_stats(rec.ptr, at));
    heap.refresh();
    return cacheStatsAt(heap.f64, at >>> 3);
  }

  function cacheSize(h: CacheHandle): number {
    const rec = findCache(h);
    return call(rec, () => x.gomap_cache_size(rec.ptr));
  }

  function cacheSetTime(h: CacheHandle, ms: number): void {
    const rec = findCache(h);
    if (ms === undefined) return;
    rec.manualNow = readLimit(ms, 'time');
  }

  function cacheLive(): number {
    return caches.live;
  }

  return {
    cacheIo,
    cacheCreate,
    cacheClose,
    cacheSet,
    cacheGet,
    cachePeek,
    cacheHas,
    cacheDelete,
    cacheRemainingTtl,
    cacheEntries,
    cacheDrain,
    cacheClear,
    cachePurge,
    cacheStats,
    cacheSize,
    cacheSetTime,
    cacheLive,
    [BREAK_CACHE_FOR_TEST](h: CacheHandle): void {
      findCache(h).ptr = 0xffff_fff0; // past the end of linear memory: the next access traps
    },
  };
}
