/**
 * Shared GoCache on the WebAssembly engine: the `scache*` functions of
 * {@link SharedCacheBinding} (the addon's native/addon/shared_cache_functions.cc) over the
 * threads module (native/wasm/shared_cache_exports.cc), built into the SyncMap binding of
 * lib/wasm/sync-binding.ts, whose machinery it uses (its {@link SyncKit}).
 *
 * Design:
 *
 * - A shared cache is a map of a shared memory's SyncMap registry that carries a
 *   SharedCache (native/core/shared_cache.h), exactly as on the native engine: a view is
 *   a record of the thread's views table marked `cache` (the SyncMap calls refuse it,
 *   these refuse SyncMap views), attach goes through the memory the handle carries
 *   (`handle.memory`, as for SyncMap) and the registry's kind check, and the last view
 *   closed (or collected: lib/shared-cache.ts) frees the cache.
 * - Time: the module has no clock. Every call that needs one passes the view's `now` in
 *   ms (>= 1): its manual time (scacheSetTime, tests), else the shared memory's clock:
 *   `performance.timeOrigin + performance.now()` minus the origin the memory's creator
 *   stored in it (sync-layout.ts MEMORY_CLOCK_INDEX), floored, + 1. Every thread reads
 *   the same monotonic clock, as the addon's one steady clock for the process; threads
 *   only agree to the precision of their `timeOrigin`s (sub-millisecond in Node).
 * - Keys and values are encoded by SyncMap's encoders (owner 'GoCache' in messages); a
 *   value read is copied into the thread's out buffer under the epoch pin. Removals a
 *   write made come back as records in the out buffer (shared_cache_exports.cc) and are
 *   returned as the addon returns them: `[result, reason0, key0, value0, ...]`.
 * - Allocation failure is a RangeError with code ERR_GOMAP_NO_MEMORY (nothing changed);
 *   a write whose lock's owner was terminated repairs the cache first (see
 *   native/core/shared_cache.h), or throws ERR_GOMAP_POISONED when that repair cannot
 *   allocate (the next write tries again).
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { NativeCacheStats } from '../binding.ts';
import { closedError, rangeError, typeError } from '../errors.ts';
import type { SharedCacheBinding } from '../shared-cache.ts';
import type { SyncKeyKind, SyncValueKind } from '../sync-binding.ts';
import { cacheStatsAt, nativeTypeName, seedWords } from './heap.ts';
import type { Domain, SyncKit, ViewRecord } from './sync-binding.ts';
import {
  ATTACH_NO_MEMORY,
  CELL_HANDLE,
  CELL_KEY,
  CELL_RESULT,
  CELL_VALUE,
  IO_AUX,
  IO_KEY,
  IO_OUT,
  IO_STATS,
  IO_VALUE,
  K_F64,
  K_I64,
  KEY_CODES,
  MEMORY_CLOCK_INDEX,
  RESULT_TOO_LARGE,
  VALUE_CODES,
} from './sync-layout.ts';

/** The shared GoCache exports of wasm/gomap-threads.wasm (shared_cache_exports.cc). */
interface SharedCacheExports {
  gomap_scache_create(thread: number, keyKind: number, valueKind: number, max: number, maxBytes: number, ttl: number, updateAgeOnGet: number, seedLo: number, seedHi: number): number;
  gomap_scache_limits(thread: number, map: number): number;
  gomap_scache_get(thread: number, map: number, now: number, touch: number): number;
  gomap_scache_has(thread: number, map: number, now: number): number;
  gomap_scache_remaining_ttl(thread: number, map: number, now: number): number;
  gomap_scache_size(map: number): number;
  gomap_scache_stats(thread: number, map: number): void;
  gomap_scache_entries(thread: number, map: number, now: number, keysOnly: number): number;
  gomap_scache_set(thread: number, map: number, now: number, ttl: number, report: number): number;
  gomap_scache_delete(thread: number, map: number, now: number, report: number): number;
  gomap_scache_sweep(thread: number, map: number, now: number, purge: number, report: number): void;
  gomap_sync_attach(thread: number, id: number, keyKind: number, valueKind: number): number;
  gomap_sync_detach(thread: number, id: number): void;
  gomap_sync_testing_hold_write_lock(thread: number, map: number, flag: number): void;
}

const MAX_TTL = 0xffff_ffff; // core/cache_slot.h kMaxCacheTtl
const MAX_MANUAL_TIME = 2 ** 40 - 1; // core/cache_slot.h kCacheExpiryMask
const RECORD_HEAD = 24; // a removal record's header (shared_cache_exports.cc)
const ENTRY_HEAD = 16; // an entry record's header (gomap_scache_entries)

function exportsOf(d: Domain): SharedCacheExports {
  return d.x as unknown as SharedCacheExports;
}

function cacheClosed(): Error {
  const e = closedError();
  e.message = 'GoCache is closed: it cannot be used after close()';
  return e;
}

function noMemory(what: string): RangeError {
  const e = rangeError(`GoCache ${what}: out of memory (the cache is unchanged)`);
  (e as { code: string }).code = 'ERR_GOMAP_NO_MEMORY';
  return e;
}

function statusError(result: number, what: string): RangeError {
  if (result === RESULT_TOO_LARGE) return rangeError(`GoCache ${what}: size too large (the cache is unchanged)`);
  return noMemory(what);
}

/** An integer argument from 0 to `max` (the addon's readCount). */
function readCount(value: unknown, what: string, max: number): number {
  if (typeof value !== 'number') throw typeError(`GoCache ${what} must be a number, got ${nativeTypeName(value)}`);
  if (!(value >= 0 && value <= max) || Math.floor(value) !== value) throw rangeError(`GoCache ${what} is out of range`);
  return value;
}

function kindCode(codes: Record<string, number>, kind: unknown, isKey: boolean): number {
  if (typeof kind === 'string' && Object.prototype.hasOwnProperty.call(codes, kind)) return codes[kind]!;
  throw typeError(
    isKey
      ? "shared GoCache key kind must be one of 'string', 'f64', 'i64', 'bytes'"
      : "shared GoCache value kind must be one of 'string', 'f64', 'i64', 'bytes', 'json', 'v8'",
  );
}

/** The `scache*` functions over `kit` (see the module comment). */
export function createWasmSharedCacheFunctions(kit: SyncKit): SharedCacheBinding & { scacheMemory(v: number): unknown } {
  const { ioF64, ioI64 } = kit;
  const timeOrigin = performance.timeOrigin;

  /** The open cache view `v` names (TypeError / ERR_GOMAP_CLOSED as the addon). */
  function cacheView(v: unknown): ViewRecord {
    if (typeof v !== 'number') throw typeError(`GoCache view handle must be a number, got ${nativeTypeName(v)}`);
    const r = kit.lookUpView(v);
    if (r === undefined || !r.cache) throw cacheClosed();
    r.domain.refresh();
    return r;
  }

  /** The view's clock in ms (>= 1). */
  function now(r: ViewRecord): number {
    if (r.manualNow !== 0) return r.manualNow;
    const origin = r.domain.f64[MEMORY_CLOCK_INDEX]!;
    const ms = Math.floor(timeOrigin + performance.now() - origin) + 1;
    return ms >= 1 ? ms : 1;
  }

  /** Writes the key (and the value) into the I/O area of the view's domain. */
  function prepare(r: ViewRecord, key: unknown, value?: unknown, hasValue = false): Domain {
    const d = r.domain;
    const kb = kit.bound(r.keyKind, 'key', key, 'GoCache');
    const vb = hasValue ? kit.bound(r.valueKind, 'value', value, 'GoCache') : 0;
    let at = d.reserveScratch(kb + vb);
    at += kit.write(d, r.keyKind, true, d.thread + IO_KEY, at, key);
    if (hasValue) kit.write(d, r.valueKind, false, d.thread + IO_VALUE, at, value);
    return d;
  }

  /** The value in io.out after a read that returned `result` (1: a value is there). */
  function outValue(r: ViewRecord, result: number): unknown {
    const d = r.domain;
    d.refresh();
    if (result < 0) throw noMemory('get');
    return result === 0 ? undefined : kit.readValue(d, r.valueKind, d.thread + IO_OUT);
  }

  /** [result, reason0, key0, value0, ...] from the removal records of the last write. */
  function withRemovals(r: ViewRecord, result: unknown): unknown[] {
    const d = r.domain;
    d.refresh();
    const count = d.f64[(d.thread + IO_AUX) >>> 3]!;
    const out = new Array<unknown>(1 + 3 * count);
    out[0] = result;
    const u32 = d.u32;
    let at = u32[((d.thread + IO_OUT) >>> 2) + 2]!;
    for (let i = 0; i < count; i++) {
      at = (at + 7) & ~7;
      const h = at >>> 2;
      const keyAt = at + RECORD_HEAD;
      const keyLen = u32[h + 1]!;
      const valueLen = u32[h + 3]!;
      out[1 + 3 * i] = u32[h + 4]!;
      out[2 + 3 * i] = kit.blobValue(d, r.keyKind, u32[h]!, keyAt, keyLen);
      out[3 + 3 * i] = kit.blobValue(d, r.valueKind, u32[h + 2]!, keyAt + keyLen, valueLen);
      at = keyAt + keyLen + valueLen;
    }
    return out;
  }

  function read(v: number, key: unknown, touch: number): unknown {
    const r = cacheView(v);
    const d = prepare(r, key);
    return outValue(r, exportsOf(d).gomap_scache_get(d.thread, r.map, now(r), touch));
  }

  function attach(id: number, key: SyncKeyKind, value: SyncValueKind, memory?: unknown): [view: number, max: number, maxBytes: number, ttl: number, updateAgeOnGet: boolean] {
    if (typeof id !== 'number') throw typeError(`GoCache handle id must be a number, got ${nativeTypeName(id)}`);
    const kk = kindCode(KEY_CODES, key, true);
    const vk = kindCode(VALUE_CODES, value, false);
    const [d, map] = kit.attachTo(memory, id, kk, vk, true);
    const limits = (d.thread + IO_STATS) >>> 3;
    const f64 = d.f64;
    return [kit.addView(d, id, map, kk, vk, true), f64[limits]!, f64[limits + 1]!, f64[limits + 2]!, f64[limits + 3] === 1];
  }

  const functions: SharedCacheBinding & { scacheMemory(v: number): unknown } = {
    scacheCreate(key, value, max, maxBytes, ttl, updateAgeOnGet, seed) {
      const kk = kindCode(KEY_CODES, key, true);
      const vk = kindCode(VALUE_CODES, value, false);
      const m = readCount(max, 'max', Number.MAX_SAFE_INTEGER);
      const mb = readCount(maxBytes, 'maxBytes', Number.MAX_SAFE_INTEGER);
      const t = readCount(ttl, 'ttl', MAX_TTL);
      const [lo, hi] = seedWords(seed, 'GoCache');
      const d = kit.homeDomain();
      kit.hookExit();
      const x = exportsOf(d);
      const id = x.gomap_scache_create(d.thread, kk, vk, m, mb, t, updateAgeOnGet === true ? 1 : 0, lo, hi);
      d.refresh();
      if (id < 0) throw statusError(id, 'create');
      const map = x.gomap_sync_attach(d.thread, id, kk, vk);
      if (map === ATTACH_NO_MEMORY) {
        x.gomap_sync_detach(d.thread, id);
        throw noMemory('create');
      }
      x.gomap_sync_detach(d.thread, id); // the view addView makes holds the creation's reference
      return [kit.addView(d, id, map, kk, vk, true), id];
    },

    scacheAttach: attach,

    scacheMemory(v) {
      return cacheView(v).domain.memory;
    },

    scacheClose(v) {
      const r = kit.lookUpView(v);
      if (r === undefined || !r.cache) return false;
      kit.closeView(r);
      return true;
    },

    scacheGet(v, key) {
      return read(v, key, 1);
    },

    scachePeek(v, key) {
      return read(v, key, 0);
    },

    scacheFastGet() {
      const r = cacheView(ioF64[CELL_HANDLE]);
      const d = r.domain;
      const arg = d.thread + IO_KEY;
      if (r.keyKind === K_F64) kit.write(d, K_F64, true, arg, 0, ioF64[CELL_KEY]);
      else kit.write(d, K_I64, true, arg, 0, ioI64[CELL_KEY]);
      const result = exportsOf(d).gomap_scache_get(d.thread, r.map, now(r), 1);
      d.refresh();
      if (result < 0) throw noMemory('get');
      ioF64[CELL_RESULT] = result;
      if (result === 0) return undefined;
      const out = d.thread + IO_OUT;
      if (r.valueKind === K_F64) ioF64[CELL_VALUE] = d.f64[out >>> 3]!;
      else if (r.valueKind === K_I64) ioI64[CELL_VALUE] = d.i64[out >>> 3]!;
      else return kit.readValue(d, r.valueKind, out);
      return undefined;
    },

    scacheHas(v, key) {
      const r = cacheView(v);
      const d = prepare(r, key);
      return exportsOf(d).gomap_scache_has(d.thread, r.map, now(r)) === 1;
    },

    scacheRemainingTtl(v, key) {
      const r = cacheView(v);
      const d = prepare(r, key);
      return exportsOf(d).gomap_scache_remaining_ttl(d.thread, r.map, now(r));
    },

    scacheSize(v) {
      const r = cacheView(v);
      return exportsOf(r.domain).gomap_scache_size(r.map);
    },

    scacheStats(v): NativeCacheStats {
      const r = cacheView(v);
      const d = r.domain;
      exportsOf(d).gomap_scache_stats(d.thread, r.map);
      d.refresh();
      return cacheStatsAt(d.f64, (d.thread + IO_STATS) >>> 3);
    },

    scacheEntries(v, keysOnly) {
      const r = cacheView(v);
      const d = r.domain;
      const only = keysOnly === true;
      const count = exportsOf(d).gomap_scache_entries(d.thread, r.map, now(r), only ? 1 : 0);
      d.refresh();
      if (count < 0) throw noMemory('entries');
      const flat = new Array<unknown>(only ? count : 2 * count);
      const u32 = d.u32;
      let at = u32[((d.thread + IO_OUT) >>> 2) + 2]!;
      for (let i = 0; i < count; i++) {
        at = (at + 7) & ~7;
        const h = at >>> 2;
        const keyLen = u32[h + 1]!;
        const valueLen = u32[h + 3]!;
        const keyAt = at + ENTRY_HEAD;
        flat[only ? i : 2 * i] = kit.blobValue(d, r.keyKind, u32[h]!, keyAt, keyLen);
        if (!only) flat[2 * i + 1] = kit.blobValue(d, r.valueKind, u32[h + 2]!, keyAt + keyLen, valueLen);
        at = keyAt + keyLen + valueLen;
      }
      return flat;
    },

    scacheSet(v, key, value, ttl, report) {
      const r = cacheView(v);
      if (typeof ttl !== 'number') throw typeError(`GoCache set ttl must be a number, got ${nativeTypeName(ttl)}`);
      let t = -1;
      if (ttl !== -1) {
        if (!(ttl >= 0 && ttl <= MAX_TTL)) throw rangeError('GoCache set ttl must be from 0 to 2^32 - 1 ms');
        t = Math.ceil(ttl);
      }
      const d = prepare(r, key, value, true);
      const result = exportsOf(d).gomap_scache_set(d.thread, r.map, now(r), t, report === true ? 1 : 0);
      d.refresh();
      if (result < 0) throw statusError(result, 'set');
      return report === true ? withRemovals(r, result) : result;
    },

    scacheDelete(v, key, report) {
      const r = cacheView(v);
      const d = prepare(r, key);
      const removed = exportsOf(d).gomap_scache_delete(d.thread, r.map, now(r), report === true ? 1 : 0) === 1;
      return report === true ? withRemovals(r, removed) : removed;
    },

    scacheClear(v, report) {
      const r = cacheView(v);
      exportsOf(r.domain).gomap_scache_sweep(r.domain.thread, r.map, now(r), 0, report === true ? 1 : 0);
      return report === true ? withRemovals(r, undefined) : undefined;
    },

    scachePurge(v, report) {
      const r = cacheView(v);
      exportsOf(r.domain).gomap_scache_sweep(r.domain.thread, r.map, now(r), 1, report === true ? 1 : 0);
      return report === true ? withRemovals(r, undefined) : undefined;
    },

    scacheSetTime(v, ms) {
      const r = cacheView(v);
      r.manualNow = readCount(ms, 'manual time', MAX_MANUAL_TIME);
    },
  };
  if (process.env.GOMAP_TESTING === '1') {
    functions.scacheTestingHoldWriteLock = (v: number, flagIndex: number): void => {
      const r = cacheView(v);
      exportsOf(r.domain).gomap_sync_testing_hold_write_lock(r.domain.thread, r.map, flagIndex * 4);
    };
  }
  return functions;
}
