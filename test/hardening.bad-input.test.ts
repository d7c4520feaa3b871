/**
 * Hostile input from JavaScript, table-driven (API.md "Errors": no input from
 * JavaScript, however wrong, may crash or hang the process).
 *
 * test/gomap.bad-input.test.ts checks wrong kinds, options and sizes one by one, with the
 * error messages. This file throws the nastiest values JS has at every public method,
 * through one table per container (SUBJECTS), so SyncMap and GoCache plug in by adding
 * a row: how to make one (per kind pair), its methods (name + how to call it with
 * arbitrary arguments), and how to read its contents.
 *
 * The values (HOSTILE, plus fast-check's `anything`): objects whose valueOf / toString /
 * Symbol.toPrimitive throw, getters that throw (length, elements, entry [0] / [1]),
 * iterables whose iterator throws or yields junk, Proxies whose every trap throws
 * (over objects, arrays, typed arrays, functions), revoked Proxies, detached
 * ArrayBuffers and views of them, typed arrays of every sort, huge and odd numbers and
 * bigints, long strings, lone surrogates, frozen and null-prototype objects, callbacks
 * that throw. Receivers: the map, a closed map, a plain object, Object.create(prototype),
 * a Proxy of the map (forged `this`: the private-field brand check must refuse them).
 *
 * Each call may return, or throw a TypeError, a RangeError, an Error with code
 * ERR_GOMAP_CLOSED, or the HostileError the input itself threw (user code's own error
 * comes through, as with Map). After any throw, the map's contents are unchanged
 * (compared with a snapshot taken before the call). At least 10,000 calls run per CI
 * run; the count is printed.
 */
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GoMap } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';
import {
  KEY_KINDS,
  Model,
  VALUE_KINDS,
  bulkKey,
  bulkValue,
  expectMapMatches,
  fcRuns,
  isClosedError,
  makeMap,
  type KeyKindName,
  type LooseMap,
  type ValueKindName,
} from './helpers/kinds.ts';

/** The error hostile input throws on purpose; it may come through a call unchanged. */
class HostileError extends Error {
  constructor(where: string) {
    super(`hostile input: ${where}`);
  }
}
const boom =
  (where: string) =>
  (): never => {
    throw new HostileError(where);
  };

const allTrapsThrow: ProxyHandler<object> = {
  get: boom('proxy get'),
  set: boom('proxy set'),
  has: boom('proxy has'),
  ownKeys: boom('proxy ownKeys'),
  getOwnPropertyDescriptor: boom('proxy getOwnPropertyDescriptor'),
  getPrototypeOf: boom('proxy getPrototypeOf'),
  defineProperty: boom('proxy defineProperty'),
  deleteProperty: boom('proxy deleteProperty'),
  apply: boom('proxy apply'),
  construct: boom('proxy construct'),
};

function revoked<T extends object>(target: T): T {
  const r = Proxy.revocable(target, {});
  r.revoke();
  return r.proxy;
}

function detachedBuffer(bytes: number): { buffer: ArrayBuffer; view: Uint8Array } {
  const buffer = new ArrayBuffer(bytes);
  const view = new Uint8Array(buffer, 2);
  structuredClone(buffer, { transfer: [buffer] }); // detaches `buffer` (and `view`)
  return { buffer, view };
}

/** The hostile values, built once (some are expensive: long strings). */
function hostileValues(): unknown[] {
  const primitiveTrap = { valueOf: boom('valueOf'), toString: boom('toString'), [Symbol.toPrimitive]: boom('toPrimitive') };
  // An array (Array.isArray is true for a Proxy of one) whose length throws.
  const lengthTrap = new Proxy([1, 2, 3], {
    get: (target, p, receiver) => (p === 'length' ? boom('length')() : Reflect.get(target, p, receiver) as unknown),
  });
  const arrayLikeTrap = { get length(): number { return boom('array-like length')(); }, 0: 'a' };
  const elementTrap = Object.defineProperty([undefined, undefined], 0, { get: boom('element 0'), enumerable: true });
  const entryKeyTrap = Object.defineProperty([0, 1], 0, { get: boom('entry key') });
  const entryValueTrap = Object.defineProperty(['k', 1], 1, { get: boom('entry value') });
  const iteratorTrap = { [Symbol.iterator]: boom('Symbol.iterator') };
  const nextTrap = { [Symbol.iterator]: () => ({ next: boom('next') }) };
  const junkIterator = { [Symbol.iterator]: () => ({ next: () => 42 }) };
  const doneGetterTrap = { [Symbol.iterator]: () => ({ next: () => Object.defineProperty({}, 'done', { get: boom('done') }) }) };
  function* yieldsThenThrows(): Generator<unknown> {
    yield ['k', 1];
    yield 1n;
    throw new HostileError('generator');
  }
  const detached = detachedBuffer(16);
  const sparse: unknown[] = [];
  sparse[40] = 'x';
  return [
    primitiveTrap,
    [primitiveTrap, primitiveTrap],
    lengthTrap,
    [lengthTrap],
    arrayLikeTrap,
    elementTrap,
    [entryKeyTrap],
    [entryValueTrap],
    entryKeyTrap,
    iteratorTrap,
    nextTrap,
    junkIterator,
    doneGetterTrap,
    { [Symbol.iterator]: yieldsThenThrows },
    new Proxy({}, allTrapsThrow),
    new Proxy([1, 2], allTrapsThrow),
    new Proxy(['k', 1], allTrapsThrow),
    new Proxy(new Uint8Array(4), allTrapsThrow),
    new Proxy(() => 1, allTrapsThrow),
    new Proxy(Buffer.from('proxy'), {}),
    [new Proxy([], allTrapsThrow)],
    revoked({}),
    revoked([1, 2]),
    revoked(() => 1),
    [revoked(['k', 1])],
    detached.buffer,
    detached.view,
    [[detached.view, detached.view]],
    new DataView(new ArrayBuffer(8)),
    new Float64Array([1, NaN]),
    new BigInt64Array([1n]),
    new BigUint64Array([2n ** 64n - 1n]),
    new Uint32Array(3),
    new Uint8ClampedArray(2),
    new Float32Array(1),
    new SharedArrayBuffer(8),
    new Uint8Array(new SharedArrayBuffer(8)),
    2 ** 53,
    2 ** 64,
    -(2 ** 63),
    1e308,
    -1e-308,
    Number.MAX_VALUE,
    Number.EPSILON,
    -0,
    NaN,
    Infinity,
    -Infinity,
    2n ** 64n,
    -(2n ** 63n) - 1n,
    2n ** 1000n,
    -(2n ** 1000n),
    'x'.repeat(1 << 20),
    '\uD800'.repeat(1000),
    '\uDFFF\uD800',
    sparse,
    new Array(3),
    Object.create(null),
    Object.freeze({ a: 1 }),
    new Date(NaN),
    /re/g,
    new WeakMap(),
    new Map([[1, 2]]),
    new Set([1]),
    Symbol('hostile'),
    Symbol.iterator,
    boom('called as a function'),
    () => undefined,
    function namedFunction() {},
    class Klass {},
    new Error('plain error as a value'),
    Promise.resolve(1),
    globalThis,
    { key: primitiveTrap, value: primitiveTrap, hint: primitiveTrap, seed: primitiveTrap },
    Object.defineProperty({}, 'key', { get: boom('options.key'), enumerable: true }),
    Object.defineProperty({}, 'hint', { get: boom('options.hint'), enumerable: true }),
    new Proxy({ key: 'string' }, allTrapsThrow),
    { key: 'string', value: 'string', hint: 2 ** 60 },
    { hint: -1 },
    { seed: 2n ** 64n },
  ];
}

// ---------------------------------------------------------------------------------
// The table: containers, their kinds and their methods

/** How one method of a container is called with arbitrary arguments. */
interface Method<T> {
  name: string;
  /** Calls it on `self` (maybe not a T at all) with args; consumes returned iterators. */
  call(self: unknown, args: unknown[]): unknown;
}

/** One container under test (GoMap now; SyncMap and GoCache next). */
interface Subject<T> {
  name: string;
  keyKinds: readonly KeyKindName[];
  valueKinds: readonly ValueKindName[];
  make(key: KeyKindName, value: ValueKindName): T;
  /** The contents now, as a model (must not run user code). */
  contents(t: T, key: KeyKindName, value: ValueKindName): Model;
  /** Throws if t's contents differ from the model. */
  expectContents(t: T, model: Model): void;
  close(t: T): void;
  methods: Method<T>[];
  /** Receivers that are not a live T of this subject. */
  forgedReceivers(closed: T): unknown[];
}

/** Huge counts that are not refused would reserve real memory: keep them small. */
function tameCount(x: unknown): unknown {
  return typeof x === 'number' && x > 10_000 && x < 2 ** 40 ? 10_000 : x;
}

/** Drains (a bit of) whatever a call returned, so lazy work happens inside the call. */
function consume(r: unknown): unknown {
  if (r !== null && typeof r === 'object' && typeof (r as { next?: unknown }).next === 'function') {
    const it = r as Iterator<unknown>;
    for (let i = 0; i < 3; i++) if (it.next().done) break;
    it.return?.();
  }
  return r;
}

function protoMethod(name: string | symbol, argc: number, tame = false): Method<LooseMap> {
  return {
    name: String(name),
    call(self, args) {
      const f = (GoMap.prototype as unknown as Record<string | symbol, (...a: unknown[]) => unknown>)[name]!;
      const a = args.slice(0, argc).map((x) => (tame ? tameCount(x) : x));
      return consume(Reflect.apply(f, self, a));
    },
  };
}

function getter(name: string | symbol): Method<LooseMap> {
  return {
    name: `get ${String(name)}`,
    call(self) {
      const d = Object.getOwnPropertyDescriptor(GoMap.prototype, name)!;
      return Reflect.apply(d.get!, self, []);
    },
  };
}

const GOMAP_SUBJECT: Subject<LooseMap> = {
  name: 'GoMap',
  keyKinds: KEY_KINDS,
  valueKinds: VALUE_KINDS,
  make(key, value) {
    const m = makeMap({ key, value });
    for (let i = 0; i < 12; i++) m.set(bulkKey(key, i), bulkValue(value, i));
    return m;
  },
  contents(m, key, value) {
    const model = new Model(key, value);
    for (const [k, v] of m) model.set(k, v);
    return model;
  },
  expectContents: expectMapMatches,
  close: (m) => m.close(),
  methods: [
    protoMethod('get', 1),
    protoMethod('has', 1),
    protoMethod('delete', 1),
    protoMethod('lookup', 1),
    protoMethod('set', 2),
    protoMethod('getMany', 1),
    protoMethod('setMany', 1),
    protoMethod('reserve', 1, true),
    protoMethod('shrink', 0),
    protoMethod('clear', 0),
    protoMethod('stats', 0),
    protoMethod('forEach', 2),
    protoMethod('keys', 0),
    protoMethod('values', 0),
    protoMethod('entries', 0),
    protoMethod(Symbol.iterator, 0),
    protoMethod('close', 0),
    protoMethod(Symbol.dispose ?? Symbol.for('nodejs.dispose'), 0),
    getter('size'),
    getter(Symbol.toStringTag),
    {
      name: 'constructor',
      call(_self, args) {
        const Ctor = GoMap as unknown as new (...a: unknown[]) => LooseMap;
        const options = args[1];
        const tamed =
          options !== null && typeof options === 'object' && !Array.isArray(options) && Object.getPrototypeOf(options) === Object.prototype
            ? { ...(options as object), ...('hint' in options ? { hint: tameCount((options as { hint: unknown }).hint) } : {}) }
            : options;
        new Ctor(args[0], tamed).close();
        return undefined;
      },
    },
  ],
  forgedReceivers(closed) {
    return [closed, {}, Object.create(GoMap.prototype), new Proxy(closed, {}), null, undefined, 42, 'map', new Map()];
  },
};

// Next session: SYNCMAP_SUBJECT, GOCACHE_SUBJECT (same shape) go here.
const SUBJECTS = [GOMAP_SUBJECT] as Subject<unknown>[];

// ---------------------------------------------------------------------------------
// The property

function isAllowed(e: unknown): boolean {
  return e instanceof TypeError || e instanceof RangeError || isClosedError(e) || e instanceof HostileError;
}

let calls = 0;
let threw = 0;

describeEachBackend('hardening: hostile input to every public method', () => {
  const hostile = hostileValues();
  // fast-check inspects generated values (to clone them, to print them): hostile values
  // would throw at it. So the arbitraries produce descriptions (an index into HOSTILE, or
  // a harmless value), resolved into real arguments inside the property.
  type ArgPlan = { hostile: number } | { value: unknown } | { entries: [number, unknown][] };
  const resolve = (a: ArgPlan): unknown =>
    'hostile' in a ? hostile[a.hostile] : 'value' in a ? a.value : a.entries.map(([h, v]) => [hostile[h], v]);
  const hostileIndex = fc.nat(hostile.length - 1);
  const arg: fc.Arbitrary<ArgPlan> = fc.oneof(
    { arbitrary: hostileIndex.map((i) => ({ hostile: i })), weight: 4 },
    {
      arbitrary: fc
        .anything({
          maxDepth: 2,
          withBigInt: true,
          withTypedArray: true,
          withMap: true,
          withSet: true,
          withDate: true,
          withBoxedValues: true,
          withNullPrototype: true,
          withSparseArray: true,
          withUnicodeString: true,
        })
        .map((value) => ({ value })),
      weight: 3,
    },
    { arbitrary: fc.array(fc.tuple(hostileIndex, fc.anything()), { maxLength: 4 }).map((entries) => ({ entries })), weight: 1 },
  );

  for (const subject of SUBJECTS) {
    describe(subject.name, () => {
      for (const keyKind of subject.keyKinds) {
        it(`'${keyKind}' keys: only TypeError / RangeError / ERR_GOMAP_CLOSED / the input's own error; contents unchanged after a throw`, () => {
          const call = fc.record({
            method: fc.integer({ min: 0, max: subject.methods.length - 1 }),
            receiver: fc.oneof({ arbitrary: fc.constant(-1), weight: 6 }, { arbitrary: fc.nat(20), weight: 1 }),
            args: fc.array(arg, { minLength: 2, maxLength: 2 }),
          });
          fc.assert(
            fc.property(fc.constantFrom(...subject.valueKinds), fc.array(call, { minLength: 25, maxLength: 25 }), (valueKind, plan) => {
              const t = subject.make(keyKind, valueKind);
              const closed = subject.make(keyKind, valueKind);
              subject.close(closed);
              const forged = subject.forgedReceivers(closed);
              let open = true;
              let before = subject.contents(t, keyKind, valueKind);
              try {
                for (const c of plan) {
                  const method = subject.methods[c.method]!;
                  const self = c.receiver < 0 || !open ? (open ? t : closed) : forged[c.receiver % forged.length];
                  calls++;
                  try {
                    method.call(self, c.args.map(resolve));
                  } catch (e) {
                    threw++;
                    if (!isAllowed(e)) {
                      throw new Error(`${subject.name}.${method.name} threw ${String(e)} (not an allowed error)`, { cause: e });
                    }
                    if (open && self === t) subject.expectContents(t, before);
                  }
                  if (open && self === t && (method.name === 'close' || method.name === String(Symbol.dispose ?? Symbol.for('nodejs.dispose')))) {
                    open = false;
                  }
                  if (open) before = subject.contents(t, keyKind, valueKind);
                }
              } finally {
                if (open) subject.close(t);
              }
            }),
            { numRuns: fcRuns(80) },
          );
        });
      }
    });
  }

  it('a string of the largest length V8 allows: refused or handled, never a crash', () => {
    const huge = 'x'.repeat(2 ** 29 - 24); // V8's maximum string length on 64-bit
    const numbers = makeMap({ key: 'f64', value: 'string' });
    numbers.set(1, 'one');
    const model = GOMAP_SUBJECT.contents(numbers, 'f64', 'string');
    for (const f of [() => numbers.set(huge, 'v'), () => numbers.get(huge), () => numbers.setMany([[3, 'ok'], [huge, 'v']])]) {
      calls++;
      let error: unknown;
      try {
        f();
      } catch (e) {
        error = e;
      }
      expect(error, 'a string is not an f64 key').toBeInstanceOf(TypeError);
      expectMapMatches(numbers, model);
    }
    numbers.close();
    // A 'string' map takes it as a key (a key may be up to 1 GiB): looking it up works.
    const strings = makeMap({ key: 'string', value: 'f64' });
    strings.set('x', 1);
    calls++;
    expect(strings.has(huge)).toBe(false);
    expect(strings.size).toBe(1);
    strings.close();
  });

  it(`ran at least 10,000 hostile calls (printed)`, () => {
    console.log(`hardening bad-input: ${calls} hostile calls, ${threw} of them threw an allowed error, no crash`);
    expect(calls).toBeGreaterThanOrEqual(10_000 * Math.min(1, fcRuns(80) / 80));
  });
});
