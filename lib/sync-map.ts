/**
 * `SyncMap<K, V>`: Go's `sync.Map` for Node.js, one native map shared by every worker
 * thread of the process (API.md "SyncMap").
 *
 * Each `SyncMap` object is a *view*: `new SyncMap(options)` creates a map and a first view
 * of it, `SyncMap.attach(map.handle)` opens another view in any thread (the handle is a
 * plain object to send with `postMessage` / `workerData`). Every view reads and writes
 * the same native table: reads never take a lock, writes may. The native memory lives
 * until the last view is closed (`close()`, `[Symbol.dispose]()`) or collected, or the
 * thread that holds it ends.
 *
 * This class only checks arguments, encodes `'json'` / `'v8'` values (codecs.ts) and
 * shapes results; the addon converts keys and values (native/addon/sync_*.cc) and the
 * core does the rest (native/core/concurrent_map.h).
 *
 * Iteration pulls entries from the native iterator in batches. An entry is "reached" when
 * its batch is read: writes of other threads after that are not seen by the entries of
 * the batch (as with Go's `sync.Map.Range`, no consistent snapshot), but writes of this
 * thread are: if this thread wrote to any SyncMap since a batch was read (e.g. `delete`
 * inside a `range` callback), each remaining entry is looked up again before it is
 * produced (skipped if gone, produced with its current value otherwise).
 *
 * @module
 */
import type { MapStats } from './binding.ts';
import { codecOf, type ValueCodec } from './codecs.ts';
import { closedError, describeType, typeError, type CodedError } from './errors.ts';
import { FAST_F64, FAST_I64, FAST_NONE, FastIo, IO_RESULT, IO_VALUE, fastKind, isI64 } from './io-area.ts';
import { requireSyncBinding, type SyncBinding, type SyncIteratorHandle, type SyncViewHandle } from './sync-binding.ts';
import {
  checkHandle,
  makeHandle,
  resolveSyncMapOptions,
  type SyncKeyKind,
  type SyncMapHandle,
  type SyncMapOptions,
  type SyncValueKind,
} from './sync-options.ts';

// The I/O area of the fast calls (io-area.ts), created on first use.
let io: FastIo | null = null;

/** `Symbol.dispose`, or Node's own stand-in where the engine does not define it yet. */
const kDispose: typeof Symbol.dispose = (Symbol.dispose ?? Symbol.for('nodejs.dispose')) as typeof Symbol.dispose;

/**
 * Writes made by this thread to any SyncMap. An iterator compares it with the value it
 * saw when it read its batch, to notice that its own thread changed a map meanwhile.
 */
let threadWrites = 0;

/** Closes the view of a SyncMap that was collected without close(). */
let viewFinalizer: FinalizationRegistry<SyncViewHandle> | null = null;

interface IteratorHeld {
  v: SyncViewHandle;
  it: SyncIteratorHandle;
}
/** Frees the native iterator of an abandoned iterator. */
let iteratorFinalizer: FinalizationRegistry<IteratorHeld> | null = null;

/** The view SyncMap.attach opened, for the constructor call that follows at once. */
let pendingAttach: { id: number; v: SyncViewHandle } | null = null;

/** The error every method of a closed view throws (as the addon's: code ERR_GOMAP_CLOSED). */
function viewClosedError(): CodedError {
  const e = closedError();
  e.message = 'SyncMap is closed: this view cannot be used after close()';
  return e;
}

/** The state of one view, shared by the SyncMap and its iterators. */
class ViewState {
  /** View handle; 0 once closed. */
  v: SyncViewHandle;
  readonly n: SyncBinding;
  readonly id: number;
  readonly keyKind: SyncKeyKind;
  readonly valueKind: SyncValueKind;
  /** 'json' / 'v8' values. */
  readonly codec: ValueCodec | null;
  handle: SyncMapHandle | null = null;
  readonly fastKey: number;
  readonly fastValue: number;

  constructor(n: SyncBinding, v: SyncViewHandle, id: number, keyKind: SyncKeyKind, valueKind: SyncValueKind) {
    this.n = n;
    this.v = v;
    this.id = id;
    this.keyKind = keyKind;
    this.valueKind = valueKind;
    this.codec = codecOf(valueKind);
    this.fastKey = fastKind(keyKind);
    this.fastValue = fastKind(valueKind);
    if (this.fastKey !== FAST_NONE && io === null) io = new FastIo(n.io);
  }

  /**
   * Puts the view handle and a numeric key in the I/O area; false when the key must take
   * the generic call (keys that are not numbers, or of the wrong type: the generic call
   * throws the right error). Nothing may run between this and the fast call.
   */
  fastKeyReady(key: unknown): boolean {
    return this.fastKey !== FAST_NONE && io!.putKey(this.fastKey, this.v, key);
  }

  /** The value a syncFastGet produced (`r`: its return value), or undefined when absent. */
  fastResult(r: unknown): unknown {
    return io!.result(this.fastValue, r, this.codec);
  }

  checkOpen(): void {
    if (this.v === 0) throw viewClosedError();
  }

  /** A value as the native map stores it. */
  encode(value: unknown): unknown {
    return this.codec === null ? value : this.codec.encode(value);
  }

  /** A stored value (never undefined) as the caller sees it. */
  decode(raw: unknown): unknown {
    return this.codec === null ? raw : this.codec.decode(raw);
  }
}

function toArray<T>(items: Iterable<T>, what: string): T[] {
  if (Array.isArray(items)) return items as T[];
  if (items === null || items === undefined || typeof (items as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw typeError(`SyncMap ${what} must be iterable, got ${describeType(items)}`);
  }
  return Array.from(items);
}

function checkFunction(fn: unknown, what: string): void {
  if (typeof fn !== 'function') throw typeError(`SyncMap ${what} must be a function, got ${describeType(fn)}`);
}

/** The result of {@link SyncMap.loadOrStore}. */
export interface LoadOrStoreResult<V> {
  /** The value now stored for the key: the one that was there, or the one given. */
  value: V;
  /** True when the key was present (and nothing was stored). */
  loaded: boolean;
}

/** The result of {@link SyncMap.loadAndDelete}. */
export interface LoadAndDeleteResult<V> {
  /** The value that was removed, or `undefined` when the key was absent. */
  value: V | undefined;
  /** True when the key was present (and is now deleted). */
  loaded: boolean;
}

/** The result of {@link SyncMap.swap}. */
export interface SwapResult<V> {
  /** The value replaced, or `undefined` when the key was absent. */
  previous: V | undefined;
  /** True when the key was present before. */
  loaded: boolean;
}

/**
 * Go's `sync.Map`: one native hash map shared by every worker thread that attaches it.
 * Reads (`get`, `has`, `lookup`, `size`, iteration) never wait for a lock; every
 * single-key operation is atomic across threads.
 *
 * Keys and values have kinds (see {@link SyncMapOptions}); both live in native memory, so
 * each read returns a copy. Iteration order is unspecified.
 *
 * @example
 * ```ts
 * // main thread
 * const hits = new SyncMap<string, number>({ key: 'string', value: 'f64' });
 * new Worker('./worker.js', { workerData: hits.handle });
 * // worker.js
 * const hits = SyncMap.attach<string, number>(workerData);
 * hits.set('page:/', 1);
 * ```
 */
export class SyncMap<K = unknown, V = unknown> implements Map<K, V> {
  readonly #s: ViewState;

  /**
   * A new shared map (and this thread's first view of it).
   *
   * @param options - key and value kinds (required), size hint and hash seed.
   * @throws TypeError for invalid options; RangeError for a hint that cannot be honoured;
   *   Error when the loaded engine cannot share maps.
   */
  constructor(options: SyncMapOptions) {
    const attached = pendingAttach;
    pendingAttach = null;
    const n = requireSyncBinding();
    const o = resolveSyncMapOptions(options);
    let v: SyncViewHandle;
    let id: number;
    if (attached !== null) {
      v = attached.v;
      id = attached.id;
    } else {
      [v, id] = n.syncCreate(o.key, o.value, o.hint, o.seed);
    }
    this.#s = new ViewState(n, v, id, o.key, o.value);
    viewFinalizer ??= new FinalizationRegistry<SyncViewHandle>((h) => {
      n.syncClose(h);
    });
    viewFinalizer.register(this, v, this);
  }

  /**
   * A new view, in this thread, of the map a handle names (`map.handle` of a view in any
   * thread of this process).
   *
   * @throws TypeError when `handle` is not a SyncMap handle, or names a map of other
   *   kinds; Error with code `ERR_GOMAP_CLOSED` when the map is gone (every view of it
   *   was closed before this attach).
   */
  static attach<K = unknown, V = unknown>(handle: SyncMapHandle): SyncMap<K, V> {
    const n = requireSyncBinding();
    const h = checkHandle(handle);
    const v = n.syncAttach(h.id, h.key, h.value, h.memory);
    pendingAttach = { id: h.id, v };
    return new SyncMap<K, V>({ key: h.key, value: h.value });
  }

  /**
   * A structured-cloneable plain object naming this map: send it to another thread and
   * call {@link SyncMap.attach} there. Valid while at least one view of the map is open.
   */
  get handle(): SyncMapHandle {
    const s = this.#s;
    s.checkOpen();
    return (s.handle ??= makeHandle(s.id, s.keyKind, s.valueKind, s.n.syncMemory?.(s.v)));
  }

  /** The number of entries (all threads' writes included). */
  get size(): number {
    const s = this.#s;
    return s.n.syncSize(s.v);
  }

  /** The value stored for `key`, or `undefined`. */
  get(key: K): V | undefined {
    const s = this.#s;
    if (s.fastKeyReady(key)) return s.fastResult(s.n.syncFastGet()) as V | undefined;
    const raw = s.n.syncGet(s.v, key);
    return raw === undefined ? undefined : (s.decode(raw) as V);
  }

  /** Go's comma-ok lookup: `[value, true]` when `key` is present, else `[undefined, false]`. */
  lookup(key: K): [value: V | undefined, ok: boolean] {
    const s = this.#s;
    if (s.fastKeyReady(key)) {
      const v = s.fastResult(s.n.syncFastGet());
      return io!.f64[IO_RESULT] === 0 ? [undefined, false] : [v as V, true];
    }
    const raw = s.n.syncGet(s.v, key);
    return raw === undefined ? [undefined, false] : [s.decode(raw) as V, true];
  }

  /** Whether `key` is present. */
  has(key: K): boolean {
    const s = this.#s;
    if (s.fastKeyReady(key)) {
      s.n.syncFastHas();
      return io!.f64[IO_RESULT] !== 0;
    }
    return s.n.syncHas(s.v, key);
  }

  /**
   * Stores `value` for `key` (inserting or overwriting) and returns this view.
   *
   * @throws TypeError for a key or value of the wrong kind; RangeError for one over the
   *   size limits or when memory runs out. The map is unchanged then.
   */
  set(key: K, value: V): this {
    const s = this.#s;
    // Everything that may run JS (a codec calling toJSON) happens before the I/O area is
    // written.
    const fv = s.fastValue;
    const ok = fv === FAST_F64 ? typeof value === 'number' : fv === FAST_I64 ? isI64(value) : true;
    const encoded = fv === FAST_NONE ? s.encode(value) : value;
    if (ok && s.fastKeyReady(key)) {
      if (fv === FAST_F64) io!.f64[IO_VALUE] = value as number;
      else if (fv === FAST_I64) io!.i64[IO_VALUE] = value as bigint;
      if (fv === FAST_NONE) s.n.syncFastSet(encoded);
      else s.n.syncFastSet();
    } else {
      s.n.syncSet(s.v, key, encoded);
    }
    threadWrites++;
    return this;
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: K): boolean {
    const s = this.#s;
    const deleted = s.n.syncDelete(s.v, key);
    threadWrites++;
    return deleted;
  }

  /** Removes every entry (entries other threads add meanwhile may stay). */
  clear(): void {
    const s = this.#s;
    s.n.syncClear(s.v);
    threadWrites++;
  }

  /** The value of each key, in order (`undefined` for missing keys), in one native call. */
  getMany(keys: Iterable<K>): (V | undefined)[] {
    const s = this.#s;
    s.checkOpen();
    const raw = s.n.syncGetMany(s.v, toArray(keys, 'getMany keys'));
    if (s.codec !== null) {
      for (let i = 0; i < raw.length; i++) if (raw[i] !== undefined) raw[i] = s.decode(raw[i]);
    }
    return raw as (V | undefined)[];
  }

  /**
   * Stores every `[key, value]` pair in one native call (later duplicates win) and returns
   * this view. All or nothing: every pair is checked first (a key or value of the wrong
   * kind throws `TypeError`, an oversized one `RangeError`), and all the native memory the
   * batch needs is allocated before the first pair is stored, so a thrown error (also
   * `RangeError` for memory) leaves the map unchanged. The batch is not atomic for other
   * threads: each pair is stored atomically, and while the batch is being stored another
   * thread may see some of its pairs before others.
   */
  setMany(entries: Iterable<readonly [K, V]>): this {
    const s = this.#s;
    s.checkOpen();
    const list = toArray(entries, 'setMany entries');
    const keys: unknown[] = new Array<unknown>(list.length);
    const values: unknown[] = new Array<unknown>(list.length);
    for (let i = 0; i < list.length; i++) {
      const entry = list[i] as unknown;
      if (entry === null || (typeof entry !== 'object' && typeof entry !== 'function')) {
        throw typeError(`SyncMap entries must be [key, value] pairs, got ${describeType(entry)}`);
      }
      const pair = entry as readonly [unknown, unknown];
      keys[i] = pair[0];
      values[i] = s.encode(pair[1]);
    }
    s.n.syncSetMany(s.v, keys, values);
    threadWrites++;
    return this;
  }

  /**
   * Go's `LoadOrStore`: the value present for `key` (`loaded: true`), or else stores
   * `value` and returns it (`loaded: false`). Atomic: of many threads racing to store the
   * same key, exactly one stores and all get its value.
   */
  loadOrStore(key: K, value: V): LoadOrStoreResult<V> {
    const s = this.#s;
    const raw = s.n.syncLoadOrStore(s.v, key, s.encode(value));
    threadWrites++;
    return raw === undefined ? { value, loaded: false } : { value: s.decode(raw) as V, loaded: true };
  }

  /** Go's `LoadAndDelete`: removes `key` and returns the value it had. */
  loadAndDelete(key: K): LoadAndDeleteResult<V> {
    const s = this.#s;
    const raw = s.n.syncLoadAndDelete(s.v, key);
    threadWrites++;
    return raw === undefined ? { value: undefined, loaded: false } : { value: s.decode(raw) as V, loaded: true };
  }

  /** Go's `Swap`: stores `value` and returns the value it replaced. */
  swap(key: K, value: V): SwapResult<V> {
    const s = this.#s;
    const raw = s.n.syncSwap(s.v, key, s.encode(value));
    threadWrites++;
    return raw === undefined ? { previous: undefined, loaded: false } : { previous: s.decode(raw) as V, loaded: true };
  }

  /**
   * Go's `CompareAndSwap`: stores `value` if the value stored for `key` equals `old`, and
   * says whether it did. Equality is of the encoded bytes: numbers by their bits (`NaN`
   * equals the same `NaN`, `-0` is not `0`), strings and bytes by content, `'json'` by the
   * JSON text, `'v8'` by the serialization. An absent key never matches.
   */
  compareAndSwap(key: K, old: V, value: V): boolean {
    const s = this.#s;
    const swapped = s.n.syncCompareAndSwap(s.v, key, s.encode(old), s.encode(value));
    threadWrites++;
    return swapped;
  }

  /** Go's `CompareAndDelete`: deletes `key` if its value equals `old` (as {@link SyncMap.compareAndSwap}). */
  compareAndDelete(key: K, old: V): boolean {
    const s = this.#s;
    const deleted = s.n.syncCompareAndDelete(s.v, key, s.encode(old));
    threadWrites++;
    return deleted;
  }

  /**
   * Go's `Range`: calls `cb(value, key)` for each entry until it returns `false`. The
   * callback may change the map (deleting the current or any other key included).
   */
  range(cb: (value: V, key: K) => boolean | void): void {
    checkFunction(cb, 'range callback');
    const s = this.#s;
    s.checkOpen();
    const it = new SyncMapIterator<[K, V]>(this, s, ITER_ENTRIES);
    try {
      while (it.advance()) if (cb(it.value as V, it.key as K) === false) break;
    } finally {
      it.return();
    }
  }

  /** Calls `callbackfn(value, key, map)` for each entry, with `this` bound to `thisArg`. */
  forEach(callbackfn: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    checkFunction(callbackfn, 'forEach callback');
    const s = this.#s;
    s.checkOpen();
    const it = new SyncMapIterator<[K, V]>(this, s, ITER_ENTRIES);
    try {
      while (it.advance()) callbackfn.call(thisArg, it.value as V, it.key as K, this);
    } finally {
      it.return();
    }
  }

  /** An iterator over the keys (in no particular order). */
  keys(): MapIterator<K> {
    const s = this.#s;
    s.checkOpen();
    return new SyncMapIterator<K>(this, s, ITER_KEYS);
  }

  /** An iterator over the values. */
  values(): MapIterator<V> {
    const s = this.#s;
    s.checkOpen();
    return new SyncMapIterator<V>(this, s, ITER_VALUES);
  }

  /** An iterator over `[key, value]` pairs (in no particular order). */
  entries(): MapIterator<[K, V]> {
    const s = this.#s;
    s.checkOpen();
    return new SyncMapIterator<[K, V]>(this, s, ITER_ENTRIES);
  }

  /** Same as {@link SyncMap.entries}. */
  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  /** The shape of the shared table now (buckets, load factor, growth, bytes). */
  stats(): MapStats {
    const s = this.#s;
    return s.n.syncStats(s.v);
  }

  /**
   * Closes this view: later use of it throws an `Error` with code `ERR_GOMAP_CLOSED`. Other
   * views (in this or other threads) keep working; the native map is freed when its last
   * view is closed. Calling it again does nothing.
   */
  close(): void {
    const s = this.#s;
    const v = s.v;
    if (v === 0) return;
    s.v = 0;
    viewFinalizer?.unregister(this);
    s.n.syncClose(v);
  }

  /** Same as {@link SyncMap.close}, for `using` declarations. */
  [kDispose](): void {
    this.close();
  }

  /** `'SyncMap'`. */
  get [Symbol.toStringTag](): string {
    return 'SyncMap';
  }
}


const ITER_KEYS = 0;
const ITER_VALUES = 1;
const ITER_ENTRIES = 2;

// Entries per native call: small first (cheap early exit), then larger.
const FIRST_BATCH = 16;
const MAX_BATCH = 1024;

const DONE: IteratorResult<never, undefined> = Object.freeze({ done: true, value: undefined }) as IteratorResult<
  never,
  undefined
>;

/**
 * The flat [k0, v0, k1, v1, ...] (or [k0, k1, ...] without values) of a packed batch:
 * numbers from their typed array, strings cut out of the joined text by their lengths.
 */
function unpack(
  count: number,
  keys: Float64Array | BigInt64Array | Uint32Array,
  keyText: string | undefined,
  values: Float64Array | BigInt64Array | Uint32Array | undefined,
  valueText: string | undefined,
): unknown[] {
  const stride = values === undefined ? 1 : 2;
  const flat = new Array<unknown>(count * stride);
  let keyAt = 0;
  let valueAt = 0;
  for (let i = 0; i < count; i++) {
    if (keyText === undefined) {
      flat[i * stride] = keys[i];
    } else {
      const end = keyAt + (keys[i] as number);
      flat[i * stride] = keyText.slice(keyAt, end);
      keyAt = end;
    }
    if (values !== undefined) {
      if (valueText === undefined) {
        flat[i * 2 + 1] = values[i];
      } else {
        const end = valueAt + (values[i] as number);
        flat[i * 2 + 1] = valueText.slice(valueAt, end);
        valueAt = end;
      }
    }
  }
  return flat;
}

/** The iterator of keys(), values(), entries(), forEach and range. */
class SyncMapIterator<T> implements MapIterator<T> {
  /** The key and value of the entry {@link advance} produced. */
  key: unknown = undefined;
  value: unknown = undefined;

  // Holds the view so that it is not collected (and closed) while this iterator is in use.
  readonly #map: object;
  readonly #s: ViewState;
  readonly #mode: number;
  #it: SyncIteratorHandle = 0;
  #started = false;
  #nativeDone = false;
  #done = false;
  #flat: unknown[] = [];
  #count = 0;
  #pos = 0;
  #seen = 0;
  #batch = FIRST_BATCH;
  #held: IteratorHeld | null = null;
  // Numbers and strings cross packed (typed arrays, joined strings), not one by one.
  readonly #packed: boolean;

  constructor(map: object, state: ViewState, mode: number) {
    this.#map = map;
    this.#s = state;
    this.#mode = mode;
    this.#packed =
      state.keyKind !== 'bytes' &&
      (mode === ITER_KEYS || state.valueKind === 'f64' || state.valueKind === 'i64' || state.valueKind === 'string' || state.valueKind === 'json');
  }

  /** Moves to the next entry (into key / value); false when there is none. */
  advance(): boolean {
    if (this.#done) return false;
    const s = this.#s;
    if (s.v === 0) throw viewClosedError();
    const keysOnly = this.#mode === ITER_KEYS;
    for (;;) {
      while (this.#pos < this.#count) {
        const pos = this.#pos++;
        const key = keysOnly ? this.#flat[pos] : this.#flat[2 * pos];
        let raw = keysOnly ? undefined : this.#flat[2 * pos + 1];
        if (this.#seen !== threadWrites) {
          // This thread wrote since the batch was read: the entry may be gone or changed.
          if (keysOnly) {
            if (!s.n.syncHas(s.v, key)) continue;
          } else {
            raw = s.n.syncGet(s.v, key);
            if (raw === undefined) continue;
          }
        }
        this.key = key;
        this.value = keysOnly ? undefined : s.decode(raw);
        return true;
      }
      if (this.#nativeDone) {
        this.#finish();
        return false;
      }
      this.#fetch(keysOnly);
    }
  }

  #fetch(keysOnly: boolean): void {
    const s = this.#s;
    if (!this.#started) {
      this.#started = true;
      this.#it = s.n.syncIterStart(s.v);
    }
    const batch = this.#batch;
    let count: number;
    let finished: boolean;
    if (this.#packed) {
      const r = s.n.syncIterNextPacked(s.v, this.#it, batch, keysOnly);
      count = r[0];
      finished = r[1];
      this.#flat = unpack(count, r[2], r[4], keysOnly ? undefined : r[3], r[5]);
    } else {
      const flat = s.n.syncIterNext(s.v, this.#it, batch, keysOnly);
      count = keysOnly ? flat.length : flat.length / 2;
      finished = count < batch;
      this.#flat = flat;
    }
    this.#count = count;
    this.#pos = 0;
    this.#seen = threadWrites;
    if (finished) {
      // The native iterator is over and already freed.
      this.#nativeDone = true;
      this.#it = 0;
      if (this.#held !== null) {
        iteratorFinalizer?.unregister(this);
        this.#held = null;
      }
    } else {
      if (this.#held === null) {
        // It outlives this call: free it if this iterator is abandoned.
        const n = s.n;
        iteratorFinalizer ??= new FinalizationRegistry<IteratorHeld>((held) => {
          n.syncIterEnd(held.v, held.it);
        });
        this.#held = { v: s.v, it: this.#it };
        iteratorFinalizer.register(this, this.#held, this);
      }
      if (batch < MAX_BATCH) this.#batch = batch * 4;
    }
  }

  #finish(): void {
    this.#done = true;
    this.#flat = [];
    this.#count = 0;
    this.key = this.value = undefined;
    if (this.#it !== 0) {
      if (this.#s.v !== 0) this.#s.n.syncIterEnd(this.#s.v, this.#it);
      this.#it = 0;
    }
    if (this.#held !== null) {
      iteratorFinalizer?.unregister(this);
      this.#held = null;
    }
  }

  next(): IteratorResult<T, undefined> {
    if (!this.advance()) return DONE;
    const mode = this.#mode;
    const value = mode === ITER_KEYS ? this.key : mode === ITER_VALUES ? this.value : [this.key, this.value];
    return { done: false, value: value as T };
  }

  /** Ends the iteration early and frees its native state. */
  return(): IteratorResult<T, undefined> {
    if (!this.#done) this.#finish();
    return DONE;
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** Same as `return()`, for `using` declarations. */
  [kDispose](): void {
    this.return();
  }

  get [Symbol.toStringTag](): string {
    return 'SyncMap Iterator';
  }
}

// Inherit from %IteratorPrototype%, as Map iterators do.
Object.setPrototypeOf(SyncMapIterator.prototype, Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object);
