/**
 * `GoMap<K, V>`: Go's classic bucketed hash map, usable wherever a `Map<K, V>` is
 * (API.md "GoMap").
 *
 * The table lives in native memory (native/core); this class only checks arguments,
 * picks the native call and converts what JS cannot hand to native code as is:
 *
 * - `'json'` / `'v8'` values are encoded here (codecs.ts) and stored as a string / bytes;
 * - `'any'` values stay live JS values in a slab array; the native map stores the index;
 * - object and symbol keys of an `'any'` map get identity ids; the native map stores the
 *   id (a stored object is held by this map, as a `Map` holds its keys);
 * - `size` is tracked here from what `set`/`delete`/`setMany` report, so reading it
 *   costs no native call.
 *
 * Iterators pull entries from native code in batches. Go's guarantees hold under
 * mutation: if the map changed since a batch was fetched, each remaining entry of the
 * batch is looked up again before it is produced (skipped if it was deleted, produced
 * with its current value otherwise); the native iterator guarantees the rest.
 *
 * Native memory is freed by `close()` (or `[Symbol.dispose]()`), else when the map is
 * garbage-collected (a `FinalizationRegistry`); an iterator's native state is freed when
 * it finishes, by `return()`, by `close()` of its map, or when it is collected.
 *
 * @module
 */
import { binding } from './backend.ts';
import type { IteratorHandle, MapHandle, MapStats } from './binding.ts';
import { codecOf, isIdentityKey, ObjectIds, ValueSlab, type ValueCodec } from './codecs.ts';
import { closedError, describeType, typeError } from './errors.ts';
import { IO_HANDLE, IO_KEY, IO_RESULT, IO_VALUE, isI64 } from './io-area.ts';
import { checkCount, nativeValueKind, resolveGoMapOptions, type GoMapOptions, type KeyKind, type ValueKind } from './kinds.ts';

const {
  create: nCreate,
  fastGet: nFastGet,
  fastHas: nFastHas,
  fastSet: nFastSet,
  fastDelete: nFastDelete,
  get: nGet,
  has: nHas,
  set: nSet,
  delete: nDelete,
  getMany: nGetMany,
  setMany: nSetMany,
  getManyPacked: nGetManyPacked,
  setManyPacked: nSetManyPacked,
  iterNextPacked: nIterNextPacked,
  clear: nClear,
  stats: nStats,
  reserve: nReserve,
  shrink: nShrink,
  close: nClose,
  iterStart: nIterStart,
  iterNext: nIterNext,
  iterEnd: nIterEnd,
} = binding;

// The I/O area of the fast calls (native/addon/io_area.h), seen as doubles and as int64s.
const io = new Float64Array(binding.io);
const io64 = new BigInt64Array(binding.io);

/** `Symbol.dispose`, or Node's own stand-in where the engine does not define it yet. */
const kDispose: typeof Symbol.dispose = (Symbol.dispose ?? Symbol.for('nodejs.dispose')) as typeof Symbol.dispose;

// How values cross in the generic calls: as they are, as slab indexes ('any'), or through
// a codec ('json', 'v8').
const VALUES_PLAIN = 0;
const VALUES_SLAB = 1;
const VALUES_CODEC = 2;

// How keys cross in the fast calls: in the I/O area (f64, i64) or as the argument; 'any'
// keys that are objects or symbols take the generic calls (with their identity id).
const FAST_KEY_F64 = 0;
const FAST_KEY_I64 = 1;
const FAST_KEY_ARG = 2;
const FAST_KEY_ANY = 3;

// How values cross in the fast calls: in the I/O area (f64, i64, 'any' slab indexes),
// or as the argument / return value (string, bytes; json and v8 once encoded).
const FAST_VALUE_F64 = 0;
const FAST_VALUE_I64 = 1;
const FAST_VALUE_SLAB = 2;
const FAST_VALUE_ARG = 3;
const FAST_VALUE_CODEC = 4;

/** Frees the native map of a GoMap that was collected without close(). */
const mapFinalizer = new FinalizationRegistry<MapHandle>((h) => {
  nClose(h);
});

interface IteratorHeld {
  h: MapHandle;
  it: IteratorHandle;
}
/** Frees the native iterator of an abandoned iterator. */
const iteratorFinalizer = new FinalizationRegistry<IteratorHeld>((held) => {
  nIterEnd(held.h, held.it);
});

/** The state of one map, shared by the GoMap and its iterators. */
class MapState {
  /** Native handle; 0 once closed. */
  h: MapHandle;
  size = 0;
  /** Bumped by every change of contents; iterators compare it to spot mutation. */
  mutations = 0;
  readonly keyKind: KeyKind;
  readonly valueKind: ValueKind;
  readonly valueMode: number;
  readonly fastKey: number;
  readonly fastValue: number;
  /** Identity ids of object/symbol keys ('any' keys only). */
  readonly ids: ObjectIds | null;
  /** Live values ('any' values only). */
  readonly slab: ValueSlab | null;
  /** 'json' / 'v8' values. */
  readonly codec: ValueCodec | null;

  constructor(h: MapHandle, keyKind: KeyKind, valueKind: ValueKind) {
    this.h = h;
    this.keyKind = keyKind;
    this.valueKind = valueKind;
    this.ids = keyKind === 'any' ? new ObjectIds() : null;
    this.slab = valueKind === 'any' ? new ValueSlab() : null;
    this.codec = codecOf(valueKind);
    this.valueMode = this.slab !== null ? VALUES_SLAB : this.codec !== null ? VALUES_CODEC : VALUES_PLAIN;
    this.fastKey = keyKind === 'f64' ? FAST_KEY_F64 : keyKind === 'i64' ? FAST_KEY_I64 : keyKind === 'any' ? FAST_KEY_ANY : FAST_KEY_ARG;
    this.fastValue =
      valueKind === 'f64'
        ? FAST_VALUE_F64
        : valueKind === 'i64'
          ? FAST_VALUE_I64
          : valueKind === 'any'
            ? FAST_VALUE_SLAB
            : this.codec !== null
              ? FAST_VALUE_CODEC
              : FAST_VALUE_ARG;
  }

  /**
   * Puts the handle and a numeric key in the I/O area. Returns false when the key must
   * take the generic call instead (a key of the wrong type, which the generic call
   * rejects with the right error, or an object key of an 'any' map).
   */
  fastKeyReady(key: unknown): boolean {
    switch (this.fastKey) {
      case FAST_KEY_F64:
        if (typeof key !== 'number') return false;
        io[IO_KEY] = key;
        break;
      case FAST_KEY_I64:
        if (!isI64(key)) return false;
        io64[IO_KEY] = key;
        break;
      case FAST_KEY_ANY:
        if (isIdentityKey(key)) return false;
        break;
    }
    io[IO_HANDLE] = this.h;
    return true;
  }

  /** The value a fastGet produced (in the I/O area, or its return value `r`), or undefined. */
  fastResult(r: unknown): unknown {
    switch (this.fastValue) {
      case FAST_VALUE_F64:
        return io[IO_RESULT] === 0 ? undefined : io[IO_VALUE];
      case FAST_VALUE_I64:
        return io[IO_RESULT] === 0 ? undefined : io64[IO_VALUE];
      case FAST_VALUE_SLAB:
        return io[IO_RESULT] === 0 ? undefined : this.slab!.values[io[IO_VALUE]!];
      case FAST_VALUE_ARG:
        return r;
      default:
        return r === undefined ? undefined : this.codec!.decode(r);
    }
  }

  /** Whether the last fastGet found its key. */
  fastFound(r: unknown): boolean {
    return this.fastValue < FAST_VALUE_ARG ? io[IO_RESULT] !== 0 : r !== undefined;
  }

  /** Throws ERR_GOMAP_CLOSED after close(). */
  checkOpen(): void {
    if (this.h === 0) throw closedError();
  }

  /** A stored value as the caller sees it. */
  decode(raw: unknown): unknown {
    if (this.valueMode === VALUES_SLAB) return this.slab!.values[raw as number];
    if (this.valueMode === VALUES_CODEC) return this.codec!.decode(raw);
    return raw;
  }

  /** A key produced by native iteration as the caller sees it ([id] names an object key). */
  decodeKey(raw: unknown): unknown {
    return this.ids !== null && Array.isArray(raw) ? this.ids.keyOf(raw[0] as number) : raw;
  }

  /** The raw value of a key produced by native iteration, or undefined if it is gone. */
  lookupIterated(raw: unknown): unknown {
    if (this.ids !== null && Array.isArray(raw)) return nGet(this.h, undefined, raw[0] as number);
    return nGet(this.h, raw);
  }

  /** Whether a key produced by native iteration is still present. */
  hasIterated(raw: unknown): boolean {
    if (this.ids !== null && Array.isArray(raw)) return nHas(this.h, undefined, raw[0] as number);
    return nHas(this.h, raw);
  }

  /**
   * The refIds argument of a batch over an 'any'-keyed map: the id of each identity key
   * (0 for objects the map has never stored), or undefined when there are none. With
   * `pending`, new objects get fresh ids, recorded there until the batch succeeds.
   */
  refsOf(keys: readonly unknown[], pending: Map<object | symbol, number> | null): (number | undefined)[] | undefined {
    const ids = this.ids!;
    let refs: (number | undefined)[] | undefined;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (!isIdentityKey(k)) continue;
      refs ??= new Array<number | undefined>(keys.length).fill(undefined);
      let id = ids.idOf(k);
      if (id === undefined && pending !== null) {
        id = pending.get(k);
        if (id === undefined) {
          id = ids.takeNext();
          pending.set(k, id);
        }
      }
      refs[i] = id ?? 0;
    }
    return refs;
  }

  /**
   * The keys of a batch in packed form (a typed array, or one joined string and the
   * lengths), or null when the map's keys do not pack or an element has the wrong type
   * (the generic call then reports it).
   */
  packKeys(keys: readonly unknown[]): PackedKeys | null {
    const n = keys.length;
    switch (this.fastKey) {
      case FAST_KEY_F64: {
        const packed = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const k = keys[i];
          if (typeof k !== 'number') return null;
          packed[i] = k;
        }
        return { keys: packed, lengths: undefined };
      }
      case FAST_KEY_I64: {
        const packed = new BigInt64Array(n);
        for (let i = 0; i < n; i++) {
          const k = keys[i];
          if (!isI64(k)) return null;
          packed[i] = k;
        }
        return { keys: packed, lengths: undefined };
      }
      default: {
        if (this.keyKind !== 'string') return null;
        const lengths = new Uint32Array(n);
        let total = 0;
        for (let i = 0; i < n; i++) {
          const k = keys[i];
          if (typeof k !== 'string') return null;
          lengths[i] = k.length;
          total += k.length;
        }
        // Joined keys must stay well below V8's string length limit.
        return total > MAX_PACKED_UNITS ? null : { keys: keys.join(''), lengths };
      }
    }
  }

  /** getMany, one native call. */
  fetchMany(list: readonly unknown[]): unknown[] {
    const n = list.length;
    const packed = n >= PACK_MIN ? this.packKeys(list) : null;
    if (packed === null) {
      const refs = this.ids !== null ? this.refsOf(list, null) : undefined;
      const raw = nGetMany(this.h, list, refs);
      if (this.valueMode !== VALUES_PLAIN) {
        for (let i = 0; i < raw.length; i++) if (raw[i] !== undefined) raw[i] = this.decode(raw[i]);
      }
      return raw;
    }
    const found = new Uint8Array(n);
    const fv = this.fastValue;
    if (fv >= FAST_VALUE_ARG) {
      const raw = nGetManyPacked(this.h, packed.keys, packed.lengths, undefined, found)!;
      if (fv === FAST_VALUE_CODEC) {
        const codec = this.codec!;
        for (let i = 0; i < n; i++) if (found[i] !== 0) raw[i] = codec.decode(raw[i]);
      }
      return raw;
    }
    const result = new Array<unknown>(n);
    if (fv === FAST_VALUE_I64) {
      const out = new BigInt64Array(n);
      nGetManyPacked(this.h, packed.keys, packed.lengths, out, found);
      for (let i = 0; i < n; i++) result[i] = found[i] !== 0 ? out[i] : undefined;
    } else {
      const out = new Float64Array(n);
      nGetManyPacked(this.h, packed.keys, packed.lengths, out, found);
      if (fv === FAST_VALUE_SLAB) {
        const values = this.slab!.values;
        for (let i = 0; i < n; i++) result[i] = found[i] !== 0 ? values[out[i]!] : undefined;
      } else {
        for (let i = 0; i < n; i++) result[i] = found[i] !== 0 ? out[i] : undefined;
      }
    }
    return result;
  }

  /** Stores every entry or none (setMany, the constructor). */
  storeMany(keys: unknown[], values: unknown[]): void {
    this.checkOpen();
    const n = keys.length;
    if (n === 0) return;
    const packed = n >= PACK_MIN ? this.packKeys(keys) : null;
    if (packed !== null && this.storePacked(packed, keys, values)) return;
    const pending = this.ids !== null ? new Map<object | symbol, number>() : null;
    const refs = pending !== null ? this.refsOf(keys, pending) : undefined;
    let inserted: number;
    if (this.valueMode === VALUES_SLAB) {
      const slab = this.slab!;
      const cells = slab.reserveMany(n);
      const stored = Uint32Array.from(cells);
      try {
        inserted = nSetMany(this.h, keys, stored, refs);
      } catch (e) {
        slab.cancelMany(cells);
        throw e;
      }
      slab.settleMany(cells, stored, values);
    } else {
      if (this.valueMode === VALUES_CODEC) {
        const codec = this.codec!;
        for (let i = 0; i < n; i++) values[i] = codec.encode(values[i]);
      }
      inserted = nSetMany(this.h, keys, values, refs);
    }
    if (pending !== null) for (const [key, id] of pending) this.ids!.commit(key, id);
    this.size += inserted;
    this.mutations++;
  }

  /**
   * storeMany with packed keys; false (nothing done) when a value has the wrong type for
   * the packed call (the generic call then reports it).
   */
  storePacked(packed: PackedKeys, keys: unknown[], values: unknown[]): boolean {
    const n = keys.length;
    let inserted: number;
    switch (this.fastValue) {
      case FAST_VALUE_F64: {
        const vs = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (typeof v !== 'number') return false;
          vs[i] = v;
        }
        inserted = nSetManyPacked(this.h, packed.keys, packed.lengths, vs);
        break;
      }
      case FAST_VALUE_I64: {
        const vs = new BigInt64Array(n);
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (!isI64(v)) return false;
          vs[i] = v;
        }
        inserted = nSetManyPacked(this.h, packed.keys, packed.lengths, vs);
        break;
      }
      case FAST_VALUE_SLAB: {
        const slab = this.slab!;
        const cells = slab.reserveMany(n);
        const stored = Uint32Array.from(cells);
        try {
          inserted = nSetManyPacked(this.h, packed.keys, packed.lengths, stored);
        } catch (e) {
          slab.cancelMany(cells);
          throw e;
        }
        slab.settleMany(cells, stored, values);
        break;
      }
      default: {
        if (this.valueMode === VALUES_CODEC) {
          const codec = this.codec!;
          for (let i = 0; i < n; i++) values[i] = codec.encode(values[i]);
        }
        inserted = nSetManyPacked(this.h, packed.keys, packed.lengths, values);
      }
    }
    this.size += inserted;
    this.mutations++;
    return true;
  }

  /** Frees everything; later use throws ERR_GOMAP_CLOSED. */
  close(): MapHandle {
    const h = this.h;
    if (h === 0) return 0;
    this.h = 0;
    nClose(h);
    this.ids?.clear();
    this.slab?.clear();
    this.size = 0;
    this.mutations++;
    return h;
  }
}

/** Batches shorter than this take the generic calls (packing costs more than it saves). */
const PACK_MIN = 8;
/** Longest joined string of packed keys (V8 strings stop near 2^29 units). */
const MAX_PACKED_UNITS = 2 ** 27;

interface PackedKeys {
  keys: Float64Array | BigInt64Array | string;
  lengths: Uint32Array | undefined;
}

function toArray<T>(items: Iterable<T>, what: string): T[] {
  if (Array.isArray(items)) return items as T[];
  if (items === null || items === undefined || typeof (items as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw typeError(`GoMap ${what} must be iterable, got ${describeType(items)}`);
  }
  return Array.from(items);
}

function checkIterable(items: unknown, what: string): void {
  if (items === null || items === undefined || typeof (items as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw typeError(`GoMap ${what} must be iterable, got ${describeType(items)}`);
  }
}

/**
 * Go's classic hash map (buckets of 8 slots, tophash bytes, overflow chains, incremental
 * growth) with native storage, behind the `Map<K, V>` interface.
 *
 * Differences from `Map`: iteration order is unspecified (as in Go); keys and values
 * have kinds (see {@link GoMapOptions}), and every kind but `'any'` is stored off the JS
 * heap, so reads return copies; the map can hold far more than `Map`'s 2^24 entries;
 * `close()` frees its memory at once.
 *
 * @example
 * ```ts
 * const m = new GoMap<string, number>(null, { key: 'string', value: 'f64' });
 * m.set('user:1', 42);
 * m.get('user:1'); // 42
 * const [v, ok] = m.lookup('user:2'); // [undefined, false]
 * m.close();
 * ```
 */
export class GoMap<K = unknown, V = unknown> implements Map<K, V> {
  readonly #s: MapState;

  /**
   * A new map, filled from `entries` (later duplicates win).
   *
   * @param entries - `[key, value]` pairs, e.g. an array, a `Map` or another `GoMap`;
   *   `null`/`undefined` for none. Every pair is checked before any is stored.
   * @param options - key and value kinds, size hint and hash seed (see {@link GoMapOptions}).
   * @throws TypeError for invalid options or an entry of the wrong kind; RangeError for a
   *   hint that cannot be honoured.
   */
  constructor(entries?: Iterable<readonly [K, V]> | null, options?: GoMapOptions) {
    const o = resolveGoMapOptions(options);
    const h = nCreate(o.key, nativeValueKind(o.value), o.hint, o.seed);
    this.#s = new MapState(h, o.key, o.value);
    mapFinalizer.register(this, h, this);
    if (entries !== undefined && entries !== null) {
      try {
        this.setMany(entries);
      } catch (e) {
        this.close();
        throw e;
      }
    }
  }

  /** The number of entries. */
  get size(): number {
    const s = this.#s;
    if (s.h === 0) throw closedError();
    return s.size;
  }

  /** The value stored for `key`, or `undefined` when there is none. */
  get(key: K): V | undefined {
    const s = this.#s;
    if (!s.fastKeyReady(key)) return this.#getGeneric(key);
    const r = s.fastKey < FAST_KEY_ARG ? nFastGet() : nFastGet(key);
    return s.fastResult(r) as V | undefined;
  }

  #getGeneric(key: K): V | undefined {
    const s = this.#s;
    let raw: unknown;
    if (s.ids === null || !isIdentityKey(key)) {
      raw = nGet(s.h, key);
    } else {
      const id = s.ids.idOf(key);
      if (id === undefined) {
        s.checkOpen();
        return undefined;
      }
      raw = nGet(s.h, key, id);
    }
    return raw === undefined ? undefined : (s.decode(raw) as V);
  }

  /**
   * Go's comma-ok lookup: `[value, true]` when `key` is present (even if its value is
   * `undefined`), else `[undefined, false]`.
   */
  lookup(key: K): [value: V | undefined, ok: boolean] {
    const s = this.#s;
    if (s.fastKeyReady(key)) {
      const r = s.fastKey < FAST_KEY_ARG ? nFastGet() : nFastGet(key);
      return s.fastFound(r) ? [s.fastResult(r) as V, true] : [undefined, false];
    }
    let raw: unknown;
    if (s.ids === null || !isIdentityKey(key)) {
      raw = nGet(s.h, key);
    } else {
      const id = s.ids.idOf(key);
      if (id === undefined) {
        s.checkOpen();
        return [undefined, false];
      }
      raw = nGet(s.h, key, id);
    }
    if (raw === undefined) return [undefined, false];
    return [s.decode(raw) as V, true];
  }

  /** Whether `key` is present. */
  has(key: K): boolean {
    const s = this.#s;
    if (s.fastKeyReady(key)) {
      if (s.fastKey < FAST_KEY_ARG) nFastHas();
      else nFastHas(key);
      return io[IO_RESULT] !== 0;
    }
    if (s.ids === null || !isIdentityKey(key)) return nHas(s.h, key);
    const id = s.ids.idOf(key);
    if (id === undefined) {
      s.checkOpen();
      return false;
    }
    return nHas(s.h, key, id);
  }

  /**
   * Stores `value` for `key` (inserting or overwriting) and returns the map.
   *
   * @throws TypeError when the key or value is not of the map's kind (the map is
   *   unchanged); RangeError when it is over the size limits or memory runs out.
   */
  set(key: K, value: V): this {
    const s = this.#s;
    // Everything that may run JS (a codec calling toJSON) happens before the I/O area is
    // written: nothing may come between those stores and the call.
    let v: unknown = value;
    let cell = 0;
    switch (s.fastValue) {
      case FAST_VALUE_F64:
        if (typeof value !== 'number') return this.#setGeneric(key, value);
        break;
      case FAST_VALUE_I64:
        if (!isI64(value)) return this.#setGeneric(key, value);
        break;
      case FAST_VALUE_SLAB:
        cell = s.slab!.candidate();
        break;
      case FAST_VALUE_CODEC:
        v = s.codec!.encode(value);
        break;
    }
    if (!s.fastKeyReady(key)) return this.#setGeneric(key, value);
    const fv = s.fastValue;
    if (fv === FAST_VALUE_F64) io[IO_VALUE] = value as number;
    else if (fv === FAST_VALUE_I64) io64[IO_VALUE] = value as bigint;
    else if (fv === FAST_VALUE_SLAB) io[IO_VALUE] = cell;
    if (s.fastKey < FAST_KEY_ARG) {
      if (fv < FAST_VALUE_ARG) nFastSet();
      else nFastSet(v);
    } else if (fv < FAST_VALUE_ARG) {
      nFastSet(key);
    } else {
      nFastSet(key, v);
    }
    const result = io[IO_RESULT]!;
    if (fv === FAST_VALUE_SLAB) {
      if (result === cell) {
        s.slab!.take(value);
        s.size++;
      } else {
        s.slab!.values[result] = value;
      }
    } else if (result !== 0) {
      s.size++;
    }
    s.mutations++;
    return this;
  }

  #setGeneric(key: K, value: V): this {
    const s = this.#s;
    const h = s.h;
    let refId: number | undefined;
    let newKey: object | symbol | undefined;
    if (s.ids !== null && isIdentityKey(key)) {
      refId = s.ids.idOf(key);
      if (refId === undefined) {
        s.checkOpen();
        refId = s.ids.peekNext();
        newKey = key;
      }
    }
    const mode = s.valueMode;
    if (mode === VALUES_PLAIN) {
      if (refId === undefined ? nSet(h, key, value) : nSet(h, key, value, refId)) s.size++;
    } else if (mode === VALUES_SLAB) {
      const slab = s.slab!;
      const cell = slab.candidate();
      const stored = (refId === undefined ? nSet(h, key, cell) : nSet(h, key, cell, refId)) as number;
      if (stored === cell) {
        slab.take(value);
        s.size++;
      } else {
        slab.values[stored] = value;
      }
    } else {
      const encoded = s.codec!.encode(value);
      if (refId === undefined ? nSet(h, key, encoded) : nSet(h, key, encoded, refId)) s.size++;
    }
    if (newKey !== undefined) s.ids!.commit(newKey, refId!);
    s.mutations++;
    return this;
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: K): boolean {
    const s = this.#s;
    if (s.fastKeyReady(key)) {
      if (s.fastKey < FAST_KEY_ARG) nFastDelete();
      else nFastDelete(key);
      const result = io[IO_RESULT]!;
      if (s.fastValue === FAST_VALUE_SLAB) {
        if (result < 0) return false;
        s.slab!.release(result);
      } else if (result === 0) {
        return false;
      }
      s.size--;
      s.mutations++;
      return true;
    }
    let refId: number | undefined;
    if (s.ids !== null && isIdentityKey(key)) {
      refId = s.ids.idOf(key);
      if (refId === undefined) {
        s.checkOpen();
        return false;
      }
    }
    if (s.valueMode === VALUES_SLAB) {
      const index = (refId === undefined ? nDelete(s.h, key) : nDelete(s.h, key, refId)) as number;
      if (index < 0) return false;
      s.slab!.release(index);
    } else if (!(refId === undefined ? nDelete(s.h, key) : nDelete(s.h, key, refId))) {
      return false;
    }
    if (refId !== undefined) s.ids!.forget(key as object | symbol, refId);
    s.size--;
    s.mutations++;
    return true;
  }

  /** Removes every entry; the table keeps its size (as Go's `clear`). */
  clear(): void {
    const s = this.#s;
    nClear(s.h);
    s.ids?.clear();
    s.slab?.clear();
    s.size = 0;
    s.mutations++;
  }

  /**
   * The value of each key, in order (`undefined` for missing keys), looked up in one
   * native call (with the buckets of upcoming keys prefetched).
   */
  getMany(keys: Iterable<K>): (V | undefined)[] {
    const s = this.#s;
    s.checkOpen();
    return s.fetchMany(toArray(keys, 'getMany keys')) as (V | undefined)[];
  }

  /**
   * Stores every `[key, value]` pair (later duplicates win) in one native call, and
   * returns the map. All or nothing: every pair is checked first, and if one is of the
   * wrong kind (TypeError) or too big (RangeError), none is stored.
   */
  setMany(entries: Iterable<readonly [K, V]>): this {
    const s = this.#s;
    s.checkOpen();
    checkIterable(entries, 'setMany entries');
    const keys: unknown[] = [];
    const values: unknown[] = [];
    for (const entry of entries) {
      if (entry === null || (typeof entry !== 'object' && typeof entry !== 'function')) {
        throw typeError(`GoMap entries must be [key, value] pairs, got ${describeType(entry)}`);
      }
      keys.push(entry[0]);
      values.push(entry[1]);
    }
    s.storeMany(keys, values);
    return this;
  }

  /** Grows now so that `n` entries fit without further growth. */
  reserve(n: number): void {
    const s = this.#s;
    s.checkOpen();
    nReserve(s.h, checkCount(n, 'reserve(n)'));
  }

  /** Rebuilds the table at the smallest size that holds the current entries (Go maps never shrink). */
  shrink(): void {
    const s = this.#s;
    s.checkOpen();
    nShrink(s.h);
  }

  /** The shape of the table now: buckets, overflow, load factor, growth in progress, bytes. */
  stats(): MapStats {
    const s = this.#s;
    s.checkOpen();
    return nStats(s.h);
  }

  /**
   * Frees the native memory now. Later use of the map (and of its unfinished iterators)
   * throws an `Error` with code `ERR_GOMAP_CLOSED`. Calling it again does nothing.
   */
  close(): void {
    if (this.#s.close() !== 0) mapFinalizer.unregister(this);
  }

  /** Same as {@link GoMap.close}, for `using` declarations. */
  [kDispose](): void {
    this.close();
  }

  /**
   * Calls `callbackfn(value, key, map)` for each entry, with `this` bound to `thisArg`.
   * The callback may change the map; Go's iteration guarantees hold.
   */
  forEach(callbackfn: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    if (typeof callbackfn !== 'function') {
      throw typeError(`GoMap forEach callback must be a function, got ${describeType(callbackfn)}`);
    }
    const s = this.#s;
    s.checkOpen();
    const it = new GoMapIterator<[K, V]>(this, s, ITER_ENTRIES);
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
    return new GoMapIterator<K>(this, s, ITER_KEYS);
  }

  /** An iterator over the values (in the order of {@link GoMap.keys}). */
  values(): MapIterator<V> {
    const s = this.#s;
    s.checkOpen();
    return new GoMapIterator<V>(this, s, ITER_VALUES);
  }

  /** An iterator over `[key, value]` pairs (in no particular order). */
  entries(): MapIterator<[K, V]> {
    const s = this.#s;
    s.checkOpen();
    return new GoMapIterator<[K, V]>(this, s, ITER_ENTRIES);
  }

  /** Same as {@link GoMap.entries}. */
  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  /** `'GoMap'`. */
  get [Symbol.toStringTag](): string {
    return 'GoMap';
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

/** The iterator of keys(), values(), entries(). */
class GoMapIterator<T> implements MapIterator<T> {
  /** The key and value of the entry {@link advance} produced. */
  key: unknown = undefined;
  value: unknown = undefined;

  // Holds the map so that it is not collected (and closed) while this iterator is in use.
  readonly #map: object;
  readonly #s: MapState;
  readonly #mode: number;
  readonly #packed: boolean;
  #it: IteratorHandle = 0;
  #started = false;
  #nativeDone = false;
  #done = false;
  // The fetched batch: a flat array [k0, v0, k1, v1, ...] ([k0, k1, ...] for keys()), or
  // (packed) typed arrays of numeric keys / values, and joined strings cut apart by the
  // lengths in the typed arrays.
  #flat: unknown[] = [];
  #keys: ArrayLike<unknown> = [];
  #values: ArrayLike<unknown> | null = null;
  // 'any' values of the batch, looked up in the slab right after the fetch (a tight loop
  // lets the cache misses of those random reads overlap).
  #resolved: unknown[] | null = null;
  #keyText: string | undefined = undefined;
  #valueText: string | undefined = undefined;
  #keyAt = 0;
  #valueAt = 0;
  #count = 0;
  #pos = 0;
  #seen = 0;
  #batch = FIRST_BATCH;
  #held: IteratorHeld | null = null;

  constructor(map: object, state: MapState, mode: number) {
    this.#map = map;
    this.#s = state;
    this.#mode = mode;
    this.#packed =
      (state.fastKey < FAST_KEY_ARG || state.keyKind === 'string') &&
      (state.fastValue < FAST_VALUE_ARG || state.valueKind === 'string' || state.valueKind === 'json');
  }

  /** Moves to the next entry (into key / value); false when there is none. */
  advance(): boolean {
    if (this.#done) return false;
    const s = this.#s;
    if (s.h === 0) throw closedError();
    const keysOnly = this.#mode === ITER_KEYS;
    for (;;) {
      while (this.#pos < this.#count) {
        const pos = this.#pos++;
        let rawKey: unknown;
        let rawValue: unknown;
        if (this.#packed) {
          const keyText = this.#keyText;
          if (keyText === undefined) {
            rawKey = this.#keys[pos];
          } else {
            const end = this.#keyAt + (this.#keys[pos] as number);
            rawKey = keyText.slice(this.#keyAt, end);
            this.#keyAt = end;
          }
          if (!keysOnly) {
            const valueText = this.#valueText;
            if (valueText === undefined) {
              rawValue = this.#values![pos];
            } else {
              const end = this.#valueAt + (this.#values![pos] as number);
              rawValue = valueText.slice(this.#valueAt, end);
              this.#valueAt = end;
            }
          }
        } else if (keysOnly) {
          rawKey = this.#flat[pos];
        } else {
          rawKey = this.#flat[2 * pos];
          rawValue = this.#flat[2 * pos + 1];
        }
        if (this.#seen !== s.mutations) {
          // The map changed since this batch was fetched: the entry may be gone, or
          // have a new value.
          if (keysOnly) {
            if (!s.hasIterated(rawKey)) continue;
          } else {
            rawValue = s.lookupIterated(rawKey);
            if (rawValue === undefined) continue;
          }
          this.key = s.decodeKey(rawKey);
          this.value = keysOnly ? undefined : s.decode(rawValue);
          return true;
        }
        this.key = s.decodeKey(rawKey);
        this.value = keysOnly ? undefined : this.#resolved !== null ? this.#resolved[pos] : s.decode(rawValue);
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
      if (s.size === 0) {
        this.#count = 0;
        this.#pos = 0;
        this.#nativeDone = true;
        return;
      }
      this.#it = nIterStart(s.h);
    }
    const batch = this.#batch;
    let count: number;
    let finished: boolean;
    if (this.#packed) {
      const fk = s.fastKey;
      const keys = fk === FAST_KEY_F64 ? new Float64Array(batch) : fk === FAST_KEY_I64 ? new BigInt64Array(batch) : new Uint32Array(batch);
      const fv = s.fastValue;
      const values = keysOnly
        ? undefined
        : fv === FAST_VALUE_I64
          ? new BigInt64Array(batch)
          : fv < FAST_VALUE_ARG
            ? new Float64Array(batch)
            : new Uint32Array(batch);
      const r = nIterNextPacked(s.h, this.#it, keys, values);
      count = r[0];
      finished = r[1];
      this.#keys = keys;
      this.#values = values ?? null;
      this.#resolved = null;
      if (fv === FAST_VALUE_SLAB && values !== undefined) {
        const slabValues = s.slab!.values;
        const resolved = new Array<unknown>(count);
        for (let i = 0; i < count; i++) resolved[i] = slabValues[values[i] as number];
        this.#resolved = resolved;
      }
      this.#keyText = r[2];
      this.#valueText = r[3];
      this.#keyAt = 0;
      this.#valueAt = 0;
    } else {
      const flat = nIterNext(s.h, this.#it, batch, keysOnly);
      count = keysOnly ? flat.length : flat.length / 2;
      finished = count < batch;
      this.#flat = flat;
    }
    this.#count = count;
    this.#pos = 0;
    this.#seen = s.mutations;
    if (finished) {
      // The native iterator is over and already freed.
      this.#nativeDone = true;
      this.#it = 0;
      if (this.#held !== null) {
        iteratorFinalizer.unregister(this);
        this.#held = null;
      }
    } else {
      if (this.#held === null) {
        // It outlives this call: free it if this iterator is abandoned.
        this.#held = { h: s.h, it: this.#it };
        iteratorFinalizer.register(this, this.#held, this);
      }
      if (batch < MAX_BATCH) this.#batch = batch * 4;
    }
  }

  #finish(): void {
    this.#done = true;
    this.#flat = [];
    this.#keys = [];
    this.#values = null;
    this.#resolved = null;
    this.#keyText = this.#valueText = undefined;
    this.#count = 0;
    this.key = this.value = undefined;
    if (this.#it !== 0) {
      if (this.#s.h !== 0) nIterEnd(this.#s.h, this.#it);
      this.#it = 0;
    }
    if (this.#held !== null) {
      iteratorFinalizer.unregister(this);
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
    return 'GoMap Iterator';
  }
}

// Inherit from %IteratorPrototype%, as Map iterators do (iterator helpers where the engine
// has them).
Object.setPrototypeOf(GoMapIterator.prototype, Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object);
