/**
 * `GoCache<K, V>`: a bounded cache built into the Go table (API.md "GoCache").
 *
 * The entries, their recency bits, expiry times and byte charges live in native memory
 * (native/core/cache.h): eviction (CLOCK over buckets), expiry (checked on read, swept
 * on writes) and the limits are enforced there, inside each call. This class checks
 * arguments, converts keys and values as GoMap does (identity ids for object keys of
 * `'any'` caches, a slab for `'any'` values, codecs for `'json'` / `'v8'`), runs
 * `onEvict` after each native call for the entries that call removed, and
 * de-duplicates `fetch` loads. A shared cache (`shared: true`) delegates to its view
 * (shared-cache.ts), whose native side is a SharedCache (native/core/shared_cache.h).
 *
 * @module
 */
import { binding } from './backend.ts';
import type { CacheBinding, CacheHandle } from './binding.ts';
import { codecOf, isIdentityKey, ObjectIds, ValueSlab, type ValueCodec } from './codecs.ts';
import { describeType, ERR_GOMAP_CLOSED, rangeError, typeError, type CodedError } from './errors.ts';
import { KEY_KINDS, nativeValueKind, VALUE_KINDS, type KeyKind, type ValueKind } from './kinds.ts';
import {
  checkCacheHandle,
  requireSharedCacheBinding,
  SharedCacheView,
  type GoCacheHandle,
  type RemovalCallback,
} from './shared-cache.ts';
import type { SyncKeyKind, SyncValueKind } from './sync-binding.ts';

/** Why `onEvict` was called. */
export type EvictionReason = 'evict' | 'expire' | 'delete' | 'set';

/** Options of `new GoCache(options)`. At least one of `max`, `maxBytes`, `ttl` is required. */
export interface GoCacheOptions<K, V> {
  /**
   * The most entries the cache holds (an integer from 1 to 2^53 - 1). After any call
   * returns, `size <= max`: a set that would go over evicts first the expired entries it
   * meets, then the least recently used ones (approximately: a CLOCK over the table).
   */
  max?: number;
  /**
   * The most bytes of keys + values the cache holds (an integer from 1 to 2^53 - 1), as
   * measured natively: a string costs its UTF-16 units (1 byte each when every unit is
   * below 256, else 2), bytes their length, numbers and bigints 8, `'json'` / `'v8'`
   * values their encoded length, `'any'` values what {@link GoCacheOptions.sizeOf}
   * says. The table's own overhead is not counted. An entry larger than `maxBytes` on its
   * own is refused: it is not stored, an older entry under its key is deleted (reason
   * `'delete'`), and `onEvict(value, key, 'evict')` reports the refused value.
   */
  maxBytes?: number;
  /**
   * The byte charge of an `'any'` value (required for `'any'` values with `maxBytes`;
   * not allowed for other kinds, which are measured natively). Must return an integer
   * from 0 to 2^32 - 1.
   */
  sizeOf?: (value: V, key: K) => number;
  /**
   * Default time-to-live of an entry, in ms (an integer from 0 to 2^32 - 1, about 49.7
   * days); 0 or absent: entries do not expire. Expiry is checked on every read (an
   * expired entry reads as absent and is removed, reason `'expire'`) and swept a few
   * buckets at a time on writes; there are no timers.
   */
  ttl?: number;
  /** Restart an entry's time-to-live on every `get` (not on `peek` / `has`). Default false. */
  updateAgeOnGet?: boolean;
  /** How keys are stored and compared, as for GoMap. Default `'any'`. */
  key?: KeyKind;
  /** How values are stored, as for GoMap. Default `'any'`. */
  value?: ValueKind;
  /**
   * A cache shared between the worker threads of this process, backed by a SyncMap's
   * concurrent table: `cache.handle` names it, `GoCache.attach(handle)` opens a view of
   * it in another thread. Reads (`get`, `peek`, `has`, `getRemainingTTL`, `size`) take
   * no lock; writes serialize on the cache's lock and evict inside it, so `max` and
   * `maxBytes` hold after every call in every thread. Needs explicit non-`'any'` `key`
   * and `value` kinds (values are stored encoded; reads return copies). Per view (per
   * thread): `onEvict` runs in the thread whose call removed the entry; `fetch` loads
   * are de-duplicated per view. An expired entry reads as absent in every thread and is
   * removed by the next write that meets it (or `purgeStale`). `stats()` and `size` are
   * the cache's, counted across all views. Default false.
   */
  shared?: boolean;
  /**
   * The loader of {@link GoCache.fetch}: called at most once at a time per key, however
   * many callers wait. Its result is cached (unless `undefined`); a rejection caches
   * nothing and rejects every waiter with the loader's error. `signal` aborts when the
   * key is deleted or the cache cleared or closed while the load runs.
   */
  fetch?: (key: K, ctx: { signal: AbortSignal }) => Promise<V | undefined> | V | undefined;
  /**
   * Called after each call that removed entries, once per removed entry: `'evict'`
   * (pushed out by a limit, or refused as too large), `'expire'` (its ttl ran out),
   * `'delete'` (`delete`, `clear`, or a refused overwrite), `'set'` (its value was
   * replaced; not called when the new value is the same `'any'` value). Runs after the
   * native call returns, so it may use the cache. If it throws, the remaining entries
   * are still reported and the first error is rethrown.
   */
  onEvict?: (value: V, key: K, reason: EvictionReason) => void;
  /** A fixed hash seed (reproducible benchmarks), as for GoMap. Default random. */
  seed?: bigint;
}

/** Options of {@link GoCache.set}. */
/** Options of {@link GoCache.attach}: the per-view functions (they cannot cross threads). */
export interface GoCacheAttachOptions<K, V> {
  /** The loader of {@link GoCache.fetch} for this view (loads are de-duplicated per view). */
  fetch?: GoCacheOptions<K, V>['fetch'];
  /** Called for the entries this view's calls remove (see {@link GoCacheOptions.onEvict}). */
  onEvict?: GoCacheOptions<K, V>['onEvict'];
}

export type { GoCacheHandle } from './shared-cache.ts';

/** Options of {@link GoCache.set}. */
export interface GoCacheSetOptions {
  /** This entry's time-to-live in ms (0: never expires); default: the cache's `ttl`. */
  ttl?: number;
}

/** Counters of a cache (`stats()`). */
export interface CacheStats {
  /** `get` / `fetch` calls that found a live entry. */
  hits: number;
  /** `get` / `fetch` calls that did not. */
  misses: number;
  /** Entries pushed out by `max` / `maxBytes`. */
  evictions: number;
  /** Entries removed because their ttl ran out. */
  expirations: number;
  /** Entries held now (expired ones count until they are removed). */
  size: number;
  /** Bytes of keys + values held now (see {@link GoCacheOptions.maxBytes}). */
  bytes: number;
  /**
   * Native bytes the cache's table holds (bucket arrays, overflow buckets, out-of-line
   * keys and values, per-entry expiry and recency state): its real memory, beyond `bytes`.
   */
  nativeBytes: number;
}

const cb = binding as unknown as CacheBinding;
const cacheIo = typeof cb.cacheIo === 'object' ? new Float64Array(cb.cacheIo) : new Float64Array(1);
const IO_PENDING = 0;
const IO_INLINE = 1;
const IO_INLINE_CELLS = 2;
const REPORT_NONE = 0;
const REPORT_DRAIN = 1;
const REPORT_INLINE = 2;

const REASONS: readonly EvictionReason[] = ['evict', 'expire', 'delete', 'set'];
const REASON_SET = 3;
const OUTCOME_REFUSED = 2;
const DEFAULT_TTL = -1;
const MAX_TTL = 2 ** 32 - 1;
const MAX_CHARGE = 2 ** 32 - 1;
const OPTION_NAMES = [
  'max',
  'maxBytes',
  'sizeOf',
  'ttl',
  'updateAgeOnGet',
  'key',
  'value',
  'shared',
  'fetch',
  'onEvict',
  'seed',
] as const;

declare const kManualClockType: unique symbol;
/**
 * `cache[Symbol.for('gomap.cache.manualClock')](ms)`: from now on the cache's clock reads
 * `ms` (an integer >= 1; 0 returns to the monotonic clock). For deterministic benchmarks
 * and tests of expiry; not part of the API.
 */
const kManualClock = Symbol.for('gomap.cache.manualClock') as typeof kManualClockType;

const kDispose: typeof Symbol.dispose = (Symbol.dispose ?? Symbol.for('nodejs.dispose')) as typeof Symbol.dispose;

/** The view GoCache.attach opened, for the constructor call that follows at once. */
let pendingAttach: { v: number; id: number } | null = null;

const SHARED_KEY_KINDS: readonly SyncKeyKind[] = ['string', 'f64', 'i64', 'bytes'];
const SHARED_VALUE_KINDS: readonly SyncValueKind[] = ['string', 'f64', 'i64', 'bytes', 'json', 'v8'];

function checkSharedKind<T extends string>(value: unknown, kinds: readonly T[], what: string): T {
  if (typeof value === 'string' && (kinds as readonly string[]).includes(value)) return value as T;
  const list = kinds.map((k) => `'${k}'`).join(', ');
  const got = value === undefined ? "nothing (the default 'any')" : typeof value === 'string' ? `'${value}'` : describeType(value);
  throw typeError(
    `GoCache option '${what}' of a shared cache must be one of ${list}, got ${got} ('any' keys and values are live JS values of one thread: they cannot be shared)`,
  );
}

const cacheFinalizer = new FinalizationRegistry<CacheHandle>((h) => {
  cb.cacheClose(h);
});

function cacheClosedError(): CodedError {
  const e = new Error('GoCache is closed: it cannot be used after close()') as CodedError;
  Object.defineProperty(e, 'code', { value: ERR_GOMAP_CLOSED, enumerable: true, writable: true, configurable: true });
  return e;
}

function checkLimit(v: unknown, what: string): number {
  if (typeof v !== 'number') throw typeError(`GoCache option '${what}' must be a number, got ${describeType(v)}`);
  if (!Number.isSafeInteger(v) || v < 1) {
    throw rangeError(`GoCache option '${what}' must be an integer from 1 to 2^53 - 1, got ${String(v)}`);
  }
  return v;
}

function checkTtl(v: unknown, what: string): number {
  if (typeof v !== 'number') throw typeError(`GoCache ${what} must be a number of ms, got ${describeType(v)}`);
  if (!(v >= 0 && v <= MAX_TTL)) {
    throw rangeError(`GoCache ${what} must be from 0 to 2^32 - 1 ms (about 49.7 days), got ${String(v)}`);
  }
  return Math.ceil(v);
}

function checkKind<T extends string>(value: unknown, kinds: readonly T[], what: string): T {
  if (typeof value === 'string' && (kinds as readonly string[]).includes(value)) return value as T;
  const list = kinds.map((k) => `'${k}'`).join(', ');
  throw typeError(`GoCache option '${what}' must be one of ${list}, got ${typeof value === 'string' ? `'${value}'` : describeType(value)}`);
}

function checkFunction(v: unknown, what: string): void {
  if (typeof v !== 'function') throw typeError(`GoCache option '${what}' must be a function, got ${describeType(v)}`);
}

interface Inflight<V> {
  promise: Promise<V | undefined>;
  controller: AbortController;
}

/**
 * A bounded cache: entry, byte and age limits enforced natively inside each call, loader
 * de-duplication with {@link GoCache.fetch}, removal callbacks with reasons.
 *
 * Differences from lru-cache: eviction approximates LRU (CLOCK over the hash table)
 * instead of keeping an exact recency list; iteration order is unspecified; iteration
 * returns a snapshot of the live entries; `set` of an entry over `maxBytes` reports the
 * refused value to `onEvict` with reason `'evict'`.
 *
 * With `shared: true` the cache is one native table for every worker thread of the
 * process: send `cache.handle` to a worker and call {@link GoCache.attach} there. Reads
 * take no lock; the limits hold after every call in every thread (see
 * {@link GoCacheOptions.shared}).
 *
 * @example
 * ```ts
 * const cache = new GoCache<string, string>({ key: 'string', value: 'string', max: 100_000, ttl: 60_000 });
 * cache.set('user:1', 'Ada');
 * cache.get('user:1'); // 'Ada'
 * ```
 */
export class GoCache<K = unknown, V = unknown> {
  #h: CacheHandle;
  readonly #keyKind: KeyKind;
  readonly #ids: ObjectIds | null;
  readonly #slab: ValueSlab | null;
  readonly #codec: ValueCodec | null;
  readonly #report: boolean;
  readonly #sizeOf: ((value: V, key: K) => number) | null;
  readonly #loader: ((key: K, ctx: { signal: AbortSignal }) => Promise<V | undefined> | V | undefined) | null;
  readonly #onEvict: ((value: V, key: K, reason: EvictionReason) => void) | null;
  readonly #inflight = new Map<unknown, Inflight<V>>();
  /** The view of a shared cache (then #h is its view handle, 0 once closed), else null. */
  readonly #shared: SharedCacheView | null = null;

  /**
   * A new, empty cache.
   *
   * @throws TypeError for unknown or mistyped options, or when none of `max`,
   *   `maxBytes`, `ttl` is given, or for `shared: true` without non-`'any'` `key` and
   *   `value` kinds; RangeError for limits out of range.
   */
  constructor(options: GoCacheOptions<K, V>) {
    if (options === null || typeof options !== 'object') {
      throw typeError(`GoCache options must be an object, got ${describeType(options)}`);
    }
    for (const name of Object.keys(options)) {
      if (!(OPTION_NAMES as readonly string[]).includes(name)) {
        throw typeError(`GoCache has no option '${name}' (options are ${OPTION_NAMES.map((n) => `'${n}'`).join(', ')})`);
      }
    }
    const o = options as Record<string, unknown>;
    if (o.shared !== undefined && typeof o.shared !== 'boolean') {
      throw typeError(`GoCache option 'shared' must be a boolean, got ${describeType(o.shared)}`);
    }
    const attached = pendingAttach;
    pendingAttach = null;
    const max = o.max === undefined ? 0 : checkLimit(o.max, 'max');
    const maxBytes = o.maxBytes === undefined ? 0 : checkLimit(o.maxBytes, 'maxBytes');
    const ttl = o.ttl === undefined ? 0 : checkTtl(o.ttl, "option 'ttl'");
    if (max === 0 && maxBytes === 0 && ttl === 0) {
      throw typeError("GoCache needs at least one of the options 'max', 'maxBytes', 'ttl' (an unbounded cache is a GoMap)");
    }
    if (o.updateAgeOnGet !== undefined && typeof o.updateAgeOnGet !== 'boolean') {
      throw typeError(`GoCache option 'updateAgeOnGet' must be a boolean, got ${describeType(o.updateAgeOnGet)}`);
    }
    const shared = o.shared === true;
    const keyKind = shared ? checkSharedKind(o.key, SHARED_KEY_KINDS, 'key') : o.key === undefined ? 'any' : checkKind(o.key, KEY_KINDS, 'key');
    const valueKind = shared
      ? checkSharedKind(o.value, SHARED_VALUE_KINDS, 'value')
      : o.value === undefined
        ? 'any'
        : checkKind(o.value, VALUE_KINDS, 'value');
    if (o.sizeOf !== undefined) {
      checkFunction(o.sizeOf, 'sizeOf');
      if (valueKind !== 'any') {
        throw typeError(`GoCache option 'sizeOf' is for 'any' values only (value kind '${valueKind}' is measured natively)`);
      }
    }
    if (maxBytes !== 0 && valueKind === 'any' && o.sizeOf === undefined) {
      throw typeError("GoCache option 'sizeOf' is required with 'maxBytes' for 'any' values (they live on the JS heap)");
    }
    if (o.fetch !== undefined) checkFunction(o.fetch, 'fetch');
    if (o.onEvict !== undefined) checkFunction(o.onEvict, 'onEvict');
    let seed: bigint | undefined;
    if (o.seed !== undefined) {
      if (typeof o.seed !== 'bigint') throw typeError(`GoCache option 'seed' must be a bigint, got ${describeType(o.seed)}`);
      if (o.seed < -(2n ** 63n) || o.seed > 2n ** 64n - 1n) throw rangeError("GoCache option 'seed' must fit in 64 bits");
      seed = BigInt.asUintN(64, o.seed);
    }
    if (shared) {
      const n = requireSharedCacheBinding();
      let v: number;
      let id: number;
      if (attached !== null) {
        ({ v, id } = attached);
      } else {
        [v, id] = n.scacheCreate(keyKind as SyncKeyKind, valueKind as SyncValueKind, max, maxBytes, ttl, o.updateAgeOnGet === true, seed);
      }
      this.#keyKind = keyKind;
      this.#ids = null;
      this.#slab = null;
      this.#codec = null; // the view decodes
      this.#sizeOf = null;
      this.#loader = (o.fetch as GoCacheOptions<K, V>['fetch']) ?? null;
      this.#onEvict = (o.onEvict as ((value: V, key: K, reason: EvictionReason) => void) | undefined) ?? null;
      this.#report = false;
      this.#h = v;
      this.#shared = new SharedCacheView(this, n, v, id, keyKind as SyncKeyKind, valueKind as SyncValueKind, this.#onEvict as RemovalCallback | null);
      return;
    }
    if (typeof cb.cacheCreate !== 'function') {
      throw new Error('gomap: the loaded native addon has no cache functions (a stale build? run npm run build:native)');
    }
    this.#keyKind = keyKind;
    this.#ids = keyKind === 'any' ? new ObjectIds() : null;
    this.#slab = valueKind === 'any' ? new ValueSlab() : null;
    this.#codec = codecOf(valueKind);
    this.#sizeOf = (o.sizeOf as ((value: V, key: K) => number) | undefined) ?? null;
    this.#loader = (o.fetch as GoCacheOptions<K, V>['fetch']) ?? null;
    this.#onEvict = (o.onEvict as ((value: V, key: K, reason: EvictionReason) => void) | undefined) ?? null;
    this.#report = this.#onEvict !== null || this.#ids !== null || this.#slab !== null;
    const mode = this.#onEvict !== null ? REPORT_DRAIN : this.#report ? REPORT_INLINE : REPORT_NONE;
    this.#h = cb.cacheCreate(keyKind, nativeValueKind(valueKind), max, maxBytes, ttl, o.updateAgeOnGet === true, mode, seed);
    cacheFinalizer.register(this, this.#h, this);
  }

  /**
   * A new view, in this thread, of the shared cache a handle names (`cache.handle` of a
   * shared cache in any thread of this process). Limits and kinds come from the cache;
   * `fetch` and `onEvict` are this view's own (functions cannot cross threads).
   *
   * @example
   * ```ts
   * // main thread
   * const cache = new GoCache<string, string>({ shared: true, key: 'string', value: 'string', max: 10_000 });
   * new Worker('./worker.js', { workerData: cache.handle });
   * // worker.js
   * const cache = GoCache.attach<string, string>(workerData);
   * ```
   *
   * @throws TypeError when `handle` is not a GoCache handle, names a SyncMap, or names a
   *   cache of other kinds, or for bad options; Error with code `ERR_GOMAP_CLOSED` when
   *   the cache is gone (every view of it was closed before this attach).
   */
  static attach<K = unknown, V = unknown>(handle: GoCacheHandle, options?: GoCacheAttachOptions<K, V>): GoCache<K, V> {
    const h = checkCacheHandle(handle);
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw typeError(`GoCache.attach options must be an object, got ${describeType(options)}`);
    }
    const o = (options ?? {}) as Record<string, unknown>;
    for (const name of Object.keys(o)) {
      if (name !== 'fetch' && name !== 'onEvict') {
        throw typeError(`GoCache.attach has no option '${name}' (options are 'fetch', 'onEvict')`);
      }
    }
    if (o.fetch !== undefined) checkFunction(o.fetch, 'fetch');
    if (o.onEvict !== undefined) checkFunction(o.onEvict, 'onEvict');
    const n = requireSharedCacheBinding();
    const [v, max, maxBytes, ttl, updateAgeOnGet] = n.scacheAttach(h.id, h.key, h.value, h.memory);
    pendingAttach = { v, id: h.id };
    try {
      return new GoCache<K, V>({
        shared: true,
        key: h.key,
        value: h.value,
        ...(max !== 0 ? { max } : {}),
        ...(maxBytes !== 0 ? { maxBytes } : {}),
        ...(ttl !== 0 ? { ttl } : {}),
        updateAgeOnGet,
        ...(o.fetch !== undefined ? { fetch: o.fetch as GoCacheOptions<K, V>['fetch'] } : {}),
        ...(o.onEvict !== undefined ? { onEvict: o.onEvict as GoCacheOptions<K, V>['onEvict'] } : {}),
      });
    } catch (e) {
      pendingAttach = null;
      n.scacheClose(v);
      throw e;
    }
  }

  /**
   * A structured-cloneable plain object naming this shared cache: send it to another
   * worker thread and call {@link GoCache.attach} there. Valid while at least one view
   * of the cache is open.
   *
   * @throws TypeError on a cache created without `shared: true`; Error with code
   *   `ERR_GOMAP_CLOSED` after close().
   */
  get handle(): GoCacheHandle {
    const s = this.#shared;
    if (s === null) {
      if (this.#h === 0) throw cacheClosedError();
      throw typeError('GoCache.handle is only for shared caches: create the cache with shared: true to use it from other threads');
    }
    return s.handle;
  }

  /** Whether this cache is shared between threads (`shared: true`, or from {@link GoCache.attach}). */
  get shared(): boolean {
    return this.#shared !== null;
  }

  // ---- reads -------------------------------------------------------------------------

  /** The value of `key` (marking it recently used), or `undefined`. Counts a hit or a miss. */
  get(key: K): V | undefined {
    if (this.#shared !== null) return this.#shared.get(key) as V | undefined;
    // The hot path, written out (no shared helper): a closed cache's handle 0 makes the
    // native call throw ERR_GOMAP_CLOSED.
    const ids = this.#ids;
    const raw = ids !== null && isIdentityKey(key) ? cb.cacheGet(this.#h, undefined, ids.idOf(key) ?? 0) : cb.cacheGet(this.#h, key);
    if (this.#report) this.#settle();
    if (raw === undefined) return undefined;
    if (this.#slab !== null) return this.#slab.values[raw as number] as V;
    return this.#codec === null ? (raw as V) : (this.#codec.decode(raw) as V);
  }

  /** The value of `key` without marking it used (no recency update, no stats), or `undefined`. */
  peek(key: K): V | undefined {
    if (this.#shared !== null) return this.#shared.peek(key) as V | undefined;
    const raw = this.#read(key, cb.cachePeek);
    return raw === undefined ? undefined : this.#decode(raw);
  }

  /** Whether `key` holds a live entry (no recency update). */
  has(key: K): boolean {
    if (this.#shared !== null) return this.#shared.n.scacheHas(this.#shared.v, key);
    return this.#read(key, cb.cacheHas) === true;
  }

  /** Milliseconds until `key` expires: `Infinity` when it never does, 0 when it is absent. */
  getRemainingTTL(key: K): number {
    if (this.#shared !== null) return this.#shared.n.scacheRemainingTtl(this.#shared.v, key);
    return this.#read(key, cb.cacheRemainingTtl) as number;
  }

  /** Entries held (expired entries count until a read or a write sweep removes them). */
  get size(): number {
    if (this.#shared !== null) return this.#shared.n.scacheSize(this.#shared.v);
    return cb.cacheSize(this.#h);
  }

  /** Hits, misses, evictions, expirations, size, bytes (and the table's native bytes). */
  stats(): CacheStats {
    const s = this.#shared !== null ? this.#shared.n.scacheStats(this.#shared.v) : cb.cacheStats(this.#h);
    return {
      hits: s.hits,
      misses: s.misses,
      evictions: s.evictions,
      expirations: s.expirations,
      size: s.size,
      bytes: s.bytes,
      nativeBytes: s.tableBytes,
    };
  }

  // ---- writes ------------------------------------------------------------------------

  /**
   * Stores `value` for `key`, for `options.ttl` ms (default: the cache's ttl), then evicts
   * as needed to stay within `max` / `maxBytes`. Returns the cache.
   *
   * @throws TypeError for a key or value of the wrong kind or bad options; RangeError for
   *   sizes out of range or memory that cannot be allocated (the cache is unchanged).
   */
  set(key: K, value: V, options?: GoCacheSetOptions): this {
    const h = this.#h;
    if (h === 0) throw cacheClosedError();
    let ttl = DEFAULT_TTL;
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') {
        throw typeError(`GoCache set options must be an object, got ${describeType(options)}`);
      }
      if (options.ttl !== undefined) ttl = checkTtl(options.ttl, 'set ttl');
    }
    if (this.#shared !== null) {
      this.#shared.set(key, value, ttl);
      return this;
    }
    let refId: number | undefined;
    let newKey: object | symbol | undefined;
    const ids = this.#ids;
    if (ids !== null && isIdentityKey(key)) {
      refId = ids.idOf(key);
      if (refId === undefined) {
        refId = ids.peekNext();
        newKey = key;
      }
    }
    let raw: unknown = value;
    let charge = 0;
    const slab = this.#slab;
    if (slab !== null) {
      if (this.#sizeOf !== null) {
        const c = this.#sizeOf(value, key);
        if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > MAX_CHARGE) {
          throw rangeError(`GoCache sizeOf must return an integer from 0 to 2^32 - 1, got ${typeof c === 'number' ? String(c) : describeType(c)}`);
        }
        charge = c;
      }
      raw = slab.candidate();
    } else if (this.#codec !== null) {
      raw = this.#codec.encode(value);
    }
    if (this.#h === 0) throw cacheClosedError(); // sizeOf / a codec may have closed it
    const outcome = refId === undefined ? cb.cacheSet(h, key, raw, ttl, charge) : cb.cacheSet(h, key, raw, ttl, charge, refId);
    const refused = outcome === OUTCOME_REFUSED;
    if (!refused) {
      if (slab !== null) slab.take(value);
      if (newKey !== undefined) ids!.commit(newKey, refId!);
    }
    if (this.#report) {
      if (cacheIo[IO_INLINE] !== 0) this.#releaseInline();
      if (cacheIo[IO_PENDING] !== 0) {
        this.#drain(refused ? [value, key] : null, value);
        return this;
      }
    }
    if (refused && this.#onEvict !== null) this.#onEvict(value, key, 'evict');
    return this;
  }

  /** Removes `key` (onEvict reason `'delete'`) and aborts its running fetch; returns whether it was present. */
  delete(key: K): boolean {
    this.#abortLoad(key);
    if (this.#shared !== null) return this.#shared.delete(key);
    return this.#read(key, cb.cacheDelete) === true;
  }

  /** Removes every entry (onEvict reason `'delete'` for each) and aborts every running fetch. */
  clear(): void {
    const h = this.#h;
    if (h === 0) throw cacheClosedError();
    for (const load of this.#inflight.values()) load.controller.abort(abortError('the cache was cleared'));
    this.#inflight.clear();
    if (this.#shared !== null) {
      this.#shared.clear();
      return;
    }
    cb.cacheClear(h);
    if (this.#report && (cacheIo[IO_PENDING] !== 0 || cacheIo[IO_INLINE] !== 0)) {
      if (this.#onEvict !== null) {
        this.#drain(null, undefined);
      } else {
        if (cacheIo[IO_PENDING] !== 0) cb.cacheDrain(h);
        cacheIo[IO_INLINE] = 0;
        this.#ids?.clear();
        this.#slab?.clear();
      }
    }
  }

  /** Removes every expired entry now (reads and writes also do, lazily). */
  purgeStale(): void {
    const h = this.#h;
    if (h === 0) throw cacheClosedError();
    if (this.#shared !== null) {
      this.#shared.purge();
      return;
    }
    cb.cachePurge(h);
    if (this.#report) this.#settle();
  }

  // ---- loads -------------------------------------------------------------------------

  /**
   * The cached value of `key`; else the result of the `fetch` option's loader, cached
   * (unless `undefined`) and returned. Callers that ask for a key while its load runs
   * share that load: the loader runs once. A rejected load caches nothing and rejects
   * every waiter with the loader's error; a load whose key is deleted (or whose cache
   * is cleared or closed) is aborted through its signal and its waiters rejected with
   * the abort reason. Without a `fetch` option, resolves to `get(key)`.
   */
  fetch(key: K): Promise<V | undefined> {
    let raw: unknown;
    try {
      raw = this.#shared !== null ? this.#shared.get(key) : this.#read(key, cb.cacheGet);
    } catch (e) {
      return Promise.reject(e);
    }
    if (raw !== undefined) return Promise.resolve(this.#shared !== null ? (raw as V) : this.#decode(raw));
    const loader = this.#loader;
    if (loader === null) return Promise.resolve(undefined);
    const id = this.#loadId(key);
    const running = this.#inflight.get(id);
    if (running !== undefined) return running.promise;
    const controller = new AbortController();
    const load = { controller } as Inflight<V>;
    this.#inflight.set(id, load);
    const finish = (): void => {
      if (this.#inflight.get(id) === load) this.#inflight.delete(id);
    };
    load.promise = new Promise<V | undefined>((resolve) => {
      resolve(loader(key, { signal: controller.signal }));
    }).then(
      (value) => {
        finish();
        if (controller.signal.aborted) throw controller.signal.reason;
        if (value !== undefined && this.#h !== 0) this.set(key, value);
        return value;
      },
      (error: unknown) => {
        finish();
        throw error;
      },
    );
    return load.promise;
  }

  // ---- iteration ---------------------------------------------------------------------

  /** The keys of the live entries (a snapshot, in no particular order). */
  keys(): IterableIterator<K> {
    const raw = this.#entries(true);
    if (this.#shared !== null) return (raw as K[])[Symbol.iterator]();
    return raw.map((k) => this.#decodeKey(k) as K)[Symbol.iterator]();
  }

  /** The values of the live entries (a snapshot, in the order of {@link GoCache.keys}). */
  values(): IterableIterator<V> {
    const raw = this.#entries(false);
    const out: V[] = [];
    if (this.#shared !== null) {
      for (let i = 1; i < raw.length; i += 2) out.push(raw[i] as V);
      return out[Symbol.iterator]();
    }
    for (let i = 1; i < raw.length; i += 2) out.push(this.#decode(raw[i]));
    return out[Symbol.iterator]();
  }

  /** `[key, value]` pairs of the live entries (a snapshot, in no particular order). */
  entries(): IterableIterator<[K, V]> {
    const raw = this.#entries(false);
    const out: [K, V][] = [];
    if (this.#shared !== null) {
      for (let i = 0; i < raw.length; i += 2) out.push([raw[i] as K, raw[i + 1] as V]);
      return out[Symbol.iterator]();
    }
    for (let i = 0; i < raw.length; i += 2) out.push([this.#decodeKey(raw[i]) as K, this.#decode(raw[i + 1])]);
    return out[Symbol.iterator]();
  }

  /** Same as {@link GoCache.entries}. */
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** Calls `fn(value, key, cache)` for each live entry of a snapshot. */
  forEach(fn: (value: V, key: K, cache: this) => void, thisArg?: unknown): void {
    if (typeof fn !== 'function') throw typeError(`GoCache forEach callback must be a function, got ${describeType(fn)}`);
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }

  // ---- lifetime ----------------------------------------------------------------------

  /**
   * Frees the native memory now (no onEvict calls) and aborts running fetches. Later
   * use throws an `Error` with code `ERR_GOMAP_CLOSED`. Calling it again does nothing.
   */
  close(): void {
    const h = this.#h;
    if (h === 0) return;
    this.#h = 0;
    if (this.#shared !== null) {
      this.#shared.close(this);
    } else {
      cb.cacheClose(h);
      cacheFinalizer.unregister(this);
    }
    for (const load of this.#inflight.values()) load.controller.abort(abortError('the cache was closed'));
    this.#inflight.clear();
    this.#ids?.clear();
    this.#slab?.clear();
  }

  /** Same as {@link GoCache.close}, for `using` declarations. */
  [kDispose](): void {
    this.close();
  }

  /** Testing hook (see kManualClock). */
  [kManualClock](ms: number): void {
    const h = this.#h;
    if (h === 0) throw cacheClosedError();
    if (this.#shared !== null) this.#shared.n.scacheSetTime(h, ms);
    else cb.cacheSetTime(h, ms);
  }

  /** `'GoCache'`. */
  get [Symbol.toStringTag](): string {
    return 'GoCache';
  }

  // ---- internals ---------------------------------------------------------------------

  /** A single-key native call, with the identity id of an object key; drains removals. */
  #read(key: K, call: (h: CacheHandle, key: unknown, refId?: number) => unknown): unknown {
    const h = this.#h;
    if (h === 0) throw cacheClosedError();
    let r: unknown;
    if (this.#ids !== null && isIdentityKey(key)) {
      // An object never stored has no id: 0 names nothing (the lookup misses).
      r = call(h, undefined, this.#ids.idOf(key) ?? 0);
    } else {
      r = call(h, key);
    }
    if (this.#report) this.#settle();
    return r;
  }

  #entries(keysOnly: boolean): unknown[] {
    const h = this.#h;
    if (h === 0) throw cacheClosedError();
    if (this.#shared !== null) return this.#shared.entries(keysOnly);
    const raw = cb.cacheEntries(h, keysOnly);
    if (this.#report) this.#settle();
    return raw;
  }

  #decode(raw: unknown): V {
    if (this.#slab !== null) return this.#slab.values[raw as number] as V;
    if (this.#codec !== null) return this.#codec.decode(raw) as V;
    return raw as V;
  }

  #decodeKey(raw: unknown): unknown {
    return this.#ids !== null && Array.isArray(raw) ? this.#ids.keyOf(raw[0] as number) : raw;
  }

  /** The key of a load in the in-flight table (bytes keys by content). */
  #loadId(key: K): unknown {
    if (this.#keyKind === 'bytes' && key instanceof Uint8Array) {
      return 'bytes:' + Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
    }
    return key;
  }

  #abortLoad(key: K): void {
    if (this.#inflight.size === 0) return;
    const id = this.#loadId(key);
    const load = this.#inflight.get(id);
    if (load === undefined) return;
    this.#inflight.delete(id);
    load.controller.abort(abortError('the key was deleted'));
  }

  /** Frees what the last call removed: inline reports, then drained ones. */
  #settle(): void {
    if (cacheIo[IO_INLINE] !== 0) this.#releaseInline();
    if (cacheIo[IO_PENDING] !== 0) this.#drain(null, undefined);
  }

  /** Frees the slab cells and identity ids of removals reported inline (report mode 2). */
  #releaseInline(): void {
    const n = cacheIo[IO_INLINE]!;
    const slab = this.#slab;
    const ids = this.#ids;
    for (let i = 0; i < n; i++) {
      const cell = cacheIo[IO_INLINE_CELLS + 2 * i]!;
      if (slab !== null && cell >= 0) slab.release(cell);
      const id = cacheIo[IO_INLINE_CELLS + 2 * i + 1]!;
      if (ids !== null && id !== 0) {
        const key = ids.keyOf(id);
        if (key !== undefined) ids.forget(key, id);
      }
    }
    cacheIo[IO_INLINE] = 0;
  }

  /**
   * Takes the removed entries from native code, frees their identity ids and slab cells,
   * then calls onEvict for each (and for a refused value, `refused = [value, key]`).
   * `newValue`: the value just set (a 'set' report of the same 'any' value is skipped).
   */
  #drain(refused: [V, K] | null, newValue: unknown): void {
    const raw = cb.cacheDrain(this.#h);
    const ids = this.#ids;
    const slab = this.#slab;
    const n = raw.length / 3;
    const reasons = new Array<number>(n);
    const keys = new Array<unknown>(n);
    const values = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      const reason = raw[3 * i] as number;
      let key = raw[3 * i + 1];
      let value = raw[3 * i + 2];
      if (ids !== null && Array.isArray(key)) {
        const id = key[0] as number;
        key = ids.keyOf(id);
        if (reason !== REASON_SET && key !== undefined) ids.forget(key as object | symbol, id);
      }
      if (slab !== null) {
        const cell = value as number;
        value = slab.values[cell];
        slab.release(cell);
      } else if (this.#codec !== null) {
        value = this.#onEvict !== null ? this.#codec.decode(value) : undefined;
      }
      reasons[i] = reason;
      keys[i] = key;
      values[i] = value;
    }
    const onEvict = this.#onEvict;
    if (onEvict === null) return;
    let failure: unknown = null;
    let failed = false;
    const call = (value: unknown, key: unknown, reason: EvictionReason): void => {
      try {
        onEvict(value as V, key as K, reason);
      } catch (e) {
        if (!failed) {
          failed = true;
          failure = e;
        }
      }
    };
    for (let i = 0; i < n; i++) {
      if (reasons[i] === REASON_SET && slab !== null && values[i] === newValue) continue;
      call(values[i], keys[i], REASONS[reasons[i]!]!);
    }
    if (refused !== null) call(refused[0], refused[1], 'evict');
    if (failed) throw failure;
  }
}

function abortError(message: string): Error {
  const e = new Error(`GoCache fetch aborted: ${message}`);
  e.name = 'AbortError';
  return e;
}
