/**
 * The shared side of `GoCache` (`shared: true`): the raw functions of the engine (the
 * native addon's native/addon/shared_cache_functions.cc, or the WebAssembly engine's
 * lib/wasm/shared-cache-binding.ts), the handle that names a shared cache across
 * threads, and one thread's view of it. `GoCache` delegates to a {@link SharedCacheView}
 * when it is shared. Not part of the public API, except the {@link GoCacheHandle} type.
 *
 * The cache itself (entries, limits, CLOCK eviction, expiry) lives in native memory
 * (native/core/shared_cache.h) and is shared by every thread that attached it; what is
 * per view (per `GoCache` object, so per thread): `onEvict` (called in the thread whose
 * call removed the entry), `fetch` and its de-duplication of concurrent loads (per
 * view), the manual test clock.
 *
 * @module
 */
import { backend, binding } from './backend.ts';
import type { NativeCacheStats } from './binding.ts';
import { codecOf, type ValueCodec } from './codecs.ts';
import { closedError, describeType, typeError, type CodedError } from './errors.ts';
import { FAST_NONE, FastIo, fastKind } from './io-area.ts';
import { syncBinding, type SyncKeyKind, type SyncValueKind } from './sync-binding.ts';

/**
 * What `cache.handle` returns and `GoCache.attach(handle)` takes: a plain,
 * structured-cloneable object naming one shared cache, to send to other worker threads
 * with `postMessage` or `workerData`. Treat it as opaque; it is only valid in the process
 * that made it, and only while at least one view of the cache is open.
 */
export interface GoCacheHandle {
  /** Always `'gomap.GoCache'`. */
  readonly type: 'gomap.GoCache';
  /** The cache's id in this process's registry of shared maps and caches. */
  readonly id: number;
  /** The cache's key kind. */
  readonly key: SyncKeyKind;
  /** The cache's value kind. */
  readonly value: SyncValueKind;
  /**
   * WebAssembly engine only: the shared `WebAssembly.Memory` the cache lives in (the
   * thread that attaches instantiates the engine over it). Absent on the native engine.
   */
  readonly memory?: unknown;
}

/** The native functions (present when the addon was built with shared caches). */
export interface SharedCacheBinding {
  scacheCreate(
    key: SyncKeyKind,
    value: SyncValueKind,
    max: number,
    maxBytes: number,
    ttl: number,
    updateAgeOnGet: boolean,
    seed?: bigint,
  ): [view: number, id: number];
  /** `memory`: the handle's (WebAssembly engine). */
  scacheAttach(
    id: number,
    key: SyncKeyKind,
    value: SyncValueKind,
    memory?: unknown,
  ): [view: number, max: number, maxBytes: number, ttl: number, updateAgeOnGet: boolean];
  /** WebAssembly engine only: the shared `WebAssembly.Memory` of a view's cache, which its handle carries. */
  scacheMemory?(v: number): unknown;
  scacheClose(v: number): boolean;
  scacheGet(v: number, key: unknown): unknown;
  /**
   * get for 'f64' / 'i64' keys through the I/O area (`binding.io`, shared with GoMap and
   * SyncMap): cell 0 the view handle, 1 the key; out: cell 3 found (0 / 1), cell 2 an
   * 'f64' / 'i64' value; other values are the return value.
   */
  scacheFastGet(): unknown;
  scachePeek(v: number, key: unknown): unknown;
  scacheHas(v: number, key: unknown): boolean;
  scacheRemainingTtl(v: number, key: unknown): number;
  scacheSize(v: number): number;
  scacheStats(v: number): NativeCacheStats;
  scacheEntries(v: number, keysOnly: boolean): unknown[];
  /** 0 inserted, 1 replaced, 2 refused; with report, [outcome, reason0, key0, value0, ...]. */
  scacheSet(v: number, key: unknown, value: unknown, ttl: number, report: boolean): number | unknown[];
  scacheDelete(v: number, key: unknown, report: boolean): boolean | unknown[];
  scacheClear(v: number, report: boolean): undefined | unknown[];
  scachePurge(v: number, report: boolean): undefined | unknown[];
  scacheSetTime(v: number, ms: number): void;
  /**
   * WebAssembly engine, testing only (`GOMAP_TESTING=1`): as SyncBinding's
   * syncTestingHoldWriteLock, for the cache's write lock (a worker is meant to be
   * terminated holding it).
   */
  scacheTestingHoldWriteLock?(v: number, flagIndex: number): void;
}

// The addon's functions, or those of the WebAssembly engine's SyncMap binding
// (lib/wasm/shared-cache-binding.ts).
const candidate = (backend === 'wasm' ? syncBinding : binding) as unknown as Partial<SharedCacheBinding> | null;

/** The shared cache functions, or an Error saying that this build has none. */
export function requireSharedCacheBinding(): SharedCacheBinding {
  if (typeof candidate?.scacheCreate === 'function') return candidate as SharedCacheBinding;
  throw new Error(
    `gomap: the loaded ${backend} engine has no shared cache functions (a stale build? run npm run build:native / npm run build:wasm)`,
  );
}

const HANDLE_TYPE = 'gomap.GoCache';
const SYNC_KEY_KINDS: readonly string[] = ['string', 'f64', 'i64', 'bytes'];
const SYNC_VALUE_KINDS: readonly string[] = ['string', 'f64', 'i64', 'bytes', 'json', 'v8'];

/** A frozen handle for the shared cache `id`. */
export function makeCacheHandle(id: number, key: SyncKeyKind, value: SyncValueKind, memory?: unknown): GoCacheHandle {
  return Object.freeze(memory === undefined ? { type: HANDLE_TYPE, id, key, value } : { type: HANDLE_TYPE, id, key, value, memory });
}

/** Checks the shape of a handle given to `GoCache.attach` (TypeError when it is not one). */
export function checkCacheHandle(handle: unknown): GoCacheHandle {
  if (handle === null || typeof handle !== 'object') {
    throw typeError(`GoCache.attach needs a GoCache handle (cache.handle of a shared cache), got ${describeType(handle)}`);
  }
  const h = handle as Record<string, unknown>;
  if (h.type !== HANDLE_TYPE) {
    throw typeError(`GoCache.attach needs a GoCache handle (cache.handle of a shared cache): its 'type' must be '${HANDLE_TYPE}'`);
  }
  if (typeof h.id !== 'number' || !Number.isSafeInteger(h.id) || h.id <= 0) {
    throw typeError(`GoCache.attach: the handle's 'id' must be a positive integer, got ${describeType(h.id)}`);
  }
  if (typeof h.key !== 'string' || !SYNC_KEY_KINDS.includes(h.key)) {
    throw typeError(`GoCache.attach: the handle's 'key' must be one of 'string', 'f64', 'i64', 'bytes'`);
  }
  if (typeof h.value !== 'string' || !SYNC_VALUE_KINDS.includes(h.value)) {
    throw typeError(`GoCache.attach: the handle's 'value' must be one of 'string', 'f64', 'i64', 'bytes', 'json', 'v8'`);
  }
  return makeCacheHandle(h.id, h.key as SyncKeyKind, h.value as SyncValueKind, h.memory);
}

/** The error of every method of a closed cache. */
export function sharedClosedError(): CodedError {
  const e = closedError();
  e.message = 'GoCache is closed: it cannot be used after close()';
  return e;
}

/** Removal reasons, by the native code's numbers. */
export const SHARED_REASONS = ['evict', 'expire', 'delete', 'set'] as const;

/** Called for each entry a call of this view removed. */
export type RemovalCallback = (value: unknown, key: unknown, reason: (typeof SHARED_REASONS)[number]) => void;

// The I/O area of the fast calls (io-area.ts), created on first use.
let io: FastIo | null = null;

/** Closes the view of a shared GoCache that was collected without close(). */
let viewFinalizer: FinalizationRegistry<number> | null = null;

/** One thread's view of a shared cache: conversions and removal reports, no cache logic. */
export class SharedCacheView {
  /** View handle; 0 once closed. */
  v: number;
  readonly n: SharedCacheBinding;
  readonly id: number;
  readonly keyKind: SyncKeyKind;
  readonly valueKind: SyncValueKind;
  readonly codec: ValueCodec | null;
  readonly onEvict: RemovalCallback | null;
  /** How keys and values travel in the fast get: in the I/O area (f64, i64), or not at all. */
  readonly #fastKey: number;
  readonly #fastValue: number;
  #handle: GoCacheHandle | null = null;

  constructor(
    owner: object,
    n: SharedCacheBinding,
    v: number,
    id: number,
    keyKind: SyncKeyKind,
    valueKind: SyncValueKind,
    onEvict: RemovalCallback | null,
  ) {
    this.n = n;
    this.v = v;
    this.id = id;
    this.keyKind = keyKind;
    this.valueKind = valueKind;
    this.codec = codecOf(valueKind);
    this.onEvict = onEvict;
    this.#fastKey = fastKind(keyKind);
    this.#fastValue = fastKind(valueKind);
    const area = (n as { io?: unknown }).io;
    if (this.#fastKey !== FAST_NONE && io === null) {
      if (area instanceof ArrayBuffer) {
        io = new FastIo(area);
      } else {
        this.#fastKey = FAST_NONE;
      }
    }
    viewFinalizer ??= new FinalizationRegistry<number>((h) => {
      n.scacheClose(h);
    });
    viewFinalizer.register(owner, v, owner);
  }

  get handle(): GoCacheHandle {
    this.checkOpen();
    return (this.#handle ??= makeCacheHandle(this.id, this.keyKind, this.valueKind, this.n.scacheMemory?.(this.v)));
  }

  checkOpen(): void {
    if (this.v === 0) throw sharedClosedError();
  }

  decode(raw: unknown): unknown {
    return raw === undefined || this.codec === null ? raw : this.codec.decode(raw);
  }

  get(key: unknown): unknown {
    // Numeric keys of the right type go through the I/O area (nothing runs between the
    // stores, the call and the reads); anything else takes the generic call, which throws
    // the right error for a key of the wrong type.
    if (this.#fastKey !== FAST_NONE && io!.putKey(this.#fastKey, this.v, key)) {
      return io!.result(this.#fastValue, this.n.scacheFastGet(), this.codec);
    }
    return this.decode(this.n.scacheGet(this.v, key));
  }

  peek(key: unknown): unknown {
    return this.decode(this.n.scachePeek(this.v, key));
  }

  /**
   * Stores the pair; reports removals (and a refused value, as 'evict') to onEvict.
   * `ttl`: ms, or -1 for the cache's default.
   */
  set(key: unknown, value: unknown, ttl: number): void {
    // Encoding may run JS (toJSON) that closes this view: encode first, then check.
    const encoded = this.codec === null ? value : this.codec.encode(value);
    this.checkOpen();
    const report = this.onEvict !== null;
    const r = this.n.scacheSet(this.v, key, encoded, ttl, report);
    if (!report) return;
    const raw = r as unknown[];
    this.#report(raw, raw[0] === 2 ? [value, key] : null);
  }

  delete(key: unknown): boolean {
    const report = this.onEvict !== null;
    const r = this.n.scacheDelete(this.v, key, report);
    if (!report) return r as boolean;
    const raw = r as unknown[];
    this.#report(raw, null);
    return raw[0] as boolean;
  }

  clear(): void {
    const report = this.onEvict !== null;
    const r = this.n.scacheClear(this.v, report);
    if (report) this.#report(r as unknown[], null);
  }

  purge(): void {
    const report = this.onEvict !== null;
    const r = this.n.scachePurge(this.v, report);
    if (report) this.#report(r as unknown[], null);
  }

  entries(keysOnly: boolean): unknown[] {
    const raw = this.n.scacheEntries(this.v, keysOnly);
    if (!keysOnly && this.codec !== null) {
      for (let i = 1; i < raw.length; i += 2) raw[i] = this.codec.decode(raw[i]);
    }
    return raw;
  }

  close(owner: object): void {
    const v = this.v;
    if (v === 0) return;
    this.v = 0;
    this.n.scacheClose(v);
    viewFinalizer?.unregister(owner);
  }

  /** Calls onEvict for [result, reason0, key0, value0, ...] (then for `refused`). */
  #report(raw: unknown[], refused: [unknown, unknown] | null): void {
    const onEvict = this.onEvict!;
    let failed = false;
    let failure: unknown = null;
    const call = (value: unknown, key: unknown, reason: (typeof SHARED_REASONS)[number]): void => {
      try {
        onEvict(value, key, reason);
      } catch (e) {
        if (!failed) {
          failed = true;
          failure = e;
        }
      }
    };
    for (let i = 1; i + 2 < raw.length; i += 3) {
      call(this.decode(raw[i + 2]), raw[i + 1], SHARED_REASONS[raw[i] as number]!);
    }
    if (refused !== null) call(refused[0], refused[1], 'evict');
    if (failed) throw failure;
  }
}
