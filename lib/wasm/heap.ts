/**
 * The WebAssembly module of gomap (wasm/gomap.wasm) and its linear memory, as the wasm
 * bindings (binding.ts for GoMap, cache-binding.ts for GoCache) use them: the exports,
 * typed-array views of memory that follow memory growth, and the codec between JS values
 * and the tagged blobs the core stores (per key / value kind, shared by both bindings).
 *
 * Design:
 *
 * - The module imports nothing; it is compiled and instantiated synchronously (the
 *   loader runs at import time, with no top-level await, in ESM and CommonJS alike).
 * - Linear memory grows when malloc asks for it, and growing detaches the old
 *   `ArrayBuffer`: every view here is re-made by {@link WasmHeap.refresh}, which callers
 *   invoke after any export that may allocate (a detached view has length 0, so the check
 *   is one comparison).
 * - Keys and values cross as `Arg`s (native/wasm/abi.h: 24 bytes: a 64-bit word, then
 *   address, length and tag of a blob). Blobs are encoded exactly as the native addon
 *   encodes them (native/addon/key_codec.h, js_string.h), so both engines hash, compare
 *   and order the same keys the same way:
 *     strings  every UTF-16 unit < 256: tag Latin1, one byte per unit; else tag UTF-16,
 *              two bytes per unit, little-endian (lone surrogates kept as they are)
 *     bytes    tag Bytes, the contents
 *     'any'    number: tag Number + 8 bytes of the f64 bits with -0 folded into +0 and
 *              every NaN into one; bigint: tag BigInt + sign byte + minimal little-endian
 *              magnitude; false / true / undefined / null: the tag alone; object or
 *              symbol: tag ObjectRef + the 8-byte identity id the façade assigned
 * - Blob bytes go to the module's scratch buffer (gomap_scratch), whose capacity is asked
 *   for before anything is written: growing it may move it and forget its contents.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isUint8Array } from 'node:util/types';
import type { MapStats, NativeCacheStats } from '../binding.ts';
import { rangeError, typeError } from '../errors.ts';
import { avoidInlinedWasmCalls } from './v8-workarounds.ts';

/**
 * The parts of the global `WebAssembly` namespace used here (the Node 20 type
 * definitions declare the namespace without its classes).
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
  RuntimeError: new (...args: never[]) => Error;
}
/** The global `WebAssembly` object. */
export const webAssembly: WebAssemblyApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** The exports of wasm/gomap.wasm (native/wasm/exports.cc). Addresses are i32 numbers. */
export interface WasmExports {
  readonly memory: WasmMemory;
  /** Runs the static constructors; called once, right after instantiation. */
  _initialize(): void;
  gomap_io(): number;
  gomap_scratch(bytes: number): number;
  gomap_create(keyKind: number, valueKind: number, hint: number, seedLo: number, seedHi: number): number;
  gomap_destroy(map: number): void;
  gomap_get(map: number): number;
  gomap_has(map: number): number;
  gomap_set(map: number): number;
  gomap_delete(map: number): number;
  gomap_get_many(map: number, n: number, keys: number, out: number, found: number): void;
  gomap_set_many(map: number, n: number, keys: number, values: number): number;
  gomap_get_many_words(map: number, n: number, keys: number, values: number, found: number): number;
  gomap_set_many_words(map: number, n: number, keys: number, values: number): number;
  gomap_get_many_latin1(map: number, n: number, text: number, lengths: number, values: number, found: number): number;
  gomap_set_many_latin1(map: number, n: number, text: number, lengths: number, values: number): number;
  gomap_clear(map: number): void;
  gomap_stats(map: number): void;
  gomap_reserve(map: number, n: number): number;
  gomap_shrink(map: number): number;
  gomap_iter_start(map: number): number;
  gomap_iter_next(it: number): number;
  gomap_iter_end(it: number): void;
  gomap_fail_nth_allocation(n: number): void;
  gomap_allocation_count(): number;
}

/** Bytes of one Arg (abi.h). */
export const ARG_BYTES = 24;
/** Byte offsets of an Arg's fields. */
export const ARG_WORD = 0;
export const ARG_PTR = 8;
export const ARG_LEN = 12;
export const ARG_TAG = 16;
/** Byte offsets of the I/O area's parts. */
export const IO_KEY = 0;
export const IO_VALUE = 24;
export const IO_OUT = 48;
export const IO_STATS = 72;
/** Results of the exports that may fail. */
export const RESULT_NO_MEMORY = -1;
export const RESULT_TOO_LARGE = -2;

/** Blob tags (native/core/blob.h). */
export const TAG_LATIN1 = 0;
export const TAG_UTF16 = 1;
export const TAG_BYTES = 2;
export const TAG_NUMBER = 3;
export const TAG_BIGINT = 4;
export const TAG_FALSE = 5;
export const TAG_TRUE = 6;
export const TAG_UNDEFINED = 7;
export const TAG_NULL = 8;
export const TAG_OBJECT_REF = 9;

/** Kind codes of the exports (native/wasm/exports.cc, cache_exports.cc), in this order. */
export const K_F64 = 0;
export const K_I64 = 1;
export const K_STRING = 2;
export const K_BYTES = 3;
export const K_ANY = 4;
export const KIND_NAMES = ['f64', 'i64', 'string', 'bytes', 'any'] as const;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** Longest blob the core accepts (kMaxBlobLength: 1 GiB). */
export const MAX_BLOB_BYTES = 2 ** 30;
const MAX_REF_ID = 2 ** 53;

/**
 * The hash seed of a create export as two 32-bit words [lo, hi]: the low 64 bits of
 * `seed`, or, when it is undefined, a random seed from the OS (the module has no entropy
 * of its own). TypeError "<owner> seed must be a bigint" for anything else.
 */
export function seedWords(seed: unknown, owner: string): [lo: number, hi: number] {
  if (seed === undefined) {
    const words = webcrypto.getRandomValues(new Uint32Array(2));
    return [words[0]!, words[1]!];
  }
  if (typeof seed !== 'bigint') throw typeError(`${owner} seed must be a bigint, got ${nativeTypeName(seed)}`);
  const s = BigInt.asUintN(64, seed);
  return [Number(s & 0xffff_ffffn), Number(s >> 32n)];
}

/**
 * The MapStats a stats export wrote as 12 float64 cells from index `i` of `f` (count, B,
 * buckets, overflowBuckets, loadFactor, growing, oldBuckets, evacuated, grows,
 * sameSizeGrows, shrinks, bytes: native/wasm/exports.cc and sync_exports.cc).
 */
export function mapStatsAt(f: Float64Array, i: number): MapStats {
  return {
    count: f[i]!,
    B: f[i + 1]!,
    buckets: f[i + 2]!,
    overflowBuckets: f[i + 3]!,
    loadFactor: f[i + 4]!,
    growing: f[i + 5] !== 0,
    oldBuckets: f[i + 6]!,
    evacuated: f[i + 7]!,
    grows: f[i + 8]!,
    sameSizeGrows: f[i + 9]!,
    shrinks: f[i + 10]!,
    bytes: f[i + 11]!,
  };
}

/**
 * The NativeCacheStats a module wrote as 7 doubles at `f[i]`: hits, misses, evictions,
 * expirations, size, bytes, tableBytes (cache_exports.cc and shared_cache_exports.cc).
 */
export function cacheStatsAt(f: Float64Array, i: number): NativeCacheStats {
  return {
    hits: f[i]!,
    misses: f[i + 1]!,
    evictions: f[i + 2]!,
    expirations: f[i + 3]!,
    size: f[i + 4]!,
    bytes: f[i + 5]!,
    tableBytes: f[i + 6]!,
  };
}

/** Rounds a byte count up to a multiple of 8. */
export function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Typed-array views of a module's linear memory, and the parts of an Arg (abi.h) that
 * every wasm binding writes and reads alike: blob fields, strings (Latin-1 / UTF-16LE).
 * Shared by {@link WasmHeap} and the SyncMap domains of sync-binding.ts (a shared
 * memory), which re-make the views with {@link MemoryViews.setViews} when memory grows.
 */
export class MemoryViews {
  u8!: Uint8Array;
  u32!: Uint32Array;
  i32!: Int32Array;
  f64!: Float64Array;
  i64!: BigInt64Array;
  buf!: Buffer;

  /** Makes the views of memory buffer `b`. */
  protected setViews(b: ArrayBufferLike): void {
    this.u8 = new Uint8Array(b);
    this.u32 = new Uint32Array(b);
    this.i32 = new Int32Array(b);
    this.f64 = new Float64Array(b);
    this.i64 = new BigInt64Array(b);
    this.buf = Buffer.from(b);
  }

  /** Sets the blob fields of the Arg at `arg`. */
  setBlob(arg: number, tag: number, ptr: number, len: number): void {
    const u32 = this.u32;
    const i = arg >>> 2;
    u32[i + 2] = ptr;
    u32[i + 3] = len;
    u32[i + 4] = tag;
  }

  /**
   * Writes string `s` at `at` as a Latin-1 or UTF-16 blob into the Arg at `arg`; returns
   * the bytes written. The scratch must have room for `2 * s.length` bytes.
   */
  writeString(arg: number, at: number, s: string): number {
    const n = s.length;
    const u8 = this.u8;
    let all = 0;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      all |= c;
      u8[at + i] = c;
    }
    if (all < 0x100) {
      this.setBlob(arg, TAG_LATIN1, at, n);
      return n;
    }
    this.buf.write(s, at, n * 2, 'utf16le');
    this.setBlob(arg, TAG_UTF16, at, n * 2);
    return n * 2;
  }

  /** A string from Latin-1 bytes. */
  latin1(ptr: number, len: number): string {
    if (len > 24) return this.buf.toString('latin1', ptr, ptr + len);
    const u8 = this.u8;
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(u8[ptr + i]!);
    return s;
  }

  /** The string of a Latin-1 (`tag` TAG_LATIN1) or UTF-16 blob at `ptr`. */
  stringAt(tag: number, ptr: number, len: number): string {
    return tag === TAG_LATIN1 ? this.latin1(ptr, len) : this.buf.toString('utf16le', ptr, ptr + len);
  }
}

/** The module instance, its memory views and the blob codec. One per JS thread. */
export class WasmHeap extends MemoryViews {
  readonly x: WasmExports;
  /** Address of the I/O area. */
  readonly io: number;
  dv!: DataView;
  /** Address and capacity of the scratch buffer. */
  scratch = 0;
  scratchCapacity = 0;

  constructor(file: string) {
    super();
    avoidInlinedWasmCalls();
    const module = new webAssembly.Module(readFileSync(file));
    const instance = new webAssembly.Instance(module, {});
    this.x = instance.exports as unknown as WasmExports;
    this.x._initialize();
    this.io = this.x.gomap_io();
    this.refresh();
    this.reserveScratch(4096);
  }

  /** Re-makes the views when memory has grown (the old buffer is then detached). */
  refresh(): void {
    if (this.u8 !== undefined && this.u8.length !== 0) return; // not detached: no growth
    const b = this.x.memory.buffer;
    this.setViews(b);
    this.dv = new DataView(b);
  }

  /**
   * Makes the scratch buffer hold at least `bytes` bytes (its contents are lost when it
   * grows); RangeError when memory runs out.
   */
  reserveScratch(bytes: number): number {
    if (bytes > this.scratchCapacity) {
      if (bytes > 0xffff_fff0) throw noMemory('call');
      const at = this.x.gomap_scratch(bytes);
      this.refresh();
      if (at === 0) throw noMemory('call');
      this.scratch = at;
      this.scratchCapacity = Math.max(bytes, 4096);
    }
    return this.scratch;
  }

  // ---- writing Args --------------------------------------------------------------------

  /** Writes the contents of `bytes` at `at` as a Bytes blob into the Arg at `arg`. */
  writeBytes(arg: number, at: number, bytes: Uint8Array): number {
    const n = bytesLength(bytes);
    this.u8.set(bytes, at);
    this.setBlob(arg, TAG_BYTES, at, n);
    return n;
  }

  /** Writes an 8-byte identity id at `at` as an ObjectRef blob. */
  writeRef(arg: number, at: number, id: number): number {
    this.dv.setFloat64(at, 0, true);
    this.dv.setUint32(at, id % 0x1_0000_0000, true);
    this.dv.setUint32(at + 4, Math.floor(id / 0x1_0000_0000), true);
    this.setBlob(arg, TAG_OBJECT_REF, at, 8);
    return 8;
  }

  /** Writes a number as an 'any' key (SameValueZero: -0 is 0, every NaN the same). */
  writeNumberKey(arg: number, at: number, d: number): number {
    const dv = this.dv;
    if (d !== d) {
      dv.setUint32(at, 0, true);
      dv.setUint32(at + 4, 0x7ff8_0000, true);
    } else {
      dv.setFloat64(at, d === 0 ? 0 : d, true);
    }
    this.setBlob(arg, TAG_NUMBER, at, 8);
    return 8;
  }

  /** Writes a bigint as an 'any' key: sign byte, then the magnitude little-endian, minimal. */
  writeBigIntKey(arg: number, at: number, v: bigint): number {
    const negative = v < 0n;
    const hex = (negative ? -v : v).toString(16);
    const u8 = this.u8;
    let len = 1;
    if (hex !== '0') {
      for (let end = hex.length; end > 0; end -= 2) u8[at + len++] = parseInt(hex.slice(Math.max(0, end - 2), end), 16);
    }
    u8[at] = negative && len > 1 ? 1 : 0;
    this.setBlob(arg, TAG_BIGINT, at, len);
    return len;
  }

  // ---- keys and values of a kind (the writers GoMap's and GoCache's bindings share) -------

  /** Upper bound of the blob bytes of a key or value of kind `kind` (0 for word kinds). */
  blobBound(kind: number, v: unknown): number {
    if (kind <= K_I64) return 0;
    if (typeof v === 'string') return align8(v.length * 2);
    if (kind === K_BYTES) return isBytes(v) ? align8(bytesLength(v)) : 0;
    if (kind === K_ANY) {
      if (typeof v === 'bigint') return align8(2 + Math.ceil(v.toString(16).length / 2));
      return 8;
    }
    return 0;
  }

  /**
   * Writes a key or value of a typed kind ('f64', 'i64', 'string', 'bytes') into the Arg
   * at `arg`, blob bytes at `at`, checking its type and size: the blob length, or -1 when
   * `kind` is not one of those (the caller handles 'any' keys and slab-index values).
   */
  writeTyped(kind: number, role: 'key' | 'value', arg: number, at: number, x: unknown): number {
    switch (kind) {
      case K_F64:
        if (typeof x !== 'number') throw wrongKind(role, 'a number', 'f64', x);
        this.f64[arg >>> 3] = x;
        return 0;
      case K_I64:
        if (typeof x !== 'bigint') throw wrongKind(role, 'a bigint', 'i64', x);
        if (x < I64_MIN || x > I64_MAX) throw rangeError(`GoMap ${role} is outside the signed 64-bit range of ${role} kind 'i64'`);
        this.i64[arg >>> 3] = x;
        return 0;
      case K_STRING:
        if (typeof x !== 'string') throw wrongKind(role, 'a string', 'string', x);
        return this.writeStringChecked(arg, at, x, role, 'string');
      case K_BYTES:
        if (!isBytes(x)) throw wrongKind(role, 'a Uint8Array or Buffer', 'bytes', x);
        if (bytesLength(x) > MAX_BLOB_BYTES) throw tooLong(role, 'bytes', bytesLength(x));
        return this.writeBytes(arg, at, x);
      default:
        return -1;
    }
  }

  /**
   * Writes key `key` of kind `kind` into the Arg at `arg`, blob bytes at `at` (room for
   * {@link WasmHeap.blobBound}, or 8 with `hasRef`); `refId`: the identity id of an
   * object or symbol key of an 'any' map (`hasRef`). Returns the blob length.
   */
  writeKey(kind: number, arg: number, at: number, key: unknown, refId: unknown, hasRef: boolean): number {
    const n = this.writeTyped(kind, 'key', arg, at, key);
    if (n >= 0) return n;
    // 'any' keys
    if (hasRef) return this.writeRef(arg, at, checkRefId(refId));
    switch (typeof key) {
      case 'number':
        return this.writeNumberKey(arg, at, key);
      case 'string':
        return this.writeStringChecked(arg, at, key, 'key', 'any');
      case 'bigint':
        return this.writeBigIntKey(arg, at, key);
      case 'boolean':
        this.setBlob(arg, key ? TAG_TRUE : TAG_FALSE, at, 0);
        return 0;
      case 'undefined':
        this.setBlob(arg, TAG_UNDEFINED, at, 0);
        return 0;
      default:
        if (key === null) {
          this.setBlob(arg, TAG_NULL, at, 0);
          return 0;
        }
        throw typeError('GoMap internal error: object and symbol keys are passed by identity id');
    }
  }

  /** Writes value `v` of kind `kind` into the Arg at `arg`, blob bytes at `at` ('any': a slab index). */
  writeValue(kind: number, arg: number, at: number, v: unknown): number {
    const n = this.writeTyped(kind, 'value', arg, at, v);
    if (n >= 0) return n;
    this.writeSlabIndex(arg, checkSlabIndex(v)); // 'any' values: a slab index
    return 0;
  }

  /** Writes slab index `index` as the word of the Arg at `arg`. */
  writeSlabIndex(arg: number, index: number): void {
    const i = arg >>> 2;
    this.u32[i] = index;
    this.u32[i + 1] = 0;
  }

  private writeStringChecked(arg: number, at: number, s: string, role: string, kind: string): number {
    const n = this.writeString(arg, at, s);
    if (n > MAX_BLOB_BYTES) throw tooLong(role, kind, n);
    return n;
  }

  /** The value of kind `kind` in the Arg at `arg` as JS sees it ('any': the slab index). */
  readValue(kind: number, arg: number): unknown {
    switch (kind) {
      case K_F64:
        return this.f64[arg >>> 3];
      case K_I64:
        return this.i64[arg >>> 3];
      case K_ANY:
        return this.u32[arg >>> 2];
      default:
        return this.readBlob(arg);
    }
  }

  /** The key of kind `kind` in the Arg at `arg` as JS sees it ([id] for an object key). */
  readKey(kind: number, arg: number): unknown {
    switch (kind) {
      case K_F64:
        return this.f64[arg >>> 3];
      case K_I64:
        return this.i64[arg >>> 3];
      default:
        return this.readBlob(arg);
    }
  }

  // ---- reading Args --------------------------------------------------------------------

  /** The JS value of the blob in the Arg at `arg` (strings, bytes, 'any' keys, [id] refs). */
  readBlob(arg: number): unknown {
    const u32 = this.u32;
    const i = arg >>> 2;
    const ptr = u32[i + 2]!;
    const len = u32[i + 3]!;
    switch (u32[i + 4]) {
      case TAG_LATIN1:
        return this.latin1(ptr, len);
      case TAG_UTF16:
        return this.buf.toString('utf16le', ptr, ptr + len);
      case TAG_BYTES:
        return Buffer.from(this.u8.subarray(ptr, ptr + len));
      case TAG_NUMBER:
        return this.dv.getFloat64(ptr, true);
      case TAG_BIGINT:
        return this.bigIntAt(ptr, len);
      case TAG_FALSE:
        return false;
      case TAG_TRUE:
        return true;
      case TAG_NULL:
        return null;
      case TAG_OBJECT_REF:
        return [this.dv.getUint32(ptr, true) + this.dv.getUint32(ptr + 4, true) * 0x1_0000_0000];
      default:
        return undefined;
    }
  }

  /** The string of a Latin-1 / UTF-16 blob Arg (iteration of string keys and values). */
  readString(arg: number): string {
    const u32 = this.u32;
    const i = arg >>> 2;
    return this.stringAt(u32[i + 4]!, u32[i + 2]!, u32[i + 3]!);
  }

  private bigIntAt(ptr: number, len: number): bigint {
    if (len <= 1) return 0n;
    const u8 = this.u8;
    let hex = '';
    for (let i = len - 1; i >= 1; i--) hex += (u8[ptr + i]! < 16 ? '0' : '') + u8[ptr + i]!.toString(16);
    const magnitude = BigInt(`0x${hex}`);
    return u8[ptr] !== 0 ? -magnitude : magnitude;
  }
}

/**
 * The error every call on a map (or cache) that trapped throws, code ERR_GOMAP_WASM_TRAP.
 *
 * @param container - 'GoMap' or 'GoCache'; `thing` - 'map' or 'cache'.
 */
export function trapError(cause: unknown, container: string, thing: string): Error {
  const e = new Error(
    `${container}: the WebAssembly engine trapped inside this ${thing} (a bug in gomap: please report it). ` +
      `The ${thing} is out of service: every later call on it throws this error; other ${thing}s are not affected.`,
    { cause },
  );
  Object.defineProperty(e, 'code', { value: 'ERR_GOMAP_WASM_TRAP', enumerable: true, writable: true, configurable: true });
  return e;
}

/** Checks an 'any' value's slab index (an integer 0 <= i < 2^32), as the addon's SlabValues does. */
export function checkSlabIndex(v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 0xffff_ffff) || Math.floor(v) !== v) {
    throw typeError(
      `GoMap internal error: an 'any' value is passed as a slab index (an integer 0 <= i < 2^32), got ${nativeTypeName(v)}`,
    );
  }
  return v;
}

/** RangeError for memory that cannot be allocated (as the addon's throwStatus). */
export function noMemory(what: string): RangeError {
  const e = rangeError(`GoMap ${what}: out of memory (the map is unchanged)`);
  (e as { code: string }).code = 'ERR_GOMAP_NO_MEMORY';
  return e;
}

/** RangeError for a failed export result (RESULT_NO_MEMORY / RESULT_TOO_LARGE). */
export function statusError(result: number, what: string): RangeError {
  if (result === RESULT_TOO_LARGE) return rangeError(`GoMap ${what}: size too large (the map is unchanged)`);
  return noMemory(what);
}

/** What a value is, in the words of the addon's messages (native/addon/errors.cc). */
export function nativeTypeName(value: unknown): string {
  if (typeof value !== 'object' || value === null) return value === null ? 'null' : typeof value;
  if (Array.isArray(value)) return 'array';
  // A typed array by its element type (a Buffer is a 'Uint8Array'), as napi_typedarray_type.
  if (ArrayBuffer.isView(value)) return value instanceof DataView ? 'DataView' : Object.prototype.toString.call(value).slice(8, -1);
  if (value instanceof ArrayBuffer) return 'ArrayBuffer';
  return 'object';
}

/** "GoMap key must be a string for key kind 'string', got number" */
export function wrongKind(role: string, expected: string, kind: string, received: unknown): TypeError {
  return typeError(`GoMap ${role} must be ${expected} for ${role} kind '${kind}', got ${nativeTypeName(received)}`);
}

/** RangeError for a key or value over the 1 GiB limit. */
export function tooLong(role: string, kind: string, bytes: number): RangeError {
  return rangeError(`GoMap ${role} of ${bytes} bytes is over the ${MAX_BLOB_BYTES}-byte (1 GiB) limit of ${role} kind '${kind}'`);
}

/** Checks an identity id (an integer 0 <= id < 2^53) as the addon's readRefId does. */
export function checkRefId(id: unknown): number {
  if (typeof id !== 'number' || !(id >= 0 && id < MAX_REF_ID) || Math.floor(id) !== id) {
    throw typeError(`GoMap internal error: an object or symbol key needs an integer identity id, got ${nativeTypeName(id)}`);
  }
  return id;
}

/** The length of a typed array, read from its internal slot (no getter a subclass could override). */
const typedArrayLength = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, 'length')!
  .get as (this: Uint8Array) => number;
export function bytesLength(bytes: Uint8Array): number {
  return typedArrayLength.call(bytes);
}

/** Whether `v` is a Uint8Array (or Buffer), from any realm. */
export const isBytes: (v: unknown) => v is Uint8Array = isUint8Array as (v: unknown) => v is Uint8Array;
