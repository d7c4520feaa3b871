/**
 * GoMap as a drop-in `Map` (API.md "GoMap<K, V>" and "Key and value kinds"):
 * SameValueZero keys, the Map methods and their return values, iterators, the
 * constructor, Go's comma-ok lookup, batch calls, reserve/shrink, close/dispose, and
 * exact round-trips for every key and value kind.
 */
import { Buffer } from 'node:buffer';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { GoMap } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';
import {
  I64_MAX,
  I64_MIN,
  SPECIAL_STRINGS,
  checkStatsInvariants,
  expectClosed,
  expectTypeError,
  expectedValue,
  makeMap,
  minB,
  valuesEqual,
  type LooseMap,
} from './helpers/kinds.ts';

/** A NaN with a payload other than V8's canonical one (bit pattern 0x7ff8000000000001). */
function payloadNaN(bits: bigint): number {
  const f = new Float64Array(new BigUint64Array([bits]).buffer);
  return f[0]!;
}

/** Keys as a list, compared with Object.is by toEqual's strictness on ±0. */
function keyList(m: Iterable<readonly [unknown, unknown]> | { keys(): Iterable<unknown> }): unknown[] {
  return 'keys' in m ? [...m.keys()] : [...m].map(([k]) => k);
}

describeEachBackend('GoMap: Map semantics', () => {
  describe("'any' keys compare with SameValueZero, exactly as Map", () => {
    it('NaN equals NaN (any NaN bit pattern)', () => {
      const m = makeMap();
      m.set(NaN, 'a');
      expect(m.get(NaN)).toBe('a');
      expect(m.has(0 / 0)).toBe(true);
      m.set(Number('x'), 'b');
      expect(m.size).toBe(1);
      expect(m.get(NaN)).toBe('b');
      const odd = payloadNaN(0x7ff8000000000001n);
      const negative = payloadNaN(0xfff8000000000000n);
      expect(Number.isNaN(odd) && Number.isNaN(negative)).toBe(true);
      expect(m.get(odd)).toBe('b');
      expect(m.get(negative)).toBe('b');
      m.set(odd, 'c');
      expect(m.size).toBe(1);
      expect(keyList(m).length).toBe(1);
      expect(Number.isNaN(keyList(m)[0])).toBe(true);
      expect(m.delete(negative)).toBe(true);
      expect(m.size).toBe(0);
    });

    it('+0 and -0 are one key, and keys() yields +0 like Map', () => {
      const m = makeMap();
      const ref = new Map<unknown, unknown>();
      for (const x of [m, ref]) x.set(-0, 'neg');
      expect(m.get(0)).toBe('neg');
      expect(m.has(-0)).toBe(true);
      expect(Object.is(keyList(m)[0], 0)).toBe(true);
      expect(Object.is([...m.entries()][0]![0], 0)).toBe(true);
      expect(Object.is(keyList(ref)[0], 0)).toBe(true);
      m.set(0, 'pos');
      expect(m.size).toBe(1);
      expect(m.get(-0)).toBe('pos');
      expect(m.delete(-0)).toBe(true);
      expect(m.has(0)).toBe(false);
    });

    it("'f64' keys: NaN is one key, ±0 one key, keys() yields +0", () => {
      const m = new GoMap<number, string>(null, { key: 'f64', value: 'string' });
      m.set(-0, 'z').set(NaN, 'n').set(payloadNaN(0x7ff8000000000abcn), 'n2');
      expect(m.size).toBe(2);
      expect(m.get(0)).toBe('z');
      expect(m.get(NaN)).toBe('n2');
      const ks = [...m.keys()];
      expect(ks.some((k) => Object.is(k, 0))).toBe(true);
      expect(ks.some((k) => Object.is(k, -0))).toBe(false);
      expect(ks.some((k) => Number.isNaN(k))).toBe(true);
      m.set(Infinity, 'inf').set(-Infinity, '-inf').set(Number.MIN_VALUE, 'tiny').set(-Number.MIN_VALUE, '-tiny');
      expect(m.size).toBe(6);
      expect(m.get(Infinity)).toBe('inf');
      expect(m.get(-Infinity)).toBe('-inf');
      expect(m.get(-Number.MIN_VALUE)).toBe('-tiny');
      expect(m.get(0.1 + 0.2)).toBeUndefined();
    });

    it('objects, arrays, functions and symbols are keys by identity', () => {
      const m = makeMap();
      const a = {};
      const b = {};
      const f = (): number => 1;
      const g = (): number => 1;
      const s1 = Symbol('s');
      const s2 = Symbol('s');
      const arr: number[] = [];
      m.set(a, 1).set(b, 2).set(f, 3).set(g, 4).set(s1, 5).set(s2, 6).set(arr, 7).set(Symbol.for('reg'), 8);
      expect(m.size).toBe(8);
      expect([m.get(a), m.get(b), m.get(f), m.get(g), m.get(s1), m.get(s2), m.get(arr)]).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(m.get({})).toBeUndefined();
      expect(m.get([])).toBeUndefined();
      expect(m.get(Symbol('s'))).toBeUndefined();
      expect(m.get(Symbol.for('reg'))).toBe(8);
      expect(m.has(() => 1)).toBe(false);
      const ks = keyList(m);
      for (const k of [a, b, f, g, s1, s2, arr]) expect(ks.filter((x) => x === k)).toHaveLength(1);
      expect(m.delete(a)).toBe(true);
      expect(m.get(b)).toBe(2);
      expect(m.has(a)).toBe(false);
    });

    it("1, 1n, '1', true, null, undefined and friends are all different keys", () => {
      const keys: unknown[] = [1, 1n, '1', true, null, undefined, 'null', 'undefined', 'true', 0, 0n, '0', '', false, -1, -1n, 2 ** 53, 2n ** 53n];
      const m = makeMap();
      keys.forEach((k, i) => m.set(k, i));
      expect(m.size).toBe(keys.length);
      keys.forEach((k, i) => expect(m.get(k)).toBe(i));
      const ks = keyList(m);
      for (const k of keys) expect(ks.filter((x) => Object.is(x, k))).toHaveLength(1);
      expect(m.get(1.5)).toBeUndefined();
      expect(m.get(2n)).toBeUndefined();
    });

    it('bigints and strings compare by value, at any size', () => {
      const m = makeMap();
      const big = 2n ** 100n + 12345n;
      m.set(big, 'big').set(-(2n ** 64n), 'neg64').set(['ab', 'c'].join(''), 'abc');
      expect(m.get(2n ** 100n + 12345n)).toBe('big');
      expect(m.get(-(2n ** 64n))).toBe('neg64');
      expect(m.get(2n ** 100n)).toBeUndefined();
      expect(m.get('a' + 'bc'.slice(0, 2))).toBe('abc');
      const long = 'k'.repeat(10_000);
      m.set(long, 'long');
      expect(m.get('k'.repeat(9_999) + 'k')).toBe('long');
      expect(m.get('k'.repeat(9_999))).toBeUndefined();
    });

    it('agrees with Map on a mixed workload (keys compared with Object.is)', () => {
      const pool: unknown[] = [NaN, 0, -0, 1, 1n, '1', '', null, undefined, true, {}, Symbol('x'), 2n ** 70n, 'é', -0.5];
      const m = makeMap();
      const ref = new Map<unknown, unknown>();
      let seed = 7;
      const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      for (let i = 0; i < 2000; i++) {
        const k = pool[rnd(pool.length)];
        const op = rnd(4);
        if (op < 2) {
          m.set(k, i);
          ref.set(k, i);
        } else if (op === 2) expect(m.delete(k)).toBe(ref.delete(k));
        else expect(m.get(k)).toBe(ref.get(k));
        expect(m.size).toBe(ref.size);
      }
      const got = new Map([...m]);
      expect(got.size).toBe(ref.size);
      for (const [k, v] of ref) {
        expect(got.get(k)).toBe(v);
        expect([...got.keys()].some((x) => Object.is(x, k))).toBe(true);
      }
    });
  });

  describe('Map methods', () => {
    it('set returns this (chainable), get/has see the latest value', () => {
      const m = makeMap({ key: 'string', value: 'f64' });
      expect(m.set('a', 1)).toBe(m);
      expect(m.set('a', 2).set('b', 3)).toBe(m);
      expect(m.get('a')).toBe(2);
      expect(m.has('b')).toBe(true);
      expect(m.has('c')).toBe(false);
      expect(m.get('c')).toBeUndefined();
      expect(m.size).toBe(2);
    });

    it('delete returns whether the key was there', () => {
      const m = makeMap({ key: 'i64', value: 'i64' });
      m.set(1n, 10n).set(2n, 20n);
      expect(m.delete(1n)).toBe(true);
      expect(m.delete(1n)).toBe(false);
      expect(m.delete(3n)).toBe(false);
      expect(m.size).toBe(1);
      expect(m.get(2n)).toBe(20n);
      expect(m.has(1n)).toBe(false);
    });

    it('size counts live entries only', () => {
      const m = makeMap({ key: 'f64', value: 'f64' });
      expect(m.size).toBe(0);
      for (let i = 0; i < 1000; i++) m.set(i, i);
      expect(m.size).toBe(1000);
      for (let i = 0; i < 1000; i++) m.set(i, -i);
      expect(m.size).toBe(1000);
      for (let i = 0; i < 1000; i += 2) m.delete(i);
      expect(m.size).toBe(500);
      expect(m.get(3)).toBe(-3);
      expect(m.get(4)).toBeUndefined();
    });

    it('clear empties the map, which stays usable', () => {
      const m = makeMap({ key: 'string', value: 'string' });
      for (let i = 0; i < 500; i++) m.set(`k${i}`, `v${i}`);
      expect(m.clear()).toBeUndefined();
      expect(m.size).toBe(0);
      expect(m.get('k1')).toBeUndefined();
      expect(m.has('k499')).toBe(false);
      expect([...m]).toEqual([]);
      m.set('k1', 'again');
      expect(m.get('k1')).toBe('again');
      expect(m.size).toBe(1);
      checkStatsInvariants(m.stats(), m.size);
    });

    it('forEach(cb, thisArg) calls cb(value, key, map) with this === thisArg, once per entry', () => {
      const m = makeMap({ key: 'string', value: 'any' });
      const objs = [{ n: 0 }, { n: 1 }, { n: 2 }];
      objs.forEach((o, i) => m.set(`k${i}`, o));
      const thisArg = { tag: 'this' };
      const calls: { self: unknown; args: unknown[] }[] = [];
      const ret = m.forEach(function (this: unknown, ...args: unknown[]) {
        calls.push({ self: this, args });
      }, thisArg);
      expect(ret).toBeUndefined();
      expect(calls).toHaveLength(3);
      for (const c of calls) {
        expect(c.self).toBe(thisArg);
        expect(c.args).toHaveLength(3);
        const [value, key, map] = c.args;
        expect(map).toBe(m);
        expect(typeof key).toBe('string');
        expect(value).toBe(objs[Number((key as string).slice(1))]);
      }
      expect(new Set(calls.map((c) => c.args[1]))).toEqual(new Set(['k0', 'k1', 'k2']));
    });

    it('keys(), values(), entries() and [Symbol.iterator] agree and are iterable iterators', () => {
      const m = makeMap({ key: 'i64', value: 'string' });
      const ref = new Map<bigint, string>();
      for (let i = 0n; i < 300n; i++) {
        m.set(i * 1000n, `v${i}`);
        ref.set(i * 1000n, `v${i}`);
      }
      const entries = [...m.entries()];
      expect(entries).toHaveLength(300);
      for (const e of entries) {
        expect(Array.isArray(e) && e.length === 2).toBe(true);
        expect(ref.get(e[0] as bigint)).toBe(e[1]);
      }
      expect(new Map(entries)).toEqual(ref);
      expect(new Map([...m])).toEqual(ref);
      expect(new Set(m.keys())).toEqual(new Set(ref.keys()));
      expect([...m.values()].sort()).toEqual([...ref.values()].sort());
      for (const make of [() => m.keys(), () => m.values(), () => m.entries(), () => m[Symbol.iterator]()]) {
        const it = make();
        expect(it[Symbol.iterator]()).toBe(it);
        let n = 0;
        for (let r = it.next(); !r.done; r = it.next()) n++;
        expect(n).toBe(300);
        expect(it.next()).toEqual({ done: true, value: undefined });
        expect(it.next().done).toBe(true);
      }
      expect([...makeMap().keys()]).toEqual([]);
    });

    it("Symbol.toStringTag is 'GoMap'", () => {
      const m = makeMap();
      expect(m[Symbol.toStringTag]).toBe('GoMap');
      expect(Object.prototype.toString.call(m)).toBe('[object GoMap]');
    });

    it('can stand in for a Map<K, V> (type level) and behaves like one', () => {
      const m = new GoMap<string, number>(null, { key: 'string', value: 'f64' });
      const asMap: Map<string, number> = m;
      const use = (x: Map<string, number>): number => x.set('a', 1).set('b', 2).get('a')! + x.size;
      expect(use(asMap)).toBe(3);
    });
  });

  describe('constructor', () => {
    it('takes an entries iterable: array, Map, generator; later duplicates win', () => {
      const fromArray = makeMap({}, [['a', 1], ['b', 2], ['a', 3]]);
      expect(fromArray.size).toBe(2);
      expect(fromArray.get('a')).toBe(3);
      const src = new Map<unknown, unknown>([[1, 'x'], [2, 'y']]);
      const fromMap = makeMap({}, src);
      expect(new Map([...fromMap])).toEqual(src);
      function* gen(): Generator<[bigint, number]> {
        for (let i = 0n; i < 100n; i++) yield [i, Number(i) / 2];
      }
      const fromGen = makeMap({ key: 'i64', value: 'f64' }, gen());
      expect(fromGen.size).toBe(100);
      expect(fromGen.get(99n)).toBe(49.5);
      const fromGoMap = makeMap({ key: 'i64', value: 'f64' }, fromGen);
      expect(fromGoMap.size).toBe(100);
      expect(fromGoMap.get(7n)).toBe(3.5);
    });

    it('takes null or undefined (or nothing) as no entries', () => {
      expect(new GoMap().size).toBe(0);
      expect(new GoMap(null).size).toBe(0);
      expect(new GoMap(undefined).size).toBe(0);
      expect(makeMap({ key: 'string' }, null).size).toBe(0);
    });

    it("defaults to 'any' keys and 'any' values", () => {
      const m = new GoMap<unknown, unknown>();
      const o = {};
      m.set(o, o).set(1n, undefined).set('s', Symbol.iterator);
      expect(m.get(o)).toBe(o);
      expect(m.lookup(1n)).toEqual([undefined, true]);
      expect(m.get('s')).toBe(Symbol.iterator);
    });

    it('honours the hint option (pre-sized like make(map, hint))', () => {
      const m = makeMap({ key: 'i64', value: 'f64', hint: 1000 });
      expect(m.size).toBe(0);
      expect(m.stats().B).toBe(minB(1000));
    });
  });

  describe('lookup (comma-ok)', () => {
    it('returns [value, true] or [undefined, false]', () => {
      const m = makeMap({ key: 'string', value: 'f64' });
      m.set('a', 0).set('nan', NaN);
      expect(m.lookup('a')).toEqual([0, true]);
      expect(m.lookup('b')).toEqual([undefined, false]);
      const [v, ok] = m.lookup('nan');
      expect(ok).toBe(true);
      expect(Number.isNaN(v)).toBe(true);
      m.delete('a');
      expect(m.lookup('a')).toEqual([undefined, false]);
    });

    it('tells a stored undefined from a missing key', () => {
      const m = makeMap();
      m.set('u', undefined).set('n', null);
      expect(m.get('u')).toBeUndefined();
      expect(m.has('u')).toBe(true);
      expect(m.lookup('u')).toEqual([undefined, true]);
      expect(m.lookup('n')).toEqual([null, true]);
      expect(m.lookup('missing')).toEqual([undefined, false]);
      expect(m.size).toBe(2);
      expect([...m.values()]).toContain(undefined);
    });

    it("stores undefined as a 'v8' value (it is structured-cloneable)", () => {
      const m = makeMap({ key: 'string', value: 'v8' });
      m.set('u', undefined);
      expect(m.lookup('u')).toEqual([undefined, true]);
      expect(m.has('u')).toBe(true);
    });
  });

  describe('getMany / setMany', () => {
    it('getMany returns values in key order, undefined for misses, for any iterable', () => {
      const m = makeMap({ key: 'i64', value: 'f64' });
      for (let i = 0n; i < 100n; i++) m.set(i, Number(i) * 2);
      expect(m.getMany([5n, 200n, 0n, 5n, -1n])).toEqual([10, undefined, 0, 10, undefined]);
      expect(m.getMany(new Set([99n, 98n]))).toEqual([198, 196]);
      function* ks(): Generator<bigint> {
        yield 1n;
        yield 1000n;
      }
      expect(m.getMany(ks())).toEqual([2, undefined]);
      expect(m.getMany([])).toEqual([]);
      const many = Array.from({ length: 10_000 }, (_, i) => BigInt(i % 150));
      const got = m.getMany(many);
      expect(got).toHaveLength(10_000);
      got.forEach((v, i) => expect(v).toBe(i % 150 < 100 ? (i % 150) * 2 : undefined));
    });

    it("getMany returns the live 'any' values and copies of typed ones", () => {
      const o = { x: 1 };
      const any = makeMap({}, [['o', o]]);
      expect(any.getMany(['o', 'o'])).toEqual([o, o]);
      expect(any.getMany(['o'])[0]).toBe(o);
      const js = makeMap({ key: 'string', value: 'json' }, [['o', o]]);
      const [a, b] = js.getMany(['o', 'o']);
      expect(a).toEqual(o);
      expect(a).not.toBe(o);
      expect(a).not.toBe(b);
    });

    it('setMany stores every entry, returns this, later duplicates win', () => {
      const m = makeMap({ key: 'string', value: 'string' });
      expect(m.setMany([['a', '1'], ['b', '2'], ['a', '3']])).toBe(m);
      expect(m.size).toBe(2);
      expect(m.get('a')).toBe('3');
      function* es(): Generator<[string, string]> {
        for (let i = 0; i < 5000; i++) yield [`k${i}`, `v${i}`];
      }
      m.setMany(es());
      expect(m.size).toBe(5002);
      expect(m.get('k4999')).toBe('v4999');
      expect(m.setMany([])).toBe(m);
      expect(m.size).toBe(5002);
      m.setMany(new Map([['a', 'from a Map']]));
      expect(m.get('a')).toBe('from a Map');
    });
  });

  describe('reserve / shrink', () => {
    it('reserve(n) pre-sizes without touching the contents', () => {
      const m = makeMap({ key: 'string', value: 'f64' });
      for (let i = 0; i < 100; i++) m.set(`k${i}`, i);
      expect(m.reserve(100_000)).toBeUndefined();
      expect(m.size).toBe(100);
      for (let i = 0; i < 100; i++) expect(m.get(`k${i}`)).toBe(i);
      const s = m.stats();
      checkStatsInvariants(s, 100);
      expect(s.B).toBeGreaterThanOrEqual(minB(100_000));
      m.reserve(0);
      m.reserve(10);
      expect(m.stats().B).toBe(s.B);
    });

    it('shrink() keeps the contents', () => {
      const m = makeMap({ key: 'i64', value: 'string' });
      for (let i = 0n; i < 5000n; i++) m.set(i, `v${i}`);
      for (let i = 0n; i < 5000n; i++) if (i % 50n) m.delete(i);
      expect(m.shrink()).toBeUndefined();
      expect(m.size).toBe(100);
      for (let i = 0n; i < 5000n; i++) expect(m.get(i)).toBe(i % 50n ? undefined : `v${i}`);
      expect(new Set(m.keys()).size).toBe(100);
      checkStatsInvariants(m.stats(), 100);
      m.set(1n, 'new');
      expect(m.size).toBe(101);
    });
  });

  describe('close and Symbol.dispose', () => {
    const every: [string, (m: LooseMap) => unknown][] = [
      ['size', (m) => m.size],
      ['get', (m) => m.get('a')],
      ['set', (m) => m.set('a', 1)],
      ['has', (m) => m.has('a')],
      ['delete', (m) => m.delete('a')],
      ['clear', (m) => m.clear()],
      ['forEach', (m) => m.forEach(() => {})],
      ['keys', (m) => [...m.keys()]],
      ['values', (m) => [...m.values()]],
      ['entries', (m) => [...m.entries()]],
      ['[Symbol.iterator]', (m) => [...m]],
      ['lookup', (m) => m.lookup('a')],
      ['getMany', (m) => m.getMany(['a'])],
      ['setMany', (m) => m.setMany([['b', 2]])],
      ['reserve', (m) => m.reserve(10)],
      ['shrink', (m) => m.shrink()],
      ['stats', (m) => m.stats()],
    ];

    for (const how of ['close()', '[Symbol.dispose]()'] as const) {
      it.each(every)(`after ${how}, %s throws ERR_GOMAP_CLOSED`, (_name, use) => {
        const m = makeMap({ key: 'string', value: 'f64' }, [['a', 1]]);
        if (how === 'close()') m.close();
        else m[Symbol.dispose]();
        expectClosed(() => use(m));
        // and it keeps saying so
        expectClosed(() => use(m));
        expectClosed(() => m.size);
      });
    }

    it('close() and [Symbol.dispose]() can be called again (idempotent)', () => {
      const m = makeMap({ key: 'string', value: 'string' }, [['a', 'b']]);
      expect(m.close()).toBeUndefined();
      expect(() => m.close()).not.toThrow();
      expect(() => m[Symbol.dispose]()).not.toThrow();
      expectClosed(() => m.get('a'));
    });

    it('an iterator made before close() throws ERR_GOMAP_CLOSED on next(), without crashing', () => {
      for (const kind of ['any', 'bytes'] as const) {
        const m = makeMap({ key: 'i64', value: kind });
        for (let i = 0n; i < 1000n; i++) m.set(i, kind === 'any' ? { i } : Buffer.from([Number(i & 255n)]));
        const it = m.entries();
        const first = it.next();
        expect(first.done).toBe(false);
        const keysIt = m.keys();
        m.close();
        expectClosed(() => it.next());
        expectClosed(() => keysIt.next());
      }
    });

    it('a closed map leaves other maps alone; maps that are never closed are collected without crashing', () => {
      const gc = (() => {
        v8.setFlagsFromString('--expose-gc');
        return vm.runInNewContext('gc') as () => void;
      })();
      const keep = makeMap({ key: 'string', value: 'string' }, [['k', 'v']]);
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 300; i++) {
          const m = makeMap({ key: i % 2 ? 'string' : 'any', value: i % 3 ? 'bytes' : 'any' });
          for (let j = 0; j < 50; j++) m.set(i % 2 ? `k${j}` : j, i % 3 ? Buffer.from([j]) : { j });
          const it = m.keys();
          it.next();
          if (i % 4 === 0) m.close(); // closed, then collected: must not free twice
        }
        gc();
      }
      gc();
      expect(keep.get('k')).toBe('v');
      keep.close();
    });
  });

  describe('strings round-trip exactly', () => {
    const strings = [
      ...SPECIAL_STRINGS,
      '\uD800\uD800',
      '\uDC00\uD800',
      '\uD801',
      'x\uDBFF',
      '\uDFFFy',
      'k'.repeat(10_240),
      '\uD83D'.repeat(5000),
      'é'.repeat(3000),
      'a\u0000b',
    ];

    for (const keyKind of ['string', 'any'] as const) {
      it(`as '${keyKind}' keys and 'string' values (lone surrogates, '', 10 KB)`, () => {
        const m = makeMap({ key: keyKind, value: 'string' });
        strings.forEach((s, i) => m.set(s, s + String(i)));
        expect(m.size).toBe(new Set(strings).size);
        for (const [i, s] of strings.entries()) {
          const last = strings.lastIndexOf(s);
          expect(m.get(s) === s + String(last), `value of key #${i}`).toBe(true);
          expect(m.lookup(s)[1]).toBe(true);
        }
        const ks = [...m.keys()] as string[];
        expect(new Set(ks)).toEqual(new Set(strings));
        for (const [k, v] of m) expect((v as string).startsWith(k as string)).toBe(true);
      });
    }

    it('lone surrogates are distinct from each other and from U+FFFD (no UTF-8 replacement)', () => {
      const m = makeMap({ key: 'string', value: 'f64' });
      const distinct = ['\uD800', '\uD801', '\uDC00', '\uFFFD', '\uD800\uDC00', '\uD800\uFFFD', '?', ''];
      distinct.forEach((s, i) => m.set(s, i));
      expect(m.size).toBe(distinct.length);
      distinct.forEach((s, i) => expect(m.get(s)).toBe(i));
    });

    it('one-byte and two-byte V8 representations of the same text are the same key', () => {
      const m = makeMap({ key: 'string', value: 'f64' });
      const oneByte = 'café:' + String(12);
      const twoByte = ('café:12' + '\u0100').slice(0, 7); // same text, held as a two-byte string
      expect(twoByte).toBe(oneByte);
      m.set(oneByte, 1);
      expect(m.get(twoByte)).toBe(1);
      m.set(twoByte, 2);
      expect(m.size).toBe(1);
      const mid1 = 'ü'.repeat(13);
      const mid2 = ('ü'.repeat(13) + '\u4e00').slice(0, 13);
      m.set(mid1, 4);
      expect(m.get(mid2)).toBe(4);
      const long1 = 'ü'.repeat(40);
      const long2 = ('ü'.repeat(40) + '\u4e00').slice(0, 40);
      m.set(long2, 3);
      expect(m.get(long1)).toBe(3);
      expect(m.size).toBe(3);
    });

    it("'string' values: lone surrogates, empty and long strings", () => {
      const m = makeMap({ key: 'f64', value: 'string' });
      strings.forEach((s, i) => m.set(i, s));
      strings.forEach((s, i) => expect(m.get(i) === s, `value #${i}`).toBe(true));
      expect([...m.values()].sort()).toEqual([...strings].sort());
    });
  });

  describe('typed kinds round-trip', () => {
    it("'i64' keys and values at the edges of the signed 64-bit range", () => {
      const m = makeMap({ key: 'i64', value: 'i64' });
      const edges = [I64_MIN, I64_MIN + 1n, -1n, 0n, 1n, I64_MAX - 1n, I64_MAX, 2n ** 32n, -(2n ** 32n), 2n ** 53n + 1n];
      for (const k of edges) m.set(k, -k - 1n);
      expect(m.size).toBe(edges.length);
      for (const k of edges) {
        const v = m.get(k);
        expect(typeof v).toBe('bigint');
        expect(v).toBe(-k - 1n);
      }
      expect(m.get(I64_MIN)).toBe(I64_MAX);
      expect(m.get(I64_MAX)).toBe(I64_MIN);
      const ks = [...m.keys()];
      expect(ks.every((k) => typeof k === 'bigint')).toBe(true);
      expect(new Set(ks)).toEqual(new Set(edges));
    });

    it("'f64' values keep NaN, -0, infinities and subnormals", () => {
      const m = makeMap({ key: 'string', value: 'f64' });
      const vals = [NaN, -0, 0, Infinity, -Infinity, Number.MIN_VALUE, -Number.MAX_VALUE, 0.1, 2 ** 53 + 2];
      vals.forEach((v, i) => m.set(`k${i}`, v));
      vals.forEach((v, i) => expect(Object.is(m.get(`k${i}`), v), `value ${i}`).toBe(true));
    });

    it("'bytes' keys: contents, not views; returned as Buffers", () => {
      const m = makeMap({ key: 'bytes', value: 'f64' });
      const u = new Uint8Array([1, 2, 3]);
      m.set(u, 1);
      expect(m.get(Buffer.from([1, 2, 3]))).toBe(1);
      const big = new Uint8Array([9, 9, 1, 2, 3, 9]);
      expect(m.get(big.subarray(2, 5))).toBe(1);
      expect(m.get(new Uint8Array([1, 2]))).toBeUndefined();
      expect(m.get(new Uint8Array([1, 2, 3, 0]))).toBeUndefined();
      m.set(new Uint8Array(0), 2);
      expect(m.get(Buffer.alloc(0))).toBe(2);
      m.set(Buffer.alloc(1000, 7), 3);
      expect(m.get(new Uint8Array(1000).fill(7))).toBe(3);
      expect(m.size).toBe(3);
      const ks = [...m.keys()];
      expect(ks.every((k) => Buffer.isBuffer(k))).toBe(true);
      expect(ks.map((k) => (k as Buffer).length).sort((a, b) => a - b)).toEqual([0, 3, 1000]);
      expect(ks.some((k) => k === u)).toBe(false);
    });

    it("'bytes' keys are copied in: mutating the input after set changes nothing", () => {
      const m = makeMap({ key: 'bytes', value: 'string' });
      const k = Buffer.from('hello');
      m.set(k, 'v');
      k.write('jello');
      expect(m.get(Buffer.from('hello'))).toBe('v');
      expect(m.get(Buffer.from('jello'))).toBeUndefined();
      const [stored] = [...m.keys()] as Buffer[];
      expect(stored!.toString()).toBe('hello');
      stored!.write('x');
      expect(m.get(Buffer.from('hello'))).toBe('v');
    });

    it("'bytes' values: copied in, returned as a new Buffer on every read", () => {
      const m = makeMap({ key: 'string', value: 'bytes' });
      const v = new Uint8Array([1, 2, 3]);
      m.set('a', v);
      v[0] = 99;
      const r1 = m.get('a') as Buffer;
      expect(Buffer.isBuffer(r1)).toBe(true);
      expect([...r1]).toEqual([1, 2, 3]);
      r1[1] = 42;
      const r2 = m.get('a') as Buffer;
      expect(r2).not.toBe(r1);
      expect([...r2]).toEqual([1, 2, 3]);
      const backing = new Uint8Array([7, 7, 4, 5, 7]);
      m.set('view', backing.subarray(2, 4));
      expect([...(m.get('view') as Buffer)]).toEqual([4, 5]);
      m.set('empty', new Uint8Array(0));
      expect((m.get('empty') as Buffer).length).toBe(0);
      const mb = Buffer.alloc(1 << 20, 3);
      m.set('1MB', mb);
      expect((m.get('1MB') as Buffer).equals(mb)).toBe(true);
      expect((m.lookup('a')[0] as Buffer).equals(Buffer.from([1, 2, 3]))).toBe(true);
      expect((m.getMany(['view'])[0] as Buffer).equals(Buffer.from([4, 5]))).toBe(true);
    });

    it("'json' values: stored encoded, read back as fresh copies", () => {
      const m = makeMap({ key: 'string', value: 'json' });
      const v = { a: [1, 'two', null, true, { deep: '\uD800' }], n: -1.5, s: '', date: new Date(0) };
      m.set('v', v);
      const r1 = m.get('v');
      expect(r1).toEqual(JSON.parse(JSON.stringify(v)));
      expect(r1).not.toBe(v);
      (r1 as { n: number }).n = 99;
      v.a.length = 0;
      expect(m.get('v')).toEqual({ a: [1, 'two', null, true, { deep: '\uD800' }], n: -1.5, s: '', date: '1970-01-01T00:00:00.000Z' });
      for (const x of [0, 'str', null, [], {}, true, [[[]]], { __proto__: null, x: 1 }]) {
        m.set('x', x);
        expect(m.get('x')).toEqual(JSON.parse(JSON.stringify(x)));
      }
      m.set('toJSON', { toJSON: () => 'custom' });
      expect(m.get('toJSON')).toBe('custom');
      const own = JSON.parse('{"__proto__": {"polluted": 1}}') as object;
      m.set('proto', own);
      const back = m.get('proto') as Record<string, unknown>;
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(Object.prototype.hasOwnProperty.call(back, '__proto__')).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it("'json' values reject undefined, functions, symbols and BigInt with TypeError", () => {
      const m = makeMap({ key: 'string', value: 'json' });
      m.set('keep', { ok: 1 });
      for (const bad of [undefined, () => 1, Symbol('s'), 1n, { big: 1n }]) {
        expectTypeError(() => m.set('bad', bad), /json/i);
      }
      expect(m.has('bad')).toBe(false);
      expect(m.size).toBe(1);
      expect(m.get('keep')).toEqual({ ok: 1 });
    });

    it("'v8' values: Date, Map, Set, nested objects, typed arrays, bigint, cycles", () => {
      const m = makeMap({ key: 'string', value: 'v8' });
      const cyclic: Record<string, unknown> = { name: 'c' };
      cyclic.self = cyclic;
      const samples: unknown[] = [
        new Date(1_700_000_000_000),
        new Map<unknown, unknown>([[1, { a: [1n, 'x'] }], ['k', new Set([1, 2])]]),
        new Set(['a', 'b']),
        { nested: { deeper: { deepest: [1, 2, { x: null }] } }, when: new Date(5) },
        new Float64Array([1.5, NaN, -0]),
        Buffer.from('buf'),
        12345678901234567890n,
        /re/gi,
        [1, , 3],
        -0,
        NaN,
        'str',
        null,
      ];
      samples.forEach((s, i) => m.set(`s${i}`, s));
      samples.forEach((s, i) => {
        const got = m.get(`s${i}`);
        if (typeof s === 'object' && s !== null) expect(got).not.toBe(s);
        expect(valuesEqual('v8', got, expectedValue('v8', s)), `sample ${i}`).toBe(true);
      });
      expect(m.get('s0')).toBeInstanceOf(Date);
      expect((m.get('s0') as Date).getTime()).toBe(1_700_000_000_000);
      expect(m.get('s1')).toBeInstanceOf(Map);
      expect(Object.is(m.get('s9'), -0)).toBe(true);
      m.set('cyclic', cyclic);
      const c = m.get('cyclic') as Record<string, unknown>;
      expect(c).not.toBe(cyclic);
      expect(c.self).toBe(c);
      expect(c.name).toBe('c');
      const d = m.get('s0') as Date;
      d.setTime(0);
      expect((m.get('s0') as Date).getTime()).toBe(1_700_000_000_000);
    });

    it("'v8' values reject functions and symbols with TypeError", () => {
      const m = makeMap({ key: 'string', value: 'v8' });
      for (const bad of [() => 1, Symbol('s'), { f() {} }]) expectTypeError(() => m.set('bad', bad), /v8/i);
      expect(m.size).toBe(0);
    });

    it("'any' values come back as the same live objects, through every read", () => {
      const m = makeMap({ key: 'string', value: 'any' });
      const o = { a: 1 };
      const f = (): void => {};
      const s = Symbol('v');
      m.set('o', o).set('f', f).set('s', s);
      expect(m.get('o')).toBe(o);
      expect(m.lookup('o')[0]).toBe(o);
      expect(m.getMany(['f', 's'])).toEqual([f, s]);
      expect(m.getMany(['f'])[0]).toBe(f);
      expect([...m.values()]).toContain(o);
      expect(new Map([...m]).get('o')).toBe(o);
      let seen: unknown;
      m.forEach((v, k) => {
        if (k === 'o') seen = v;
      });
      expect(seen).toBe(o);
      o.a = 2;
      expect((m.get('o') as { a: number }).a).toBe(2);
    });

    it("'any' values keep their identity across growth", () => {
      const m = makeMap({ key: 'f64', value: 'any' });
      const objs = Array.from({ length: 20_000 }, (_, i) => ({ i }));
      objs.forEach((o, i) => m.set(i, o));
      expect(m.stats().grows).toBeGreaterThan(5);
      objs.forEach((o, i) => {
        if (m.get(i) !== o) throw new Error(`identity lost for ${i}`);
      });
    });
  });
});
