/**
 * The façade over the native engine (lib/go-map.ts), every method for every key kind x
 * value kind: the 'any'-key identity ids, the 'any'-value slab, the json/v8 codecs, the
 * JS-side size, batched iteration with re-validation after mutation, and the checks
 * made in JS before anything crosses into native code.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { binding } from '../lib/backend.ts';
import { GoMap } from '../lib/index.ts';
import {
  KEY_KINDS,
  VALUE_KINDS,
  bulkKey,
  bulkValue,
  expectedValue,
  isAllowedError,
  makeMap,
  modelKey,
  valuesEqual,
  type LooseMap,
} from './helpers/kinds.ts';

function sameValue(kind: (typeof VALUE_KINDS)[number], actual: unknown, stored: unknown): boolean {
  return valuesEqual(kind, actual, expectedValue(kind, stored));
}

describe('GoMap façade: every method for every key kind x value kind', () => {
  for (const keyKind of KEY_KINDS) {
    for (const valueKind of VALUE_KINDS) {
      it(`${keyKind} -> ${valueKind}`, () => {
        const N = 300;
        const m = makeMap({ key: keyKind, value: valueKind, hint: 10, seed: 5n });
        const k = (i: number): unknown => bulkKey(keyKind, i);
        const stored = Array.from({ length: N + 3 }, (_, i) => bulkValue(valueKind, i)); // 'any' values compare by identity
        const v = (i: number): unknown => stored[i];
        for (let i = 0; i < N; i++) expect(m.set(k(i), v(i))).toBe(m);
        expect(m.size).toBe(N);
        for (let i = 0; i < N; i++) {
          expect(sameValue(valueKind, m.get(k(i)), v(i)), `get ${i}`).toBe(true);
          expect(m.has(k(i))).toBe(true);
          const [got, ok] = m.lookup(k(i));
          expect(ok).toBe(true);
          expect(sameValue(valueKind, got, v(i))).toBe(true);
        }
        expect(m.lookup(k(N + 1))).toEqual([undefined, false]);
        expect(m.has(k(N + 1))).toBe(false);
        // overwrite keeps size
        m.set(k(0), v(1));
        expect(m.size).toBe(N);
        expect(sameValue(valueKind, m.get(k(0)), v(1))).toBe(true);
        // getMany / setMany
        const many = m.getMany([k(1), k(N + 5), k(2)]);
        expect(many).toHaveLength(3);
        expect(sameValue(valueKind, many[0], v(1))).toBe(true);
        expect(many[1]).toBeUndefined();
        m.setMany([
          [k(N), v(N)],
          [k(N + 1), v(N + 1)],
          [k(N), v(N + 2)],
        ]);
        expect(m.size).toBe(N + 2);
        expect(sameValue(valueKind, m.get(k(N)), v(N + 2))).toBe(true);
        // delete
        expect(m.delete(k(N))).toBe(true);
        expect(m.delete(k(N))).toBe(false);
        expect(m.size).toBe(N + 1);
        // iteration: keys, values, entries, forEach agree with get
        const seen = new Set<unknown>();
        for (const [key, value] of m) {
          const mk = modelKey(keyKind, key);
          expect(seen.has(mk)).toBe(false);
          seen.add(mk);
          const direct = m.get(key);
          if (valueKind === 'any' || valueKind === 'f64' || valueKind === 'i64' || valueKind === 'string') {
            expect(Object.is(value, direct)).toBe(true);
          }
        }
        expect(seen.size).toBe(N + 1);
        expect([...m.keys()]).toHaveLength(N + 1);
        expect([...m.values()]).toHaveLength(N + 1);
        let calls = 0;
        m.forEach(() => calls++);
        expect(calls).toBe(N + 1);
        // stats / reserve / shrink
        m.reserve(5000);
        expect(m.stats().count).toBe(N + 1);
        for (let i = 0; i < N; i += 1) if (i % 10) m.delete(k(i));
        m.shrink();
        expect(m.stats().count).toBe(m.size);
        expect(m.stats().shrinks).toBe(1);
        for (let i = 0; i < N; i += 10) expect(sameValue(valueKind, m.get(k(i)), i === 0 ? v(1) : v(i))).toBe(true);
        // clear, then reuse
        m.clear();
        expect(m.size).toBe(0);
        expect([...m]).toEqual([]);
        m.set(k(7), v(7));
        expect(m.size).toBe(1);
        expect(sameValue(valueKind, m.get(k(7)), v(7))).toBe(true);
        m.close();
        m.close();
      });
    }
  }
});

describe("'any' keys: identity ids", () => {
  it('an object key is held while stored and forgotten when deleted; ids are never reused', () => {
    const m = new GoMap<unknown, number>();
    const a = {};
    const b = {};
    m.set(a, 1);
    m.delete(a);
    m.set(b, 2);
    expect(m.get(a)).toBeUndefined();
    expect(m.get(b)).toBe(2);
    expect([...m.keys()]).toEqual([b]);
    m.set(a, 3);
    expect(new Set(m.keys())).toEqual(new Set([a, b]));
    m.clear();
    expect(m.get(b)).toBeUndefined();
    m.set(b, 4);
    expect(m.get(b)).toBe(4);
  });

  it('getMany / setMany with object keys, duplicates and unknown objects', () => {
    const m = new GoMap<unknown, string>(null, { value: 'string' });
    const o = { o: 1 };
    const s = Symbol('s');
    m.setMany([
      [o, 'a'],
      [s, 'b'],
      [o, 'c'],
      ['o', 'd'],
    ]);
    expect(m.size).toBe(3);
    expect(m.getMany([o, s, {}, 'o', Symbol('s')])).toEqual(['c', 'b', undefined, 'd', undefined]);
    // a failed batch stores nothing and leaves no identity behind
    const fresh = {};
    expect(() => m.setMany([[fresh, 'x'], ['bad', 1 as never]])).toThrow(TypeError);
    expect(m.has(fresh)).toBe(false);
    expect(m.size).toBe(3);
  });

  it("set with a value the native side refuses leaves no identity behind ('string' values)", () => {
    const m = new GoMap<unknown, string>(null, { value: 'string' });
    const o = {};
    expect(() => m.set(o, 5 as never)).toThrow(TypeError);
    expect(m.has(o)).toBe(false);
    expect([...m.keys()]).toEqual([]);
  });
});

describe("'any' values: the slab", () => {
  it('reuses freed cells and keeps identities through set / delete / setMany / clear', () => {
    const m = new GoMap<number, object>(null, { key: 'f64' });
    const objs = Array.from({ length: 100 }, (_, i) => ({ i }));
    objs.forEach((o, i) => m.set(i, o));
    for (let i = 0; i < 100; i += 2) m.delete(i);
    m.setMany(objs.map((o, i) => [i + 1000, o] as [number, object]));
    for (let i = 1; i < 100; i += 2) expect(m.get(i)).toBe(objs[i]);
    for (let i = 0; i < 100; i++) expect(m.get(i + 1000)).toBe(objs[i]);
    m.set(1, objs[0]!);
    expect(m.get(1)).toBe(objs[0]);
    expect(m.size).toBe(150);
    const values = new Set(m.values());
    expect(values.size).toBe(100); // each object appears, some twice
    m.clear();
    m.set(1, objs[5]!);
    expect([...m.entries()]).toEqual([[1, objs[5]]]);
  });

  it('a failed setMany gives its cells back', () => {
    const m = new GoMap<number, unknown>(null, { key: 'f64' });
    m.set(1, 'one');
    expect(() => m.setMany([[2, 'two'], ['x' as never, 'bad key']])).toThrow(TypeError);
    expect(m.size).toBe(1);
    m.set(3, 'three');
    expect(m.get(3)).toBe('three');
    expect(m.get(1)).toBe('one');
  });
});

describe('iteration under mutation (re-validation of the fetched batch)', () => {
  it('entries deleted after their batch was fetched are not produced; updated ones show the new value', () => {
    for (const valueKind of ['f64', 'any', 'json'] as const) {
      const m = makeMap({ key: 'f64', value: valueKind });
      for (let i = 0; i < 2000; i++) m.set(i, valueKind === 'json' ? { i } : i);
      const produced = new Map<number, unknown>();
      let first = true;
      for (const [k, v] of m) {
        produced.set(k as number, v);
        if (first) {
          first = false;
          // everything else: delete the odd keys, update the even ones
          for (let i = 0; i < 2000; i++) {
            if (i === k) continue;
            if (i % 2) m.delete(i);
            else m.set(i, valueKind === 'json' ? { i: -i - 1 } : -i - 1);
          }
        }
      }
      for (const [k, v] of produced) {
        if (produced.size === 1) break;
        if (k === [...produced.keys()][0]) continue;
        expect(k % 2, `key ${k} was deleted before it was reached`).toBe(0);
        const expected = valueKind === 'json' ? { i: -k - 1 } : -k - 1;
        expect(v).toEqual(expected);
      }
      expect(produced.size).toBe(1000 + (([...produced.keys()][0]! % 2) as number));
    }
  });

  it('keys() re-validates with has(); clear() during iteration ends it', () => {
    const m = makeMap({ key: 'string', value: 'f64' });
    for (let i = 0; i < 500; i++) m.set(`k${i}`, i);
    let n = 0;
    for (const k of m.keys()) {
      n++;
      if (n === 1) expect(typeof k).toBe('string');
      if (n === 3) m.clear();
    }
    expect(n).toBe(3);
  });

  it('an iterator over a closed map throws ERR_GOMAP_CLOSED, a finished one stays done', () => {
    const m = makeMap({ key: 'i64', value: 'f64' });
    m.set(1n, 1);
    const done = m.keys();
    expect([...done]).toEqual([1n]);
    const open = m.keys();
    m.close();
    expect(done.next()).toEqual({ done: true, value: undefined });
    expect(() => open.next()).toThrow(expect.objectContaining({ code: 'ERR_GOMAP_CLOSED' }) as Error);
  });

  it('return() and [Symbol.dispose]() free the native iterator', () => {
    const m = makeMap({ key: 'f64', value: 'f64' });
    for (let i = 0; i < 1000; i++) m.set(i, i);
    const base = binding.liveHandles().iterators;
    const it = m.entries();
    for (let i = 0; i < 100; i++) it.next();
    expect(binding.liveHandles().iterators).toBe(base + 1);
    expect(it.return!()).toEqual({ done: true, value: undefined });
    expect(binding.liveHandles().iterators).toBe(base);
    const it2 = m.values();
    for (let i = 0; i < 100; i++) it2.next();
    (it2 as unknown as Disposable)[Symbol.dispose]();
    expect(binding.liveHandles().iterators).toBe(base);
    for (const _ of m) break; // for-of break calls return()
    expect(binding.liveHandles().iterators).toBe(base);
    m.close();
  });

  it('iterators inherit from %IteratorPrototype%', () => {
    const m = makeMap();
    const proto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object;
    expect(Object.getPrototypeOf(Object.getPrototypeOf(m.keys()))).toBe(proto);
    expect(Object.prototype.toString.call(m.entries())).toBe('[object GoMap Iterator]');
  });
});

describe('errors', () => {
  it('messages name the expected kind and the received type', () => {
    const cases: [LooseMap, () => unknown, RegExp][] = [];
    const i64 = makeMap({ key: 'i64', value: 'f64' });
    cases.push([i64, () => i64.set(1, 1), /key must be a bigint for key kind 'i64', got number/]);
    cases.push([i64, () => i64.set(1n, 'x'), /value must be a number for value kind 'f64', got string/]);
    const str = makeMap({ key: 'string', value: 'bytes' });
    cases.push([str, () => str.get(Buffer.from('x')), /key must be a string for key kind 'string', got Uint8Array/]);
    cases.push([str, () => str.set('a', [1]), /value must be a Uint8Array or Buffer for value kind 'bytes', got array/]);
    const json = makeMap({ key: 'f64', value: 'json' });
    cases.push([json, () => json.set(1, undefined), /JSON-serializable for value kind 'json', got undefined/]);
    const v8m = makeMap({ key: 'f64', value: 'v8' });
    cases.push([v8m, () => v8m.set(1, () => 1), /structured-cloneable for value kind 'v8'/]);
    for (const [, fn, re] of cases) {
      let error: unknown;
      try {
        fn();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(re);
      expect((error as { code?: string }).code).toBe('ERR_INVALID_ARG_TYPE');
    }
  });

  it('unknown options are refused (catches typos such as keyKind)', () => {
    expect(() => new GoMap(null, { keyKind: 'string' } as never)).toThrow(/no option 'keyKind'/);
  });

  it('i64 keys and values out of range are RangeErrors; huge bigint any-keys work', () => {
    const m = makeMap({ key: 'i64', value: 'i64' });
    expect(() => m.set(2n ** 63n, 1n)).toThrow(RangeError);
    expect(() => m.set(1n, -(2n ** 63n) - 1n)).toThrow(RangeError);
    const a = makeMap();
    const big = -(2n ** 4000n) + 17n;
    a.set(big, 'big');
    expect(a.get(-(2n ** 4000n) + 17n)).toBe('big');
    expect([...a.keys()]).toEqual([big]);
    a.set(0n, 'zero');
    a.set(-1n, 'minus one');
    a.set(255n, '255');
    a.set(256n, '256');
    expect(a.getMany([0n, -1n, 1n, 255n, 256n, -255n])).toEqual(['zero', 'minus one', undefined, '255', '256', undefined]);
    expect(new Set(a.keys())).toEqual(new Set([big, 0n, -1n, 255n, 256n]));
  });

  it('only allowed errors from a stream of random calls on every kind', () => {
    const junk: unknown[] = [undefined, null, NaN, -0, 1.5, 2 ** 64, '', 'x'.repeat(200), 1n, 2n ** 64n, {}, [], Symbol('j'), Buffer.alloc(20), new Uint16Array(2), () => 0];
    for (const keyKind of KEY_KINDS) {
      for (const valueKind of VALUE_KINDS) {
        const m = makeMap({ key: keyKind, value: valueKind });
        for (const a of junk) {
          for (const b2 of junk) {
            for (const call of [() => m.set(a, b2), () => m.get(a), () => m.delete(a), () => m.setMany([[a, b2]]), () => m.getMany([a, b2])]) {
              try {
                call();
              } catch (e) {
                if (!isAllowedError(e)) throw e;
              }
            }
          }
        }
        m.close();
      }
    }
  });
});

describe('packed batches (typed arrays and joined strings instead of one Node-API call per element)', () => {
  const strings = ['', 'a', 'é', '\uD800', 'x\uDC00y', '😀', 'user:12345', 'ü'.repeat(13), 'k'.repeat(40), '\u0100'.repeat(20), 'z'.repeat(5000)];

  it('getMany / setMany / iteration agree with single calls for f64, i64 and string keys', () => {
    for (const keyKind of ['f64', 'i64', 'string'] as const) {
      for (const valueKind of ['f64', 'i64', 'any', 'string', 'json', 'bytes', 'v8'] as const) {
        const m = makeMap({ key: keyKind, value: valueKind });
        const n = 3000;
        const key = (i: number): unknown =>
          keyKind === 'f64' ? (i % 2 ? -i * 0.5 : i) : keyKind === 'i64' ? BigInt(i) * -3n : i < strings.length ? strings[i] : `s${i}\uD83D`;
        const stored = Array.from({ length: n }, (_, i) => bulkValue(valueKind, i));
        const entries = Array.from({ length: n }, (_, i) => [key(i), stored[i]] as const);
        m.setMany(entries);
        expect(m.size).toBe(n);
        const probe = Array.from({ length: 2 * n }, (_, i) => (i < n ? key(n - 1 - i) : keyKind === 'string' ? `miss${i}` : key(i + 10 * n)));
        const got = m.getMany(probe);
        for (let i = 0; i < 2 * n; i++) {
          if (i < n) expect(sameValue(valueKind, got[i], stored[n - 1 - i]), `${keyKind}->${valueKind} #${i}`).toBe(true);
          else expect(got[i]).toBeUndefined();
        }
        let count = 0;
        for (const [k, v] of m) {
          count++;
          expect(sameValue(valueKind, v, m.get(k))).toBe(true);
        }
        expect(count).toBe(n);
        const keys = new Set(m.keys());
        for (let i = 0; i < n; i++) expect(keys.has(key(i))).toBe(true);
        m.close();
      }
    }
  });

  it('falls back to the generic calls (and their errors) for mixed or wrong types', () => {
    const m = makeMap({ key: 'f64', value: 'f64' });
    const good = Array.from({ length: 20 }, (_, i) => [i, i] as [number, number]);
    expect(() => m.setMany([...good, ['x', 1]])).toThrow(/key must be a number for key kind 'f64', got string/);
    expect(() => m.setMany([...good, [1, 1n]])).toThrow(/value must be a number for value kind 'f64', got bigint/);
    expect(m.size).toBe(0);
    m.setMany(good);
    expect(() => m.getMany([...Array(20).keys(), 'x'])).toThrow(TypeError);
    const i64 = makeMap({ key: 'i64', value: 'i64' });
    const big = Array.from({ length: 20 }, (_, i) => [BigInt(i), BigInt(i)] as [bigint, bigint]);
    expect(() => i64.setMany([...big, [2n ** 63n, 1n]])).toThrow(RangeError);
    expect(() => i64.setMany([...big, [1n, 2n ** 64n]])).toThrow(RangeError);
    expect(i64.size).toBe(0);
    const s = makeMap({ key: 'string', value: 'string' });
    expect(() => s.setMany([...Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'] as const), [Buffer.from('k'), 'v']])).toThrow(TypeError);
    expect(s.size).toBe(0);
  });

  it('iteration batches of long strings stay correct across the joined-length cap', () => {
    const m = makeMap({ key: 'string', value: 'string' });
    const n = 200;
    for (let i = 0; i < n; i++) m.set(`${i}:` + 'é\uD800'.repeat(500 + i), 'v'.repeat(1000) + i);
    const seen = new Map<string, string>();
    for (const [k, v] of m) seen.set(k as string, v as string);
    expect(seen.size).toBe(n);
    for (let i = 0; i < n; i++) expect(seen.get(`${i}:` + 'é\uD800'.repeat(500 + i))).toBe('v'.repeat(1000) + i);
  });

  it('getMany of fewer than 8 keys and of an empty list', () => {
    const m = makeMap({ key: 'string', value: 'f64' });
    m.set('a', 1);
    expect(m.getMany([])).toEqual([]);
    expect(m.getMany(['a', 'b'])).toEqual([1, undefined]);
    expect(m.setMany([])).toBe(m);
  });
});

describe('key conversion edges', () => {
  it('strings around the 128-unit stack buffer, Latin-1 and two-byte, as keys and values', () => {
    for (const keyKind of ['string', 'any'] as const) {
      const m = makeMap({ key: keyKind, value: 'string' });
      const keys: string[] = [];
      for (const len of [0, 1, 126, 127, 128, 129, 255, 256, 1000]) {
        keys.push('a'.repeat(len), 'é'.repeat(len), '\u4e00'.repeat(len), 'a'.repeat(Math.max(0, len - 1)) + '\uD800');
      }
      const unique = [...new Set(keys)];
      unique.forEach((k, i) => m.set(k, k + i));
      expect(m.size).toBe(unique.length);
      unique.forEach((k, i) => expect(m.get(k)).toBe(k + i));
      const got = new Set(m.keys());
      for (const k of unique) expect(got.has(k)).toBe(true);
      m.close();
    }
  });

  it("bigint 'any' keys at word boundaries are distinct and round-trip", () => {
    const m = makeMap();
    const ks = [0n, 1n, -1n, 255n, 256n, -256n, 2n ** 63n - 1n, 2n ** 63n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 64n, -(2n ** 64n), 2n ** 128n, -(2n ** 128n) + 1n];
    ks.forEach((k, i) => m.set(k, i));
    expect(m.size).toBe(ks.length);
    ks.forEach((k, i) => expect(m.get(k)).toBe(i));
    expect(m.get(2n ** 64n + 1n)).toBeUndefined();
    expect(new Set(m.keys())).toEqual(new Set(ks));
    // numbers and bigints with the same value are different keys
    expect(m.get(1)).toBeUndefined();
    expect(m.get(255)).toBeUndefined();
  });
});

describe('iteration while the table is reshaped (reserve, shrink, clear) — packed and generic batches', () => {
  function rng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  for (const keyKind of KEY_KINDS) {
    for (const valueKind of ['f64', 'any', 'string'] as const) {
      it(`${keyKind} -> ${valueKind}`, () => {
        for (let seed = 1; seed <= 3; seed++) {
          const rnd = rng(seed * 7919);
          const m = makeMap({ key: keyKind, value: valueKind });
          const live = new Map<unknown, { key: unknown; value: unknown }>();
          let next = 0;
          const put = (i: number, v: number): void => {
            const k = bulkKey(keyKind, i);
            const value = valueKind === 'string' ? `v${v}` : v;
            m.set(k, value);
            live.set(modelKey(keyKind, k), { key: k, value });
          };
          for (; next < 600; next++) put(next, next);
          const atStart = new Set(live.keys());
          const deleted = new Set<unknown>();
          const produced = new Set<unknown>();
          let cleared = false;
          for (const [k, v] of m) {
            const mk = modelKey(keyKind, k);
            expect(produced.has(mk), 'produced twice').toBe(false);
            produced.add(mk);
            const e = live.get(mk);
            expect(e, 'produced a key that is not in the map').toBeDefined();
            expect(Object.is(v, e!.value), 'produced with its current value').toBe(true);
            const r = rnd();
            if (r < 0.3) {
              for (let j = 0; j < 5; j++) put(next++, -next);
            } else if (r < 0.55) {
              const victims = [...live.keys()].slice(0, 3);
              for (const victim of victims) {
                m.delete(live.get(victim)!.key);
                live.delete(victim);
                deleted.add(victim);
              }
            } else if (r < 0.65) {
              m.shrink();
            } else if (r < 0.72) {
              m.reserve(m.size * 4 + 100);
            } else if (r < 0.74 && produced.size > 300) {
              m.clear();
              for (const mk2 of live.keys()) deleted.add(mk2);
              live.clear();
              cleared = true;
            }
          }
          for (const mk of atStart) {
            if (!deleted.has(mk)) expect(produced.has(mk), 'present throughout but never produced').toBe(true);
          }
          expect(m.size).toBe(live.size);
          expect(new Set([...m.keys()].map((k) => modelKey(keyKind, k)))).toEqual(new Set(live.keys()));
          expect(cleared || produced.size >= 300).toBe(true);
          m.close();
        }
      });
    }
  }
});
