/**
 * The WebAssembly engine behind the same {@link NativeBinding} interface as the native
 * addon, so that lib/go-map.ts does not know which engine it drives.
 *
 * This file does in TypeScript what native/addon does in C++, and nothing more: it
 * checks arguments (with the addon's error messages and codes), names maps and
 * iterators by handles, writes keys and values into linear memory (heap.ts), calls the
 * C exports of native/wasm and turns the results back into JS values. No map logic.
 *
 * Handles: `generation * 2^32 + index`, as the addon's HandleTable: a closed or forged
 * handle never matches its slot, and every call on it throws ERR_GOMAP_CLOSED.
 *
 * The I/O area of the fast calls (`io`) is a JS ArrayBuffer of its own, not linear
 * memory: the façade keeps typed-array views of it for the life of the process, and
 * linear memory's buffer is replaced whenever memory grows. Numbers are copied between
 * the two as 32-bit halves (exact bits, no bigint conversion).
 *
 * Failures: allocation failure inside the module comes back as a negative result or a
 * null address and is thrown as a RangeError (code ERR_GOMAP_NO_MEMORY) with the map
 * unchanged. A trap (a bug: it should never happen) is caught, the map it happened in is
 * taken out of service (its memory is not touched again) and every later call on it
 * throws an Error with code ERR_GOMAP_WASM_TRAP that says so; other maps go on.
 *
 * @module
 */
import type { CacheBinding, CacheHandle, IteratorHandle, MapHandle, MapStats, NativeBinding } from '../binding.ts';
import { closedError, rangeError, typeError } from '../errors.ts';
import type { KeyKind, NativeValueKind } from '../kinds.ts';
import { BREAK_CACHE_FOR_TEST, createWasmCacheBinding } from './cache-binding.ts';
import { HandleTable } from './handle-table.ts';
import {
  align8,
  ARG_BYTES,
  checkSlabIndex,
  IO_KEY,
  IO_OUT,
  IO_STATS,
  IO_VALUE,
  K_ANY,
  K_F64,
  K_I64,
  K_STRING,
  KIND_NAMES,
  mapStatsAt,
  nativeTypeName,
  noMemory,
  seedWords,
  statusError,
  TAG_LATIN1,
  trapError,
  WasmHeap,
  webAssembly,
} from './heap.ts';

// Cells of the façade's I/O area (native/addon/io_area.h), as 32-bit halves.
const IO_CELLS_BYTES = 64;
const CELL_HANDLE = 0;
const CELL_KEY = 1;
const CELL_VALUE = 2;
const CELL_RESULT = 3;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_ITER_BATCH = 1 << 16;
const MAX_JOINED_UNITS = 1 << 16;

interface MapRecord {
  handle: number;
  /** Address of the WasmMap. */
  ptr: number;
  keyKind: number;
  valueKind: number;
  iterators: Set<IterRecord>;
}

interface IterRecord {
  handle: number;
  ptr: number;
  map: MapRecord;
}

/**
 * A {@link NativeBinding} over wasm/gomap.wasm at `file`.
 *
 * @throws Error when the file cannot be read or is not a valid module.
 */
export function createWasmBinding(file: string): NativeBinding {
  const heap = new WasmHeap(file);
  const x = heap.x;
  const IO = heap.io;
  const maps = new HandleTable<MapRecord>();
  const iterators = new HandleTable<IterRecord>();
  /** Handles of maps that trapped, for the error of later calls. */
  const trapped = new Map<number, Error>();

  const ioBuffer = new ArrayBuffer(IO_CELLS_BYTES);
  const ioF64 = new Float64Array(ioBuffer);
  const ioI32 = new Int32Array(ioBuffer);

  // ---- handles and failures -------------------------------------------------------------

  function findMap(h: unknown): MapRecord {
    if (typeof h !== 'number') throw typeError(`GoMap map handle must be a number, got ${nativeTypeName(h)}`);
    const record = maps.find(h);
    if (record === undefined) throw trapped.get(h) ?? closedError();
    return record;
  }

  /** Takes a map that trapped out of service (never touching its memory again). */
  function retire(record: MapRecord, e: unknown): Error {
    if (!(e instanceof webAssembly.RuntimeError)) return e as Error;
    const error = trapError(e, 'GoMap', 'map');
    heap.refresh();
    for (const it of record.iterators) iterators.remove(it);
    record.iterators.clear();
    if (maps.find(record.handle) === record) maps.remove(record);
    trapped.set(record.handle, error);
    return error;
  }

  /**
   * Runs `call` (one export called on `rec`) and takes the map out of service if it
   * traps. For the calls made once per batch, iterator or maintenance operation; the
   * single-key calls (get, has, set, delete and their fast forms) keep the same
   * try/catch written inline, so that no closure is made on their path.
   */
  function callMap<T>(rec: MapRecord, call: () => T): T {
    try {
      return call();
    } catch (e) {
      throw retire(rec, e);
    }
  }


  // ---- keys and values into linear memory (heap.ts: the writers both bindings share) ---------

  const blobBound = (kind: number, v: unknown): number => heap.blobBound(kind, v);
  const writeKey = (rec: MapRecord, arg: number, at: number, key: unknown, refId: unknown, hasRef: boolean): number =>
    heap.writeKey(rec.keyKind, arg, at, key, refId, hasRef);
  const writeValue = (rec: MapRecord, arg: number, at: number, v: unknown): number => heap.writeValue(rec.valueKind, arg, at, v);
  const writeSlabIndex = (arg: number, index: number): void => heap.writeSlabIndex(arg, index);
  const readValue = (rec: MapRecord, arg: number): unknown => heap.readValue(rec.valueKind, arg);
  const readKey = (rec: MapRecord, arg: number): unknown => heap.readKey(rec.keyKind, arg);

  // ---- fast calls: the façade's I/O area ---------------------------------------------------

  /** The map the I/O area names, with its key in io.key (from the area or `key`). */
  function fastMap(key: unknown): MapRecord {
    const rec = findMap(ioF64[CELL_HANDLE]);
    const arg = IO + IO_KEY;
    const kk = rec.keyKind;
    if (kk <= K_I64) {
      const i = arg >>> 2;
      heap.i32[i] = ioI32[2 * CELL_KEY]!;
      heap.i32[i + 1] = ioI32[2 * CELL_KEY + 1]!;
    } else {
      // A missing argument reads as undefined, as in the addon.
      const at = heap.reserveScratch(blobBound(kk, key));
      writeKey(rec, arg, at, key, undefined, false);
    }
    return rec;
  }

  /** Copies the 64 bits of io.out (or a slab index) into cell `cell` of the I/O area. */
  function outToCell(rec: MapRecord, cell: number): void {
    const i = (IO + IO_OUT) >>> 2;
    if (rec.valueKind === K_ANY) {
      ioF64[cell] = heap.u32[i]!;
    } else {
      ioI32[2 * cell] = heap.i32[i]!;
      ioI32[2 * cell + 1] = heap.i32[i + 1]!;
    }
  }

  const inIo = (rec: MapRecord): boolean => rec.valueKind <= K_I64 || rec.valueKind === K_ANY;

  function fastGet(key?: unknown): unknown {
    const rec = fastMap(key);
    let found: number;
    try {
      found = x.gomap_get(rec.ptr);
    } catch (e) {
      throw retire(rec, e);
    }
    if (inIo(rec)) {
      if (found !== 0) outToCell(rec, CELL_VALUE);
      ioF64[CELL_RESULT] = found;
      return undefined;
    }
    return found !== 0 ? heap.readBlob(IO + IO_OUT) : undefined;
  }

  function fastHas(key?: unknown): void {
    const rec = fastMap(key);
    try {
      ioF64[CELL_RESULT] = x.gomap_has(rec.ptr);
    } catch (e) {
      throw retire(rec, e);
    }
  }

  function fastSet(first?: unknown, second?: unknown): void {
    const rec = findMap(ioF64[CELL_HANDLE]);
    const keyInIo = rec.keyKind <= K_I64;
    const valueInIo = inIo(rec);
    // Arguments: the key unless it is in the I/O area, then the value unless it is.
    const key = keyInIo ? undefined : first;
    const value = valueInIo ? undefined : keyInIo ? first : second;
    const keyBound = blobBound(rec.keyKind, key);
    const at = heap.reserveScratch(keyBound + blobBound(rec.valueKind, value));
    const keyArg = IO + IO_KEY;
    const valueArg = IO + IO_VALUE;
    if (keyInIo) {
      heap.i32[keyArg >>> 2] = ioI32[2 * CELL_KEY]!;
      heap.i32[(keyArg >>> 2) + 1] = ioI32[2 * CELL_KEY + 1]!;
    } else {
      writeKey(rec, keyArg, at, key, undefined, false);
    }
    if (rec.valueKind === K_ANY) {
      writeSlabIndex(valueArg, checkSlabIndex(ioF64[CELL_VALUE]));
    } else if (valueInIo) {
      heap.i32[valueArg >>> 2] = ioI32[2 * CELL_VALUE]!;
      heap.i32[(valueArg >>> 2) + 1] = ioI32[2 * CELL_VALUE + 1]!;
    } else {
      writeValue(rec, valueArg, at + keyBound, value);
    }
    let result: number;
    try {
      result = x.gomap_set(rec.ptr);
    } catch (e) {
      throw retire(rec, e);
    }
    heap.refresh();
    if (result < 0) throw statusError(result, 'set');
    if (rec.valueKind === K_ANY) ioF64[CELL_RESULT] = heap.u32[(IO + IO_OUT) >>> 2]!;
    else ioF64[CELL_RESULT] = result;
  }

  function fastDelete(key?: unknown): void {
    const rec = fastMap(key);
    let removed: number;
    try {
      removed = x.gomap_delete(rec.ptr);
    } catch (e) {
      throw retire(rec, e);
    }
    heap.refresh();
    if (rec.valueKind === K_ANY) ioF64[CELL_RESULT] = removed !== 0 ? heap.u32[(IO + IO_OUT) >>> 2]! : -1;
    else ioF64[CELL_RESULT] = removed;
  }

  // ---- single-key calls -------------------------------------------------------------------

  /** The map of handle `h` with `key` written into io.key. */
  function keyed(h: unknown, key: unknown, refId: unknown, withRef: boolean): MapRecord {
    const rec = findMap(h);
    const hasRef = withRef && rec.keyKind === K_ANY;
    const at = heap.reserveScratch(hasRef ? 8 : blobBound(rec.keyKind, key));
    writeKey(rec, IO + IO_KEY, at, key, refId, hasRef);
    return rec;
  }

  function get(h: MapHandle, key: unknown, refId?: number): unknown {
    const rec = keyed(h, key, refId, refId !== undefined);
    let found: number;
    try {
      found = x.gomap_get(rec.ptr);
    } catch (e) {
      throw retire(rec, e);
    }
    return found !== 0 ? readValue(rec, IO + IO_OUT) : undefined;
  }

  function has(h: MapHandle, key: unknown, refId?: number): boolean {
    const rec = keyed(h, key, refId, refId !== undefined);
    try {
      return x.gomap_has(rec.ptr) !== 0;
    } catch (e) {
      throw retire(rec, e);
    }
  }

  function set(h: MapHandle, key: unknown, value: unknown, refId?: number): boolean | number {
    const rec = findMap(h);
    const hasRef = refId !== undefined && rec.keyKind === K_ANY;
    const keyBound = hasRef ? 8 : blobBound(rec.keyKind, key);
    const at = heap.reserveScratch(keyBound + blobBound(rec.valueKind, value));
    writeKey(rec, IO + IO_KEY, at, key, refId, hasRef);
    writeValue(rec, IO + IO_VALUE, at + keyBound, value);
    let result: number;
    try {
      result = x.gomap_set(rec.ptr);
    } catch (e) {
      throw retire(rec, e);
    }
    heap.refresh();
    if (result < 0) throw statusError(result, 'set');
    return rec.valueKind === K_ANY ? heap.u32[(IO + IO_OUT) >>> 2]! : result !== 0;
  }

  function remove(h: MapHandle, key: unknown, refId?: number): boolean | number {
    const rec = keyed(h, key, refId, refId !== undefined);
    let removed: number;
    try {
      removed = x.gomap_delete(rec.ptr);
    } catch (e) {
      throw retire(rec, e);
    }
    heap.refresh();
    if (rec.valueKind === K_ANY) return removed !== 0 ? heap.u32[(IO + IO_OUT) >>> 2]! : -1;
    return removed !== 0;
  }

  // ---- batches ------------------------------------------------------------------------------

  /**
   * The elements of a JS array, copied out. Reading an element may run JS (a getter that
   * closes the map, or calls gomap again): every batch copies its arrays before it looks
   * its map up or writes a byte of linear memory, as the addon does.
   */
  function readArray(v: unknown, what: string): unknown[] {
    if (!Array.isArray(v)) throw typeError(`GoMap ${what} must be an array, got ${nativeTypeName(v)}`);
    const source = v as readonly unknown[];
    const n = source.length;
    const copy = new Array<unknown>(n);
    for (let i = 0; i < n; i++) copy[i] = source[i];
    return copy;
  }

  /**
   * Lays out a batch in scratch: n key Args, n value Args, n found bytes, then blob bytes;
   * writes every key (and value) so that a bad element throws before the map is touched.
   */
  function layOut(
    rec: MapRecord,
    n: number,
    keyAt: (i: number) => unknown,
    refAt: ((i: number) => unknown) | undefined,
    valueAt: ((i: number) => unknown) | undefined,
  ): { keys: number; values: number; found: number } {
    let bound = 0;
    for (let i = 0; i < n; i++) {
      const ref = refAt?.(i);
      bound += ref !== undefined && rec.keyKind === K_ANY ? 8 : blobBound(rec.keyKind, keyAt(i));
      if (valueAt !== undefined) bound += blobBound(rec.valueKind, valueAt(i));
    }
    const head = n * 2 * ARG_BYTES + align8(n);
    const base = heap.reserveScratch(head + bound);
    const keys = base;
    const values = base + n * ARG_BYTES;
    const found = values + n * ARG_BYTES;
    let at = base + head;
    for (let i = 0; i < n; i++) {
      const ref = refAt?.(i);
      const hasRef = ref !== undefined && rec.keyKind === K_ANY;
      at += align8(writeKey(rec, keys + i * ARG_BYTES, at, keyAt(i), ref, hasRef));
      if (valueAt !== undefined) at += align8(writeValue(rec, values + i * ARG_BYTES, at, valueAt(i)));
    }
    return { keys, values, found };
  }

  /**
   * {@link layOut} for packed string keys that are all ASCII (so each key is its own
   * Latin-1 blob): the packed string is copied into linear memory in one write, and each
   * key's Arg points at its slice of it.
   */
  function layOutAscii(
    rec: MapRecord,
    ascii: { text: string; lengths: Uint32Array },
    valueAt: ((i: number) => unknown) | undefined,
  ): { keys: number; values: number; found: number } {
    const { text, lengths } = ascii;
    const n = lengths.length;
    let valueBound = 0;
    if (valueAt !== undefined) for (let i = 0; i < n; i++) valueBound += blobBound(rec.valueKind, valueAt(i));
    const head = n * 2 * ARG_BYTES + align8(n);
    const base = heap.reserveScratch(head + align8(text.length) + valueBound);
    const keys = base;
    const values = base + n * ARG_BYTES;
    const found = values + n * ARG_BYTES;
    const textAt = base + head;
    heap.buf.write(text, textAt, text.length, 'latin1');
    for (let i = 0, at = textAt; i < n; i++) {
      heap.setBlob(keys + i * ARG_BYTES, TAG_LATIN1, at, lengths[i]!);
      at += lengths[i]!;
    }
    if (valueAt !== undefined) {
      let at = textAt + align8(text.length);
      for (let i = 0; i < n; i++) at += align8(writeValue(rec, values + i * ARG_BYTES, at, valueAt(i)));
    }
    return { keys, values, found };
  }

  /** Values of a getMany (undefined for misses); found flags to `foundOut` if given. */
  function lookUpMany(rec: MapRecord, n: number, layout: { keys: number; values: number; found: number }): void {
    callMap(rec, () => x.gomap_get_many(rec.ptr, n, layout.keys, layout.values, layout.found));
  }

  function getMany(h: MapHandle, keys: readonly unknown[], refIds?: readonly (number | undefined)[]): unknown[] {
    if (typeof h !== 'number') findMap(h);
    const list = readArray(keys, 'getMany keys');
    const refs = refIds === undefined ? undefined : readArray(refIds, 'getMany refIds');
    const rec = findMap(h);
    const n = list.length;
    const layout = layOut(rec, n, (i) => list[i], refs === undefined ? undefined : (i) => refs[i], undefined);
    lookUpMany(rec, n, layout);
    const result = new Array<unknown>(n);
    const u8 = heap.u8;
    for (let i = 0; i < n; i++) result[i] = u8[layout.found + i] !== 0 ? readValue(rec, layout.values + i * ARG_BYTES) : undefined;
    return result;
  }

  /** Stores a laid-out batch; writes stored slab indexes back to `slab`. */
  function storeMany(rec: MapRecord, n: number, layout: { keys: number; values: number }, slab: Uint32Array | undefined): number {
    const result = callMap(rec, () => x.gomap_set_many(rec.ptr, n, layout.keys, layout.values));
    heap.refresh();
    if (result < 0) throw statusError(result, 'setMany');
    if (slab !== undefined) {
      const u32 = heap.u32;
      for (let i = 0; i < n; i++) slab[i] = u32[(layout.values + i * ARG_BYTES) >>> 2]!;
    }
    return result;
  }

  function setMany(
    h: MapHandle,
    keys: readonly unknown[],
    values: readonly unknown[] | Uint32Array,
    refIds?: readonly (number | undefined)[],
  ): number {
    if (typeof h !== 'number') findMap(h);
    const list = readArray(keys, 'setMany keys');
    let slab: Uint32Array | undefined;
    let plain: readonly unknown[] | undefined;
    if (ArrayBuffer.isView(values)) {
      if (!(values instanceof Uint32Array)) {
        throw typeError(`GoMap setMany values must be an array (or a Uint32Array of slab indexes), got ${nativeTypeName(values)}`);
      }
      slab = values;
    } else {
      plain = readArray(values, 'setMany values');
    }
    const count = slab !== undefined ? slab.length : plain!.length;
    if (count !== list.length) {
      throw typeError(`GoMap setMany needs as many values as keys (${list.length} keys, ${count} values)`);
    }
    const refs = refIds === undefined ? undefined : readArray(refIds, 'setMany refIds');
    const rec = findMap(h);
    if ((rec.valueKind === K_ANY) !== (slab !== undefined)) {
      throw typeError(
        rec.valueKind === K_ANY
          ? "GoMap internal error: setMany of 'any' values takes a Uint32Array of slab indexes"
          : 'GoMap setMany values must be an array, got Uint32Array',
      );
    }
    const n = list.length;
    if (n === 0) return 0;
    const valueAt = slab !== undefined ? (i: number) => slab[i] : (i: number) => plain![i];
    const layout = layOut(rec, n, (i) => list[i], refs === undefined ? undefined : (i) => refs[i], valueAt);
    return storeMany(rec, n, layout, slab);
  }

  // ---- packed batches -----------------------------------------------------------------------

  /**
   * Packed keys as an accessor, checked against the map's key kind as the addon does.
   * `ascii`: the packed string when every character is ASCII: then {@link layOutAscii}
   * writes all keys with one copy, and no key is cut out of the string.
   */
  function packedKeys(
    rec: MapRecord,
    keys: Float64Array | BigInt64Array | string,
    lengths: Uint32Array | undefined,
  ): { n: number; keyAt: (i: number) => unknown; ascii?: { text: string; lengths: Uint32Array } } {
    if (ArrayBuffer.isView(keys)) {
      if (!(keys instanceof Float64Array) && !(keys instanceof BigInt64Array)) {
        throw typeError(`GoMap packed keys must be a Float64Array or a BigInt64Array, got ${nativeTypeName(keys)}`);
      }
      const want = keys instanceof Float64Array ? K_F64 : K_I64;
      if (rec.keyKind !== want) throw typeError('GoMap internal error: packed keys of the wrong form');
      return { n: keys.length, keyAt: (i) => keys[i] };
    }
    if (!(lengths instanceof Uint32Array)) throw typeError('GoMap packed string keys need a Uint32Array of lengths');
    if (typeof keys !== 'string') throw typeError(`GoMap packed keys must be typed arrays or a string, got ${nativeTypeName(keys)}`);
    let total = 0;
    for (let i = 0; i < lengths.length; i++) total += lengths[i]!;
    if (total !== keys.length) throw typeError('GoMap packed string keys: the lengths do not add up to the string');
    if (rec.keyKind !== K_STRING) throw typeError('GoMap internal error: packed keys of the wrong form');
    if (Buffer.byteLength(keys, 'utf8') === keys.length) {
      const unused = (): never => {
        throw new Error('GoMap internal error: ASCII packed keys are laid out whole');
      };
      return { n: lengths.length, keyAt: unused, ascii: { text: keys, lengths } };
    }
    const pieces = new Array<string>(lengths.length);
    for (let i = 0, at = 0; i < lengths.length; i++) {
      pieces[i] = keys.slice(at, at + lengths[i]!);
      at += lengths[i]!;
    }
    return { n: pieces.length, keyAt: (i) => pieces[i] };
  }

  function getManyPacked(
    h: MapHandle,
    keys: Float64Array | BigInt64Array | string,
    lengths: Uint32Array | undefined,
    valuesOut: Float64Array | BigInt64Array | undefined,
    found: Uint8Array,
  ): unknown[] | undefined {
    const rec0 = typeof h === 'number' ? maps.find(h) : findMap(h);
    if (valuesOut !== undefined && !(valuesOut instanceof Float64Array) && !(valuesOut instanceof BigInt64Array)) {
      throw typeError('GoMap getMany output must be a Float64Array or a BigInt64Array');
    }
    const rec = rec0 ?? findMap(h);
    const { n, keyAt, ascii } = packedKeys(rec, keys, lengths);
    if (!(found instanceof Uint8Array) || found.length < n) {
      throw typeError('GoMap getMany needs a Uint8Array of found flags as long as the keys');
    }
    const numeric = inIo(rec);
    if (numeric) {
      const want = rec.valueKind === K_I64 ? BigInt64Array : Float64Array;
      if (!(valuesOut instanceof want) || valuesOut.length < n) throw typeError('GoMap internal error: getMany output of the wrong form');
    }
    if (rec.keyKind <= K_I64 && rec.valueKind <= K_I64) {
      getManyWords(rec, keys as Float64Array | BigInt64Array, valuesOut!, found);
      return undefined;
    }
    if (ascii !== undefined && rec.valueKind <= K_I64) {
      getManyLatin1(rec, ascii, valuesOut!, found);
      return undefined;
    }
    const layout = ascii !== undefined ? layOutAscii(rec, ascii, undefined) : layOut(rec, n, keyAt, undefined, undefined);
    lookUpMany(rec, n, layout);
    const u8 = heap.u8;
    if (numeric) {
      const out = valuesOut!;
      for (let i = 0; i < n; i++) {
        const hit = u8[layout.found + i]!;
        found[i] = hit;
        if (hit !== 0) (out as Float64Array)[i] = readValue(rec, layout.values + i * ARG_BYTES) as number;
      }
      return undefined;
    }
    const result = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      const hit = u8[layout.found + i]!;
      found[i] = hit;
      result[i] = hit !== 0 ? heap.readBlob(layout.values + i * ARG_BYTES) : undefined;
    }
    return result;
  }

  /**
   * getMany of f64 / i64 keys and values: the typed arrays are copied into linear memory
   * and back in one go each (gomap_get_many_words), no Arg per key.
   */
  function getManyWords(rec: MapRecord, keys: Float64Array | BigInt64Array, out: Float64Array | BigInt64Array, found: Uint8Array): void {
    const n = keys.length;
    const base = heap.reserveScratch(16 * n + align8(n));
    const k = base >>> 3;
    const v = k + n;
    const f = base + 16 * n;
    if (keys instanceof Float64Array) heap.f64.set(keys, k);
    else heap.i64.set(keys, k);
    callMap(rec, () => x.gomap_get_many_words(rec.ptr, n, base, base + 8 * n, f));
    found.set(heap.u8.subarray(f, f + n));
    // Misses get whatever the scratch held: the caller reads only what found[] marks.
    if (out instanceof Float64Array) out.set(heap.f64.subarray(v, v + n));
    else out.set(heap.i64.subarray(v, v + n));
  }

  /**
   * Lays out ASCII packed string keys for the Latin-1 batch exports: the text (one copy)
   * and the lengths, then room for n value words (at `values`) and n found bytes.
   */
  function layOutLatin1(ascii: { text: string; lengths: Uint32Array }): { text: number; lengths: number; values: number; found: number } {
    const { text, lengths } = ascii;
    const n = lengths.length;
    const base = heap.reserveScratch(8 * n + align8(4 * n) + align8(n) + align8(text.length));
    const values = base;
    const lengthsAt = base + 8 * n;
    const found = lengthsAt + align8(4 * n);
    const textAt = found + align8(n);
    heap.u32.set(lengths, lengthsAt >>> 2);
    heap.buf.write(text, textAt, text.length, 'latin1');
    return { text: textAt, lengths: lengthsAt, values, found };
  }

  /**
   * getMany of ASCII packed string keys with f64 / i64 values (gomap_get_many_latin1):
   * no Arg per key, and the values and found flags come back in one copy each.
   */
  function getManyLatin1(rec: MapRecord, ascii: { text: string; lengths: Uint32Array }, out: Float64Array | BigInt64Array, found: Uint8Array): void {
    const n = ascii.lengths.length;
    const l = layOutLatin1(ascii);
    const r = callMap(rec, () => x.gomap_get_many_latin1(rec.ptr, n, l.text, l.lengths, l.values, l.found));
    if (r < 0) throw statusError(r, 'getMany');
    found.set(heap.u8.subarray(l.found, l.found + n));
    // Misses get whatever the scratch held: the caller reads only what found[] marks.
    const v = l.values >>> 3;
    if (out instanceof Float64Array) out.set(heap.f64.subarray(v, v + n));
    else out.set(heap.i64.subarray(v, v + n));
  }

  /** setMany of ASCII packed string keys with f64 / i64 values, as {@link getManyLatin1}. */
  function setManyLatin1(rec: MapRecord, ascii: { text: string; lengths: Uint32Array }, values: Float64Array | BigInt64Array): number {
    const n = ascii.lengths.length;
    const l = layOutLatin1(ascii);
    const v = l.values >>> 3;
    if (values instanceof Float64Array) heap.f64.set(values.subarray(0, n), v);
    else heap.i64.set(values.subarray(0, n), v);
    const result = callMap(rec, () => x.gomap_set_many_latin1(rec.ptr, n, l.text, l.lengths, l.values));
    heap.refresh();
    if (result < 0) throw statusError(result, 'setMany');
    return result;
  }

  /** setMany of f64 / i64 keys and values, as {@link getManyWords} (all or nothing). */
  function setManyWords(rec: MapRecord, keys: Float64Array | BigInt64Array, values: Float64Array | BigInt64Array, n: number): number {
    const base = heap.reserveScratch(16 * n);
    const k = base >>> 3;
    if (keys instanceof Float64Array) heap.f64.set(keys.subarray(0, n), k);
    else heap.i64.set(keys.subarray(0, n), k);
    if (values instanceof Float64Array) heap.f64.set(values.subarray(0, n), k + n);
    else heap.i64.set(values.subarray(0, n), k + n);
    const result = callMap(rec, () => x.gomap_set_many_words(rec.ptr, n, base, base + 8 * n));
    heap.refresh();
    if (result < 0) throw statusError(result, 'setMany');
    return result;
  }

  function setManyPacked(
    h: MapHandle,
    keys: Float64Array | BigInt64Array | string,
    lengths: Uint32Array | undefined,
    values: Float64Array | BigInt64Array | Uint32Array | readonly unknown[],
  ): number {
    if (typeof h !== 'number') findMap(h);
    const typed = ArrayBuffer.isView(values);
    const vs: ArrayLike<unknown> = typed ? (values as ArrayLike<unknown>) : readArray(values, 'setMany values');
    const rec = findMap(h); // after the reads above: they may have run JS
    const { n, keyAt, ascii } = packedKeys(rec, keys, lengths);
    if (vs.length < n) throw typeError('GoMap setMany needs as many values as keys');
    if (n === 0) return 0;
    let slab: Uint32Array | undefined;
    const vk = rec.valueKind;
    if (vk === K_ANY) {
      if (!(values instanceof Uint32Array)) throw typeError("GoMap internal error: 'any' values need slab indexes");
      slab = values;
    } else if (vk <= K_I64) {
      const want = vk === K_I64 ? BigInt64Array : Float64Array;
      if (!(values instanceof want)) throw typeError('GoMap internal error: setMany values of the wrong form');
      if (rec.keyKind <= K_I64) return setManyWords(rec, keys as Float64Array | BigInt64Array, values, n);
      if (ascii !== undefined) return setManyLatin1(rec, ascii, values);
    } else if (typed) {
      throw typeError('GoMap internal error: setMany values missing');
    }
    const valueAt = (i: number): unknown => vs[i];
    const layout = ascii !== undefined ? layOutAscii(rec, ascii, valueAt) : layOut(rec, n, keyAt, undefined, valueAt);
    return storeMany(rec, n, layout, slab);
  }

  // ---- iteration ------------------------------------------------------------------------------

  /** The iterator `it` of map `rec`: undefined when it is over; TypeError for another map's. */
  function findIterator(rec: MapRecord, it: unknown): IterRecord | undefined {
    if (typeof it !== 'number') throw typeError(`GoMap iterator handle must be a number, got ${nativeTypeName(it)}`);
    const record = iterators.find(it);
    if (record !== undefined && record.map !== rec) throw typeError('GoMap iterator does not belong to this map');
    return record;
  }

  function endIterator(record: IterRecord): void {
    iterators.remove(record);
    record.map.iterators.delete(record);
    try {
      x.gomap_iter_end(record.ptr);
    } catch (e) {
      // Never throws (finalizers call it): a trap only takes the map out of service.
      retire(record.map, e);
    }
    heap.refresh();
  }

  /** The next entry of `record` into io.key / io.out; false when the iteration is over. */
  function step(record: IterRecord): boolean {
    try {
      return x.gomap_iter_next(record.ptr) !== 0;
    } catch (e) {
      throw retire(record.map, e);
    }
  }

  function iterStart(h: MapHandle): IteratorHandle {
    const rec = findMap(h);
    const ptr = callMap(rec, () => x.gomap_iter_start(rec.ptr));
    heap.refresh();
    if (ptr === 0) throw noMemory('iterator');
    const record = iterators.add((handle) => ({ handle, ptr, map: rec }));
    rec.iterators.add(record);
    return record.handle;
  }

  function iterNext(h: MapHandle, it: IteratorHandle, max: number, keysOnly?: boolean): unknown[] {
    const rec = findMap(h);
    if (typeof it !== 'number') throw typeError(`GoMap iterator handle must be a number, got ${nativeTypeName(it)}`);
    if (typeof max !== 'number') throw typeError(`GoMap iterNext batch size must be a number, got ${nativeTypeName(max)}`);
    const batch = !(max >= 1) ? 1 : max > MAX_ITER_BATCH ? MAX_ITER_BATCH : Math.floor(max);
    const record = findIterator(rec, it);
    const flat: unknown[] = [];
    if (record === undefined) return flat;
    const withValues = keysOnly !== true;
    let produced = 0;
    for (; produced < batch; produced++) {
      if (!step(record)) break;
      flat.push(readKey(rec, IO + IO_KEY));
      if (withValues) flat.push(readValue(rec, IO + IO_OUT));
    }
    if (produced < batch) endIterator(record);
    return flat;
  }

  function iterNextPacked(
    h: MapHandle,
    it: IteratorHandle,
    keysOut: Float64Array | BigInt64Array | Uint32Array,
    valuesOut?: Float64Array | BigInt64Array | Uint32Array,
  ): [count: number, finished: boolean, keys: string | undefined, values: string | undefined] {
    const rec = findMap(h);
    if (typeof it !== 'number') throw typeError(`GoMap iterator handle must be a number, got ${nativeTypeName(it)}`);
    const typedOut = (v: unknown): boolean => v instanceof Float64Array || v instanceof BigInt64Array || v instanceof Uint32Array;
    if (!typedOut(keysOut)) throw typeError('GoMap iterNextPacked keys output must be a typed array');
    if (valuesOut !== undefined && !typedOut(valuesOut)) throw typeError('GoMap iterNextPacked values output must be a typed array');
    let max = Math.min(keysOut.length, MAX_ITER_BATCH);
    if (valuesOut !== undefined && valuesOut.length < max) max = valuesOut.length;
    const record = findIterator(rec, it);
    if (record === undefined) return [0, true, undefined, undefined];
    const kk = rec.keyKind;
    const vk = rec.valueKind;
    const keyString = kk === K_STRING;
    const valueString = vk === K_STRING;
    if (!(kk <= K_I64 || keyString) || !(inIo(rec) || valueString)) {
      throw typeError('GoMap internal error: packed iteration needs f64 / i64 / string keys and f64 / i64 / any / string values');
    }
    const keyForm = keyString ? Uint32Array : kk === K_F64 ? Float64Array : BigInt64Array;
    const valueForm = valueString ? Uint32Array : vk === K_I64 ? BigInt64Array : Float64Array;
    if (!(keysOut instanceof keyForm) || (valuesOut !== undefined && !(valuesOut instanceof valueForm))) {
      throw typeError('GoMap internal error: iteration output of the wrong form');
    }
    const keyText: string[] = [];
    const valueText: string[] = [];
    let units = 0;
    let n = 0;
    let finished = false;
    while (n < max) {
      if (!step(record)) {
        finished = true;
        break;
      }
      if (keyString) {
        const s = heap.readString(IO + IO_KEY);
        keyText.push(s);
        keysOut[n] = s.length;
        units += s.length;
      } else {
        (keysOut as Float64Array)[n] = readKey(rec, IO + IO_KEY) as number;
      }
      if (valuesOut !== undefined) {
        if (valueString) {
          const s = heap.readString(IO + IO_OUT);
          valueText.push(s);
          valuesOut[n] = s.length;
          units += s.length;
        } else {
          (valuesOut as Float64Array)[n] = readValue(rec, IO + IO_OUT) as number;
        }
      }
      ++n;
      if (units >= MAX_JOINED_UNITS) break;
    }
    if (finished) endIterator(record);
    return [n, finished, keyString ? keyText.join('') : undefined, valueString && valuesOut !== undefined ? valueText.join('') : undefined];
  }

  function iterEnd(h: MapHandle, it: IteratorHandle): boolean {
    if (typeof h !== 'number' || typeof it !== 'number') return false;
    const record = iterators.find(it);
    if (record === undefined || record.map !== maps.find(h)) return false;
    endIterator(record);
    return true;
  }

  // ---- whole-map calls ------------------------------------------------------------------------

  function readCount(n: unknown, what: string): number {
    if (typeof n !== 'number') throw typeError(`GoMap ${what} must be a number, got ${nativeTypeName(n)}`);
    if (!(n >= 0 && n <= MAX_SAFE) || Math.floor(n) !== n) {
      throw rangeError(`GoMap ${what} must be an integer from 0 to 2^53 - 1, got ${String(n)}`);
    }
    return n;
  }

  function create(keyKind: KeyKind, valueKind: NativeValueKind, hint: number, seed?: bigint): MapHandle {
    const kindCode = (v: unknown, what: string): number => {
      const i = typeof v === 'string' ? (KIND_NAMES as readonly string[]).indexOf(v) : -1;
      if (i < 0) throw typeError(`GoMap ${what} kind must be one of 'f64', 'i64', 'string', 'bytes', 'any'`);
      return i;
    };
    const kk = kindCode(keyKind, 'key');
    const vk = kindCode(valueKind, 'value');
    const n = readCount(hint, 'hint');
    const [lo, hi] = seedWords(seed, 'GoMap');
    const ptr = x.gomap_create(kk, vk, n, lo, hi);
    heap.refresh();
    if (ptr === 0) throw statusError(heap.i32[(IO + IO_OUT) >>> 2]!, 'hint');
    return maps.add((handle) => ({ handle, ptr, keyKind: kk, valueKind: vk, iterators: new Set() })).handle;
  }

  function close(h: MapHandle): boolean {
    if (typeof h !== 'number') throw typeError(`GoMap map handle must be a number, got ${nativeTypeName(h)}`);
    const rec = maps.find(h);
    if (rec === undefined) return false;
    for (const it of [...rec.iterators]) endIterator(it);
    if (maps.find(h) !== rec) return true; // an iterator trapped: the map is retired
    maps.remove(rec);
    try {
      x.gomap_destroy(rec.ptr);
    } catch (e) {
      // Its memory is abandoned; later calls with the handle say why.
      retire(rec, e);
    }
    heap.refresh();
    return true;
  }

  function clear(h: MapHandle): void {
    const rec = findMap(h);
    callMap(rec, () => x.gomap_clear(rec.ptr));
    heap.refresh();
  }

  function stats(h: MapHandle): MapStats {
    const rec = findMap(h);
    callMap(rec, () => x.gomap_stats(rec.ptr));
    return mapStatsAt(heap.f64, (IO + IO_STATS) >>> 3);
  }

  function size(h: MapHandle): number {
    return stats(h).count;
  }

  function reserve(h: MapHandle, n: number): void {
    const rec = findMap(h);
    const count = readCount(n, 'reserve(n)');
    const result = callMap(rec, () => x.gomap_reserve(rec.ptr, count));
    heap.refresh();
    if (result < 0) throw statusError(result, 'reserve(n)');
  }

  function shrink(h: MapHandle): void {
    const rec = findMap(h);
    const result = callMap(rec, () => x.gomap_shrink(rec.ptr));
    heap.refresh();
    if (result < 0) throw statusError(result, 'shrink()');
  }

  function liveHandles(): { maps: number; iterators: number } {
    return { maps: maps.live, iterators: iterators.live };
  }

  const cacheFunctions = createWasmCacheBinding(heap);
  const hooks: WasmTestHooks = {
    failNthAllocation(n: number): void {
      x.gomap_fail_nth_allocation(readCount(n, 'failNthAllocation(n)'));
    },
    memoryBytes(): number {
      return x.memory.buffer.byteLength;
    },
    breakMapForTest(h: MapHandle): void {
      findMap(h).ptr = 0xffff_fff0; // past the end of linear memory: the next access traps
    },
    breakCacheForTest: cacheFunctions[BREAK_CACHE_FOR_TEST],
  };
  // The addon's `__testing` object (native/addon/testing.h), with the same two functions
  // and the same rule: present only when GOMAP_TESTING=1 was set before the engine loaded.
  const testing =
    process.env.GOMAP_TESTING === '1'
      ? {
          __testing: {
            failNthAllocation: hooks.failNthAllocation,
            allocationCount: (): number => x.gomap_allocation_count(),
          },
        }
      : {};
  const binding: NativeBinding & CacheBinding & { [WASM_TEST_HOOKS]: WasmTestHooks } = {
    ...testing,
    ...cacheFunctions, // GoCache's functions (cache-binding.ts)
    create,
    io: ioBuffer,
    fastGet,
    fastHas,
    fastSet,
    fastDelete,
    get,
    has,
    set,
    delete: remove,
    getMany,
    setMany,
    getManyPacked,
    setManyPacked,
    iterNextPacked,
    clear,
    size,
    stats,
    reserve,
    shrink,
    close,
    iterStart,
    iterNext,
    iterEnd,
    liveHandles,
    [WASM_TEST_HOOKS]: hooks,
  };
  return binding;
}

/** The key of a wasm binding's {@link WasmTestHooks} (a symbol: not among its functions). */
export const WASM_TEST_HOOKS: unique symbol = Symbol('gomap.wasmTestHooks');

/** The test hooks of a binding, if it is the wasm engine's. */
export function wasmTestHooks(binding: NativeBinding): WasmTestHooks | undefined {
  return (binding as Partial<Record<typeof WASM_TEST_HOOKS, WasmTestHooks>>)[WASM_TEST_HOOKS];
}

/** Test hooks of the wasm engine only (not part of {@link NativeBinding}). */
export interface WasmTestHooks {
  /** The allocation `n` calls from now fails (core/alloc.h); 0 disarms. */
  failNthAllocation(n: number): void;
  /** Bytes of linear memory now. */
  memoryBytes(): number;
  /** Points map `h` outside linear memory, so that its next call traps (tests of trap handling). */
  breakMapForTest(h: MapHandle): void;
  /** The same for the GoCache of handle `h`. */
  breakCacheForTest(h: CacheHandle): void;
}
