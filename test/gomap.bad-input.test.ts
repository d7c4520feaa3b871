/**
 * Bad input (API.md "Errors"): wrong key and value kinds for every method, invalid
 * constructor options and arguments, huge sizes, a closed map. Only TypeError,
 * RangeError and Error{code: 'ERR_GOMAP_CLOSED'} may be thrown; a kind error names the
 * expected kind and the type received; the map is unchanged after every throw
 * (compared entry by entry), and a batch with one bad entry stores none of them.
 * Ends with a fast-check property that calls random methods with arbitrary values.
 */
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GoMap } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';
import {
  I64_MAX,
  I64_MIN,
  KEY_KINDS,
  Model,
  VALUE_KINDS,
  bulkKey,
  bulkValue,
  constructRaw,
  describeValue,
  expectClosed,
  expectMapMatches,
  expectRangeError,
  expectTypeError,
  expectTypeOrRangeError,
  fcRuns,
  isAllowedError,
  makeMap,
  thrown,
  type KeyKindName,
  type LooseMap,
  type ValueKindName,
} from './helpers/kinds.ts';

/** The map's current contents as a model (values as read back), to compare after a throw. */
function snapshot(m: LooseMap, keyKind: KeyKindName, valueKind: ValueKindName): Model {
  const model = new Model(keyKind, valueKind);
  for (const [k, v] of m) model.set(k, v);
  return model;
}

/** A filled map of the given kinds plus a valid key and value for it. */
function filled(keyKind: KeyKindName, valueKind: ValueKindName, n = 50): { m: LooseMap; model: Model } {
  const m = makeMap({ key: keyKind, value: valueKind });
  for (let i = 0; i < n; i++) m.set(bulkKey(keyKind, i), bulkValue(valueKind, i));
  return { m, model: snapshot(m, keyKind, valueKind) };
}

const sym = Symbol('bad');

/** Values that are not keys of each typed kind ('any' takes everything). */
const WRONG_KEYS: Record<Exclude<KeyKindName, 'any'>, unknown[]> = {
  string: [1, 1n, null, undefined, true, sym, {}, ['a'], Buffer.from('a'), new String('a')],
  f64: ['1', 1n, null, undefined, false, sym, {}, [1], new Number(1)],
  i64: [1.5, 1, '1', null, undefined, true, sym, {}, [1n], NaN],
  bytes: ['abc', 1, 1n, null, undefined, true, sym, {}, [1, 2, 3]],
};

/** Keys of the right JS type but out of the kind's range. */
const OUT_OF_RANGE_KEYS: Partial<Record<KeyKindName, unknown[]>> = {
  i64: [I64_MAX + 1n, I64_MIN - 1n, 2n ** 64n, -(2n ** 100n)],
};

const circular: Record<string, unknown> = {};
circular.self = circular;

const WRONG_VALUES: Record<Exclude<ValueKindName, 'any'>, unknown[]> = {
  string: [1, 1n, null, undefined, true, sym, {}, Buffer.from('a')],
  f64: ['1', 1n, null, undefined, true, sym, {}],
  i64: [1.5, 1, '1', null, undefined, sym, {}],
  bytes: ['abc', 1, null, undefined, {}, [1, 2]],
  json: [undefined, () => 1, sym, 1n, { big: 1n }, circular],
  v8: [() => 1, sym, { f() {} }, [sym]],
};

const OUT_OF_RANGE_VALUES: Partial<Record<ValueKindName, unknown[]>> = {
  i64: [I64_MAX + 1n, I64_MIN - 1n, 2n ** 64n],
};

/** Words a message must contain to "name the type received". */
function receivedWord(v: unknown): RegExp | undefined {
  if (v === null) return /null/i;
  const t = typeof v;
  if (t === 'object' || t === 'function') return undefined; // 'object', 'array', a class name: free form
  return new RegExp(t, 'i');
}

const kindWord = (kind: string): RegExp => new RegExp(`\\b${kind}\\b`, 'i');

describeEachBackend('GoMap: bad input', () => {
  describe('wrong key kinds, every method taking a key', () => {
    for (const keyKind of ['string', 'f64', 'i64', 'bytes'] as const) {
      const valueKind: ValueKindName = 'f64';
      for (const bad of WRONG_KEYS[keyKind]) {
        it(`'${keyKind}' map rejects key ${describeValue(bad)} with a TypeError naming '${keyKind}'`, () => {
          const { m, model } = filled(keyKind, valueKind);
          const goodKey = bulkKey(keyKind, 1000);
          const calls: [string, () => unknown][] = [
            ['get', () => m.get(bad)],
            ['has', () => m.has(bad)],
            ['delete', () => m.delete(bad)],
            ['lookup', () => m.lookup(bad)],
            ['set', () => m.set(bad, 1)],
            ['getMany', () => m.getMany([goodKey, bad, goodKey])],
            ['setMany', () => m.setMany([[goodKey, 1], [bad, 2], [bulkKey(keyKind, 1001), 3]])],
          ];
          for (const [name, call] of calls) {
            const e = expectTypeError(call);
            expect(e.message, `${name}: message names the kind`).toMatch(kindWord(keyKind));
            const w = receivedWord(bad);
            if (w) expect(e.message, `${name}: message names the type received`).toMatch(w);
            expectMapMatches(m, model);
          }
          expect(m.has(goodKey)).toBe(false);
        });
      }
    }

    it("'i64' keys out of the signed 64-bit range: TypeError or RangeError, map unchanged", () => {
      const { m, model } = filled('i64', 'string');
      for (const bad of OUT_OF_RANGE_KEYS.i64!) {
        for (const call of [() => m.get(bad), () => m.has(bad), () => m.delete(bad), () => m.lookup(bad), () => m.set(bad, 'x'), () => m.getMany([bad]), () => m.setMany([[0n, 'y'], [bad, 'x']])]) {
          const e = expectTypeOrRangeError(call);
          expect(e.message).toMatch(/i64|64/);
          expectMapMatches(m, model);
        }
      }
      // the edges themselves are fine
      m.set(I64_MAX, 'max').set(I64_MIN, 'min');
      expect(m.get(I64_MAX)).toBe('max');
    });
  });

  describe('wrong value kinds', () => {
    for (const valueKind of ['string', 'f64', 'i64', 'bytes', 'json', 'v8'] as const) {
      for (const keyKind of ['string', 'any'] as const) {
        it(`'${valueKind}' values in a '${keyKind}'-keyed map: TypeError naming '${valueKind}', nothing stored`, () => {
          const { m, model } = filled(keyKind, valueKind);
          const existing = bulkKey(keyKind, 3);
          const fresh = bulkKey(keyKind, 5000);
          for (const bad of WRONG_VALUES[valueKind]) {
            for (const [name, call] of [
              ['set new key', () => m.set(fresh, bad)],
              ['set existing key', () => m.set(existing, bad)],
              ['setMany', () => m.setMany([[fresh, bulkValue(valueKind, 1)], [existing, bad], [bulkKey(keyKind, 5001), bulkValue(valueKind, 2)]])],
            ] as const) {
              const e = expectTypeError(call);
              expect(e.message, `${name} ${describeValue(bad)}: message names the kind`).toMatch(kindWord(valueKind));
              const w = receivedWord(bad);
              if (w && valueKind !== 'json' && valueKind !== 'v8') expect(e.message, `${name}: message names the type received`).toMatch(w);
              expectMapMatches(m, model);
            }
          }
          expect(m.has(fresh)).toBe(false);
        });
      }
    }

    it("'i64' values out of range: TypeError or RangeError, map unchanged", () => {
      const { m, model } = filled('f64', 'i64');
      for (const bad of OUT_OF_RANGE_VALUES.i64!) {
        expectTypeOrRangeError(() => m.set(1, bad));
        expectTypeOrRangeError(() => m.set(0.5, bad));
        expectTypeOrRangeError(() => m.setMany([[12345, 1n], [1, bad]]));
        expectMapMatches(m, model);
      }
    });
  });

  describe('setMany / constructor with one bad entry store none of them', () => {
    for (const keyKind of KEY_KINDS) {
      for (const valueKind of VALUE_KINDS) {
        it(`'${keyKind}' → '${valueKind}'`, () => {
          const { m, model } = filled(keyKind, valueKind, 20);
          const batch = (bad: readonly [unknown, unknown]): (readonly [unknown, unknown])[] => {
            const es: (readonly [unknown, unknown])[] = [];
            for (let i = 100; i < 150; i++) es.push([bulkKey(keyKind, i), bulkValue(valueKind, i)]);
            for (let i = 0; i < 10; i++) es.push([bulkKey(keyKind, i), bulkValue(valueKind, i + 7)]); // overwrites
            es.splice(30, 0, bad);
            return es;
          };
          const cases: (readonly [unknown, unknown])[] = [];
          if (keyKind !== 'any') cases.push([WRONG_KEYS[keyKind][0], bulkValue(valueKind, 0)]);
          if (valueKind !== 'any') cases.push([bulkKey(keyKind, 999), WRONG_VALUES[valueKind][0]]);
          cases.push(5 as unknown as readonly [unknown, unknown]); // not an entry object
          for (const bad of cases) {
            expectTypeError(() => m.setMany(batch(bad)));
            expectMapMatches(m, model);
            expectTypeError(() => makeMap({ key: keyKind, value: valueKind }, batch(bad)));
          }
          // a failing iterator stores nothing either, and its error comes through
          const boom = new Error('boom from the iterator');
          function* failing(): Generator<readonly [unknown, unknown]> {
            yield [bulkKey(keyKind, 200), bulkValue(valueKind, 1)];
            yield [bulkKey(keyKind, 1), bulkValue(valueKind, 2)];
            throw boom;
          }
          expect(thrown(() => m.setMany(failing()))).toBe(boom);
          expectMapMatches(m, model);
        });
      }
    }
  });

  describe('constructor options', () => {
    it('unknown key / value kinds and non-object options: TypeError', () => {
      for (const key of ['nope', 'String', 'int', 'json', 'v8', '', 5, null, {}]) {
        const e = expectTypeError(() => constructRaw(null, { key }));
        expect(e.message).toMatch(/key/);
      }
      for (const value of ['nope', 'object', 'map', '', 7, true]) {
        const e = expectTypeError(() => constructRaw(null, { value }));
        expect(e.message).toMatch(/value/);
      }
      for (const options of [5, 'string', true, 1n, sym]) expectTypeError(() => constructRaw(null, options));
    });

    it('hint: wrong type → TypeError; negative, NaN, fractional, infinite → TypeError or RangeError', () => {
      for (const hint of ['10', 10n, {}, [], true, sym]) expectTypeError(() => constructRaw(null, { hint }));
      for (const hint of [-1, -0.5, NaN, 1.5, Infinity, -Infinity, 2 ** 53, 2 ** 64]) {
        const e = expectTypeOrRangeError(() => constructRaw(null, { hint }));
        expect(e.message).toMatch(/hint/);
      }
    });

    it('a hint that cannot be honoured (memory) → RangeError', () => {
      for (const hint of [2 ** 40, 2 ** 48, Number.MAX_SAFE_INTEGER]) {
        for (const [key, value] of [
          ['i64', 'f64'],
          ['string', 'v8'],
          ['any', 'any'],
        ] as const) {
          expectRangeError(() => makeMap({ key, value, hint }));
        }
      }
    });

    it('seed: not a bigint → TypeError; out of 64 bits → TypeError or RangeError', () => {
      for (const seed of [1, '1', 1.5, {}, null, true, sym]) expectTypeError(() => constructRaw(null, { seed }));
      for (const seed of [2n ** 64n, -(2n ** 64n), 2n ** 200n]) expectTypeOrRangeError(() => constructRaw(null, { seed }));
    });

    it('entries: not iterable, or items that are not entry objects → TypeError', () => {
      for (const entries of [5, true, {}, sym, 1n, { length: 1, 0: ['a', 1] }]) expectTypeError(() => constructRaw(entries));
      for (const entries of [[1], [null], [undefined], ['ab'], 'ab', [[1, 2], 3]]) expectTypeError(() => constructRaw(entries));
      expectTypeError(() => makeMap({ key: 'string', value: 'f64' }, [['a', 1], ['b', 'not a number']]));
      expectTypeError(() => makeMap({ key: 'string', value: 'f64' }, [['a', 1], [2, 2]]));
    });
  });

  describe('other arguments', () => {
    it('forEach needs a function', () => {
      const { m, model } = filled('string', 'any');
      for (const cb of [undefined, null, 'f', 1, {}, sym]) expectTypeError(() => m.forEach(cb as never));
      const empty = makeMap();
      expectTypeError(() => empty.forEach('not callable' as never));
      expectMapMatches(m, model);
    });

    it('getMany / setMany need iterables', () => {
      const { m, model } = filled('string', 'string');
      for (const bad of [undefined, null, 5, {}, true, sym]) {
        expectTypeError(() => m.getMany(bad as never));
        expectTypeError(() => m.setMany(bad as never));
        expectMapMatches(m, model);
      }
      for (const bad of [[1], ['ab'], [null], 'ab']) {
        expectTypeError(() => m.setMany(bad as never));
        expectMapMatches(m, model);
      }
    });

    it('an exception thrown by a getMany iterator comes through, map unchanged', () => {
      const { m, model } = filled('i64', 'f64');
      const boom = new Error('boom');
      function* ks(): Generator<bigint> {
        yield 1n;
        throw boom;
      }
      expect(thrown(() => m.getMany(ks()))).toBe(boom);
      expectMapMatches(m, model);
    });

    it('reserve: wrong type → TypeError; negative/NaN/fractional → TypeError or RangeError; impossible → RangeError', () => {
      const { m, model } = filled('i64', 'f64');
      const B = m.stats().B;
      for (const n of ['5', 5n, null, undefined, {}, sym]) expectTypeError(() => m.reserve(n as never));
      for (const n of [-1, NaN, 1.5, Infinity, -Infinity]) expectTypeOrRangeError(() => m.reserve(n));
      for (const n of [2 ** 40, 2 ** 50, Number.MAX_SAFE_INTEGER]) expectRangeError(() => m.reserve(n));
      expectMapMatches(m, model);
      expect(m.stats().B).toBe(B);
      m.set(77n, 7);
      expect(m.get(77n)).toBe(7);
    });

    it('methods called on something that is not a GoMap throw TypeError (no crash)', () => {
      const proto = GoMap.prototype as unknown as Record<string | symbol, unknown>;
      const fake = {};
      const calls: [string, unknown[]][] = [
        ['get', ['a']],
        ['set', ['a', 1]],
        ['has', ['a']],
        ['delete', ['a']],
        ['clear', []],
        ['lookup', ['a']],
        ['getMany', [['a']]],
        ['setMany', [[['a', 1]]]],
        ['reserve', [1]],
        ['shrink', []],
        ['stats', []],
        ['forEach', [() => {}]],
        ['keys', []],
        ['values', []],
        ['entries', []],
      ];
      for (const [name, args] of calls) {
        const f = proto[name] as (...a: unknown[]) => unknown;
        expect(typeof f, name).toBe('function');
        const e = thrown(() => {
          const r = f.apply(fake, args);
          if (r && typeof r === 'object' && Symbol.iterator in r) [...(r as Iterable<unknown>)];
        });
        expect(e, name).toBeInstanceOf(TypeError);
      }
      const sizeGetter = Object.getOwnPropertyDescriptor(GoMap.prototype, 'size')?.get;
      expect(sizeGetter).toBeTypeOf('function');
      expect(thrown(() => sizeGetter!.call(fake))).toBeInstanceOf(TypeError);
    });

    it('a key or value over the size limit (2^30 bytes) → RangeError, map unchanged', () => {
      const { m, model } = filled('bytes', 'bytes', 5);
      const huge = Buffer.allocUnsafe(2 ** 30 + 1);
      expectRangeError(() => m.set(Buffer.from('k'), huge));
      expectRangeError(() => m.set(huge, Buffer.from('v')));
      expectMapMatches(m, model);
    });
  });

  describe('a closed map', () => {
    it('throws ERR_GOMAP_CLOSED even for bad arguments, never a crash', () => {
      const m = makeMap({ key: 'i64', value: 'f64' });
      m.set(1n, 1);
      m.close();
      for (const call of [() => m.get(1n), () => m.set(1n, 2), () => m.getMany([1n]), () => m.setMany([[1n, 1]]), () => m.reserve(5), () => m.shrink()]) {
        expectClosed(call);
      }
      // with wrong-kind input the error may be the kind error or the closed error
      for (const call of [() => m.get('x'), () => m.set('x', 'y'), () => m.reserve(-1), () => m.forEach(5 as never)]) {
        const e = thrown(call);
        expect(isAllowedError(e), String(e)).toBe(true);
      }
    });
  });

  describe('property: random calls with arbitrary values', () => {
    for (const keyKind of KEY_KINDS) {
      it(`only TypeError / RangeError / ERR_GOMAP_CLOSED, contents unchanged after a throw ('${keyKind}' keys)`, () => {
        const safeCount = (x: unknown): unknown => (typeof x === 'number' && x > 10_000 && x < 2 ** 40 ? 10_000 : x);
        const arg = fc.oneof(fc.anything({ withBigInt: true, withTypedArray: true, withMap: true, withSet: true, withDate: true, withBoxedValues: true, withNullPrototype: true }), fc.constantFrom<unknown>(sym, () => 1, circular, Buffer.from('x'), -0, NaN));
        const call = fc.oneof(
          fc.record({ m: fc.constantFrom('get', 'has', 'delete', 'lookup', 'getMany', 'setMany', 'reserve', 'forEach'), a: arg }),
          fc.record({ m: fc.constant('set'), a: arg, b: arg }),
          fc.record({ m: fc.constant('setMany'), a: fc.array(fc.tuple(arg, arg), { maxLength: 4 }) }),
          fc.record({ m: fc.constant('getMany'), a: fc.array(arg, { maxLength: 4 }) }),
          fc.record({ m: fc.constant('ctor'), a: arg, b: fc.record({ key: arg, value: arg, hint: arg, seed: arg }, { requiredKeys: [] }) }),
          fc.record({ m: fc.constant('close') }),
        );
        fc.assert(
          fc.property(fc.constantFrom(...VALUE_KINDS), fc.array(call, { minLength: 1, maxLength: 20 }), (valueKind, calls) => {
            const m = makeMap({ key: keyKind, value: valueKind });
            for (let i = 0; i < 10; i++) m.set(bulkKey(keyKind, i), bulkValue(valueKind, i));
            let closed = false;
            for (const c of calls) {
              const before = closed ? undefined : snapshot(m, keyKind, valueKind);
              let error: unknown;
              let threw = false;
              try {
                switch (c.m) {
                  case 'get':
                  case 'has':
                  case 'delete':
                  case 'lookup':
                  case 'getMany':
                  case 'setMany':
                  case 'forEach':
                    (m[c.m] as (x: unknown) => unknown).call(m, c.a);
                    break;
                  case 'reserve':
                    m.reserve(safeCount(c.a) as number);
                    break;
                  case 'set':
                    m.set(c.a, c.b);
                    break;
                  case 'ctor': {
                    const o = { ...c.b } as Record<string, unknown>;
                    if ('hint' in o) o.hint = safeCount(o.hint);
                    constructRaw(c.a, o).close();
                    break;
                  }
                  case 'close':
                    m.close();
                    closed = true;
                    break;
                }
              } catch (e) {
                threw = true;
                error = e;
              }
              if (threw) {
                if (!isAllowedError(error)) throw new Error(`${c.m} threw a disallowed error: ${String(error)}`);
                if (before) expectMapMatches(m, before);
              }
            }
            if (!closed) m.close();
          }),
          { numRuns: fcRuns(60) },
        );
      });
    }
  });
});
