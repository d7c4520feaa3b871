/**
 * Shared helpers for the GoMap tests: the key/value kinds of API.md, a loosely typed
 * map factory (tests feed wrong input on purpose), per-kind equality that knows what a
 * read must return (a live value for 'any', a copy for every other kind), fast-check
 * arbitraries per kind, error classification, and the stats() invariants.
 */
import { Buffer } from 'node:buffer';
import { isDeepStrictEqual } from 'node:util';
import * as v8 from 'node:v8';
import fc from 'fast-check';
import { expect } from 'vitest';
import { GoMap } from '../../lib/index.ts';

export const KEY_KINDS = ['any', 'string', 'f64', 'i64', 'bytes'] as const;
export const VALUE_KINDS = ['any', 'string', 'f64', 'i64', 'bytes', 'json', 'v8'] as const;
export type KeyKindName = (typeof KEY_KINDS)[number];
export type ValueKindName = (typeof VALUE_KINDS)[number];

export const I64_MIN = -(2n ** 63n);
export const I64_MAX = 2n ** 63n - 1n;

/** Go's bucket size and load factor (6.5 entries per bucket). */
export const BUCKET_SLOTS = 8;
export const LOAD_FACTOR = 6.5;

/** A GoMap seen through `unknown`: the tests pass anything on purpose. */
export type LooseMap = GoMap<unknown, unknown>;
export type MapStats = ReturnType<LooseMap['stats']>;

export interface MakeOptions {
  key?: KeyKindName;
  value?: ValueKindName;
  hint?: number;
  seed?: bigint;
}

/** `new GoMap(entries, options)` with the static types out of the way. */
export function makeMap(options: MakeOptions = {}, entries: Iterable<readonly [unknown, unknown]> | null = null): LooseMap {
  return new GoMap<unknown, unknown>(entries as never, options as never);
}

/** Constructor call with arbitrary (possibly invalid) arguments. */
export function constructRaw(...args: unknown[]): LooseMap {
  const Ctor = GoMap as unknown as new (...a: unknown[]) => LooseMap;
  return new Ctor(...args);
}

/** A random 64-bit seed. */
export function randomSeed(): bigint {
  const b = new BigUint64Array(1);
  crypto.getRandomValues(b);
  return b[0]!;
}

/** Smallest B that holds `count` entries without growth, as Go's makemap/overLoadFactor. */
export function minB(count: number): number {
  let B = 0;
  while (count > BUCKET_SLOTS && count > LOAD_FACTOR * 2 ** B) B++;
  return B;
}

// ---------------------------------------------------------------------------------
// Key identity and value equality per kind

function bytesView(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** The key of a JS `Map` that models a GoMap of the given key kind. */
export function modelKey(kind: KeyKindName, key: unknown): unknown {
  if (kind === 'bytes') return 'b:' + bytesView(key as Uint8Array).toString('hex');
  return key; // SameValueZero, exactly as Map (NaN, ±0, bigint by value, objects by identity)
}

/** What a read of a stored value must give back, for comparison with `valuesEqual`. */
export function expectedValue(kind: ValueKindName, value: unknown): unknown {
  switch (kind) {
    case 'bytes':
      return Buffer.from(bytesView(value as Uint8Array)); // a copy of the contents
    case 'json':
      return JSON.parse(JSON.stringify(value)) as unknown;
    case 'v8':
      return v8.deserialize(v8.serialize(value)) as unknown;
    default:
      return value;
  }
}

/** v8's serialization of a fresh deserialized copy (see valuesEqual 'v8'). */
function v8Canonical(v: unknown): Buffer {
  return v8.serialize(v8.deserialize(v8.serialize(v)));
}

/** Whether `actual` (read from a GoMap) is what `expected` (from `expectedValue`) demands. */
export function valuesEqual(kind: ValueKindName, actual: unknown, expected: unknown): boolean {
  switch (kind) {
    case 'any':
    case 'string':
    case 'f64':
    case 'i64':
      return Object.is(actual, expected);
    case 'bytes':
      return Buffer.isBuffer(actual) && Buffer.isBuffer(expected) && actual.equals(expected);
    case 'json':
      return isDeepStrictEqual(actual, expected);
    case 'v8':
      // The serialisation is a canonical form of a structured-clone value (NaN, -0,
      // invalid Dates, Maps, Sets, typed arrays, property order all included).
      // A number is written as an int32 or a double depending on how V8 represents the
      // field in the object's current hidden class (an unrelated object with a double in
      // a field of the same name can change that), so on a mismatch both sides are
      // re-read through one more round trip, which gives them the same representation.
      return v8.serialize(actual).equals(v8.serialize(expected)) || v8Canonical(actual).equals(v8Canonical(expected));
  }
}

/** Whether a key returned by keys()/entries() is the key that the model holds. */
export function keysEqual(kind: KeyKindName, actual: unknown, modelOriginal: unknown): boolean {
  switch (kind) {
    case 'bytes':
      return Buffer.isBuffer(actual) && actual.equals(bytesView(modelOriginal as Uint8Array));
    case 'string':
    case 'i64':
      return Object.is(actual, modelOriginal);
    case 'f64':
    case 'any':
      // SameValueZero: a -0 key is stored as +0 by Map; checked separately in the semantics tests.
      return Object.is(actual, modelOriginal) || (actual === 0 && modelOriginal === 0);
  }
}

export function describeValue(v: unknown): string {
  try {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'symbol') return v.toString();
    if (typeof v === 'function') return `[function ${v.name}]`;
    if (Object.is(v, -0)) return '-0';
    if (v instanceof Uint8Array) return `${v.constructor.name}<${bytesView(v).toString('hex')}>`;
    return String(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

// ---------------------------------------------------------------------------------
// A JS Map model of a GoMap

export interface ModelEntry {
  key: unknown; // the key as first stored (for 'bytes', a private copy)
  value: unknown; // the expected read (expectedValue)
}

export class Model {
  readonly m = new Map<unknown, ModelEntry>();
  constructor(
    readonly keyKind: KeyKindName,
    readonly valueKind: ValueKindName,
  ) {}
  private own(key: unknown): unknown {
    return this.keyKind === 'bytes' ? Buffer.from(bytesView(key as Uint8Array)) : key;
  }
  set(key: unknown, value: unknown): void {
    const mk = modelKey(this.keyKind, key);
    const prev = this.m.get(mk);
    this.m.set(mk, { key: prev ? prev.key : this.own(key), value: expectedValue(this.valueKind, value) });
  }
  get(key: unknown): ModelEntry | undefined {
    return this.m.get(modelKey(this.keyKind, key));
  }
  has(key: unknown): boolean {
    return this.m.has(modelKey(this.keyKind, key));
  }
  delete(key: unknown): boolean {
    return this.m.delete(modelKey(this.keyKind, key));
  }
  clear(): void {
    this.m.clear();
  }
  get size(): number {
    return this.m.size;
  }
}

/**
 * Checks that a sequence of [key, value] pairs (one full iteration) is exactly the
 * model's contents: every model entry once, nothing else, values equal.
 */
export function expectEntriesMatch(model: Model, entries: Iterable<readonly [unknown, unknown]>, what = 'entries()'): void {
  const seen = new Set<unknown>();
  let n = 0;
  for (const [k, v] of entries) {
    n++;
    const mk = modelKey(model.keyKind, k);
    const e = model.m.get(mk);
    if (!e) throw new Error(`${what} produced a key that is not in the map: ${describeValue(k)}`);
    if (seen.has(mk)) throw new Error(`${what} produced key ${describeValue(k)} twice`);
    seen.add(mk);
    if (!keysEqual(model.keyKind, k, e.key)) {
      throw new Error(`${what} produced key ${describeValue(k)}, expected ${describeValue(e.key)}`);
    }
    if (!valuesEqual(model.valueKind, v, e.value)) {
      throw new Error(`${what}: key ${describeValue(k)} has value ${describeValue(v)}, expected ${describeValue(e.value)}`);
    }
  }
  if (n !== model.size) throw new Error(`${what} produced ${n} entries, the map holds ${model.size}`);
}

/** Full comparison of a GoMap with its model: size, entries, keys, values, get/has. */
export function expectMapMatches(map: LooseMap, model: Model): void {
  expect(map.size).toBe(model.size);
  expectEntriesMatch(model, map.entries(), 'entries()');
  expectEntriesMatch(model, map, '[Symbol.iterator]()');
  const keys = [...map.keys()];
  expect(keys.length).toBe(model.size);
  expectEntriesMatch(
    model,
    keys.map((k) => [k, model.get(k)?.value] as const),
    'keys()',
  );
  const values = [...map.values()];
  expect(values.length).toBe(model.size);
  expectSameValueMultiset(model.valueKind, values, [...model.m.values()].map((e) => e.value));
  for (const e of model.m.values()) {
    if (!map.has(e.key)) throw new Error(`has(${describeValue(e.key)}) is false`);
    const got = map.get(e.key);
    if (!valuesEqual(model.valueKind, got, e.value)) {
      throw new Error(`get(${describeValue(e.key)}) = ${describeValue(got)}, expected ${describeValue(e.value)}`);
    }
  }
}

function fingerprint(kind: ValueKindName, v: unknown): unknown {
  switch (kind) {
    case 'any':
      return v; // identity (SameValueZero, like the values themselves)
    case 'f64':
      return Object.is(v, -0) ? '-0' : v;
    case 'string':
    case 'i64':
      return v;
    case 'bytes':
      return Buffer.isBuffer(v) ? 'b:' + v.toString('hex') : { notABuffer: v };
    case 'json':
      return 'j:' + JSON.stringify(v);
    case 'v8':
      return 'v:' + v8Canonical(v).toString('hex');
  }
}

export function expectSameValueMultiset(kind: ValueKindName, actual: unknown[], expected: unknown[]): void {
  const counts = new Map<unknown, number>();
  for (const v of expected) {
    const f = fingerprint(kind, v);
    counts.set(f, (counts.get(f) ?? 0) + 1);
  }
  for (const v of actual) {
    const f = fingerprint(kind, v);
    const c = counts.get(f);
    if (!c) throw new Error(`values() produced ${describeValue(v)}, which is not (or not that often) in the map`);
    counts.set(f, c - 1);
  }
}

// ---------------------------------------------------------------------------------
// Errors

export function errorCode(e: unknown): unknown {
  return typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
}

export function isClosedError(e: unknown): boolean {
  return e instanceof Error && errorCode(e) === 'ERR_GOMAP_CLOSED';
}

/** The only errors API.md allows a GoMap method to throw. */
export function isAllowedError(e: unknown): boolean {
  return e instanceof TypeError || e instanceof RangeError || isClosedError(e);
}

/** Runs fn and returns what it threw (or fails the test if it did not throw). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to throw, it returned normally');
}

export function expectClosed(fn: () => unknown): void {
  const e = thrown(fn);
  if (!isClosedError(e)) {
    throw new Error(`expected an Error with code ERR_GOMAP_CLOSED, got ${String(e)} (code ${String(errorCode(e))})`);
  }
}

export function expectTypeError(fn: () => unknown, messagePattern?: RegExp): TypeError {
  const e = thrown(fn);
  if (!(e instanceof TypeError)) throw new Error(`expected a TypeError, got ${String(e)}`);
  if (messagePattern) expect(e.message).toMatch(messagePattern);
  return e;
}

export function expectTypeOrRangeError(fn: () => unknown): Error {
  const e = thrown(fn);
  if (!(e instanceof TypeError || e instanceof RangeError)) throw new Error(`expected a TypeError or RangeError, got ${String(e)}`);
  return e;
}

export function expectRangeError(fn: () => unknown): RangeError {
  const e = thrown(fn);
  if (!(e instanceof RangeError)) throw new Error(`expected a RangeError, got ${String(e)}`);
  return e;
}

// ---------------------------------------------------------------------------------
// stats() invariants of API.md / Go's map

export function checkStatsInvariants(s: MapStats, size?: number): void {
  const where = JSON.stringify(s);
  for (const [k, v] of Object.entries(s)) {
    if (k === 'growing') continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || (k !== 'loadFactor' && !Number.isInteger(v)) || v < 0) {
      throw new Error(`stats().${k} is not a finite non-negative ${k === 'loadFactor' ? 'number' : 'integer'}: ${where}`);
    }
  }
  if (typeof s.growing !== 'boolean') throw new Error(`stats().growing is not a boolean: ${where}`);
  if (size !== undefined && s.count !== size) throw new Error(`stats().count ${s.count} !== size ${size}: ${where}`);
  if (s.buckets !== 2 ** s.B) throw new Error(`buckets !== 2 ** B: ${where}`);
  if (s.loadFactor !== s.count / (s.buckets * BUCKET_SLOTS)) throw new Error(`loadFactor !== count / (buckets * 8): ${where}`);
  if (!s.growing) {
    // Go grows when count > 8 && count > 6.5 * 2^B; a lone bucket (B = 0) takes up to 8.
    if (!(s.count <= BUCKET_SLOTS || s.loadFactor <= LOAD_FACTOR / BUCKET_SLOTS)) {
      throw new Error(`load factor over 6.5/8 while not growing: ${where}`);
    }
    if (s.oldBuckets !== 0) throw new Error(`oldBuckets must be 0 when not growing: ${where}`);
  } else {
    if (!(s.oldBuckets > 0 && s.evacuated < s.oldBuckets)) {
      throw new Error(`growing implies oldBuckets > 0 && evacuated < oldBuckets: ${where}`);
    }
    // a bucket array always has a power-of-two size (buckets / 2 for a doubling grow)
    if (2 ** Math.round(Math.log2(s.oldBuckets)) !== s.oldBuckets) {
      throw new Error(`oldBuckets must be a power of two while growing: ${where}`);
    }
  }
  // (an empty map may not have allocated its first bucket yet, like Go's makemap for hint <= 8)
  if (s.count > 0 && s.bytes < s.buckets * BUCKET_SLOTS) throw new Error(`bytes cannot be less than one byte per slot: ${where}`);
}

// ---------------------------------------------------------------------------------
// fast-check arbitraries per kind

/** Any UTF-16 code unit, lone surrogates included. */
const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const trickyUnit = fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uD83D\uDE00', 'a', '\u00e9', '\0', '\uFFFF', '\uFEFF');

export const SPECIAL_STRINGS = ['', 'a', '\0', '\uD800', '\uDC00', 'a\uD800', '\uDFFF\uD800', '\uD83D\uDE00', '\uFFFD', 'x'.repeat(15), 'x'.repeat(16), 'x'.repeat(17)];

export const stringArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...SPECIAL_STRINGS), weight: 2 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }), weight: 1 },
  { arbitrary: fc.string({ unit: utf16Unit, maxLength: 10 }), weight: 2 },
  { arbitrary: fc.string({ unit: trickyUnit, maxLength: 6 }), weight: 2 },
  { arbitrary: fc.string({ minLength: 17, maxLength: 300 }), weight: 1 },
  { arbitrary: fc.string({ unit: utf16Unit, minLength: 17, maxLength: 120 }), weight: 1 },
);

export const f64Arb: fc.Arbitrary<number> = fc.oneof(
  fc.double(),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1, -1, 0.1, 2 ** 53, -(2 ** 53), Number.MIN_VALUE, -Number.MAX_VALUE),
  fc.integer({ min: -8, max: 8 }),
);

export const i64Arb: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: I64_MIN, max: I64_MAX }),
  fc.bigInt({ min: -8n, max: 8n }),
  fc.constantFrom(I64_MIN, I64_MAX, I64_MIN + 1n, I64_MAX - 1n, 0n, -1n, 2n ** 32n, -(2n ** 32n), 2n ** 53n + 1n),
);

/** Uint8Array / Buffer / offset sub-views (the contents count, never the view). */
export const bytesArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.oneof(
      { arbitrary: fc.uint8Array({ maxLength: 24 }), weight: 3 },
      { arbitrary: fc.uint8Array({ maxLength: 3, max: 2 }), weight: 2 },
      { arbitrary: fc.uint8Array({ minLength: 25, maxLength: 300 }), weight: 1 },
    ),
    fc.constantFrom('u8', 'buffer', 'subarray'),
  )
  .map(([u, how]) => {
    if (how === 'buffer') return Buffer.from(u);
    if (how === 'subarray') {
      const big = new Uint8Array(u.length + 7).fill(0xa5);
      big.set(u, 3);
      return big.subarray(3, 3 + u.length);
    }
    return u;
  });

export const SYMBOL_POOL = [Symbol('a'), Symbol('a'), Symbol.for('gomap.test'), Symbol.iterator];
export const OBJECT_POOL: unknown[] = [{}, {}, [], [1], () => 1, function named() {}, new Date(0), /x/, new Map(), Object.create(null)];

export const anyKeyArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(1, 1n, '1', true, false, null, undefined, '', 0, -0, NaN, 'undefined', 'null'),
  fc.integer({ min: -5, max: 5 }),
  f64Arb,
  fc.bigInt({ min: -5n, max: 5n }),
  i64Arb,
  stringArb,
  fc.constantFrom(...SYMBOL_POOL),
  fc.constantFrom(...OBJECT_POOL),
);

export const jsonArb: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3, stringUnit: utf16Unit });

export const v8Arb: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({
    maxDepth: 2,
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withSparseArray: true,
    withNullPrototype: true,
    withUnicodeString: true,
  }),
  fc.date().map((d) => ({ when: d, tags: new Set(['a', 'b']), m: new Map<unknown, unknown>([[1, { x: [1n] }]]) })),
);

export const anyValueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 1 }),
  fc.constantFrom<unknown>(undefined, null, NaN, -0, ...SYMBOL_POOL, ...OBJECT_POOL),
);

export function keyArb(kind: KeyKindName): fc.Arbitrary<unknown> {
  switch (kind) {
    case 'any':
      return anyKeyArb;
    case 'string':
      return stringArb;
    case 'f64':
      return f64Arb;
    case 'i64':
      return i64Arb;
    case 'bytes':
      return bytesArb;
  }
}

export function valueArb(kind: ValueKindName): fc.Arbitrary<unknown> {
  switch (kind) {
    case 'any':
      return anyValueArb;
    case 'string':
      return stringArb;
    case 'f64':
      return f64Arb;
    case 'i64':
      return i64Arb;
    case 'bytes':
      return bytesArb;
    case 'json':
      return jsonArb;
    case 'v8':
      return v8Arb;
  }
}

const identityKeys = new Map<number, object | symbol>();

/** Deterministic, distinct keys for bulk inserts (i distinct → key distinct; same i → same key, objects included). */
export function bulkKey(kind: KeyKindName, i: number): unknown {
  switch (kind) {
    case 'any': {
      const r = i % 5;
      if (r < 3) return r === 0 ? i : r === 1 ? `k${i}` : BigInt(i) * 7n;
      let o = identityKeys.get(i);
      if (o === undefined) {
        o = r === 3 ? { bulk: i } : Symbol(`bulk${i}`);
        identityKeys.set(i, o);
      }
      return o;
    }
    case 'string':
      return i % 2 ? `user:${i}` : `a long key that does not fit inline in a slot #${i}`;
    case 'f64':
      return i % 2 ? i : i * 0.5 + 1e9;
    case 'i64':
      return (BigInt(i) * 0x9e3779b97f4a7c15n) % I64_MAX;
    case 'bytes': {
      const b = Buffer.alloc(4 + (i % 40));
      b.writeUInt32LE(i >>> 0, 0);
      return b;
    }
  }
}

export function bulkValue(kind: ValueKindName, i: number): unknown {
  switch (kind) {
    case 'any':
      return i % 2 ? { i } : i;
    case 'string':
      return `v${i}`;
    case 'f64':
      return i / 3;
    case 'i64':
      return BigInt(i) - 1000n;
    case 'bytes':
      return Buffer.from([i & 255, (i >> 8) & 255]);
    case 'json':
      return { i, s: `v${i}`, a: [i, null] };
    case 'v8':
      return { i, d: new Date(i), m: new Map([[i, `v${i}`]]) };
  }
}

/** fast-check run count, scaled by env GOMAP_FC_SCALE (default 1). */
export function fcRuns(base: number): number {
  const scale = Number(process.env.GOMAP_FC_SCALE ?? '1');
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/** The key kinds of SyncMap and shared GoCache (no 'any'). */
export const SYNC_KEY_KINDS = ['string', 'f64', 'i64', 'bytes'] as const;
/** The value kinds of SyncMap and shared GoCache (no 'any'). */
export const SYNC_VALUE_KINDS = ['string', 'f64', 'i64', 'bytes', 'json', 'v8'] as const;
