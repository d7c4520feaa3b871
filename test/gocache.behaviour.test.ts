/**
 * GoCache behaviour (API.md "GoCache"): options, recency (get vs peek), onEvict reasons,
 * ttl with real timers (generous margins, no timing assertions), stats, iteration,
 * errors and close.
 */
import { expect, it } from 'vitest';
import { GoCache, type EvictionReason } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Loose = GoCache<unknown, unknown>;
const make = (o: Record<string, unknown>): Loose => new GoCache<unknown, unknown>(o as never);

function recorder(): { log: [unknown, unknown, EvictionReason][]; onEvict: (v: unknown, k: unknown, r: EvictionReason) => void } {
  const log: [unknown, unknown, EvictionReason][] = [];
  return { log, onEvict: (v, k, r) => log.push([k, v, r]) };
}

describeEachBackend('GoCache: options', () => {
  it('needs max, maxBytes or ttl', () => {
    expect(() => make({ key: 'string' })).toThrow(TypeError);
    expect(() => make({ key: 'string' })).toThrow(/at least one of/);
  });
  it('rejects bad options with TypeError / RangeError', () => {
    expect(() => make({ max: 0 })).toThrow(RangeError);
    expect(() => make({ max: 1.5 })).toThrow(RangeError);
    expect(() => make({ max: '10' })).toThrow(TypeError);
    expect(() => make({ maxBytes: -1 })).toThrow(RangeError);
    expect(() => make({ ttl: -5 })).toThrow(RangeError);
    expect(() => make({ ttl: 2 ** 32 })).toThrow(RangeError);
    expect(() => make({ max: 1, key: 'nope' })).toThrow(TypeError);
    expect(() => make({ max: 1, colour: 'red' })).toThrow(/no option 'colour'/);
    expect(() => make({ max: 1, onEvict: 3 })).toThrow(TypeError);
    expect(() => make({ max: 1, fetch: {} })).toThrow(TypeError);
    expect(() => make({ maxBytes: 100 })).toThrow(/sizeOf/); // 'any' values need sizeOf
    expect(() => make({ max: 1, value: 'string', sizeOf: () => 1 })).toThrow(/'any' values only/);
    expect(() => make(null as never)).toThrow(TypeError);
  });
  it('shared: true makes a shared cache and needs non-any kinds', () => {
    const c = make({ max: 10, key: 'string', value: 'string', shared: true });
    expect(c.shared).toBe(true);
    c.close();
    expect(() => make({ max: 10, shared: true })).toThrow(/'string', 'f64', 'i64', 'bytes'/);
    expect(() => make({ max: 10, shared: 'yes' })).toThrow(TypeError);
  });
  it('a key or value of the wrong kind throws TypeError and changes nothing', () => {
    const c = make({ max: 10, key: 'i64', value: 'f64' });
    c.set(1n, 1);
    expect(() => c.set(1, 2)).toThrow(TypeError);
    expect(() => c.set(2n, 'x')).toThrow(TypeError);
    expect(() => c.get('a')).toThrow(TypeError);
    expect(() => c.set(3n, 1, { ttl: -1 })).toThrow(RangeError);
    expect(c.size).toBe(1);
    expect(c.get(1n)).toBe(1);
    c.close();
  });
});

describeEachBackend('GoCache: recency', () => {
  it('get protects an entry from eviction, peek does not', () => {
    // Same inserts in two caches; the first half is read with get in one and peek in the other.
    const a = make({ max: 64, key: 'f64', value: 'f64', seed: 1n });
    const b = make({ max: 64, key: 'f64', value: 'f64', seed: 1n });
    for (let i = 0; i < 64; i++) {
      a.set(i, i);
      b.set(i, i);
    }
    for (let i = 0; i < 32; i++) {
      expect(a.get(i)).toBe(i);
      expect(b.peek(i)).toBe(i);
    }
    for (let i = 100; i < 132; i++) {
      a.set(i, i);
      b.set(i, i);
    }
    let keptA = 0;
    let keptB = 0;
    for (let i = 0; i < 32; i++) {
      keptA += a.has(i) ? 1 : 0;
      keptB += b.has(i) ? 1 : 0;
    }
    expect(keptA).toBe(32);
    expect(keptB).toBeLessThan(32);
    expect(a.stats().hits).toBe(32);
    expect(b.stats().hits).toBe(0);
    a.close();
    b.close();
  });
  it('a hot set read between inserts survives a long stream of one-time keys', () => {
    const c = make({ max: 1000, key: 'string', value: 'string' });
    for (let i = 0; i < 1000; i++) c.set(`k${i}`, 'v');
    for (let round = 0; round < 100; round++) {
      for (let h = 0; h < 50; h++) c.get(`k${h}`);
      for (let j = 0; j < 50; j++) c.set(`once${round}:${j}`, 'x');
    }
    for (let h = 0; h < 50; h++) expect(c.has(`k${h}`)).toBe(true);
    expect(c.size).toBe(1000);
    c.close();
  });
});

describeEachBackend('GoCache: onEvict reasons', () => {
  it('evict, set, delete, clear', () => {
    const r = recorder();
    const c = make({ max: 2, key: 'string', value: 'string', onEvict: r.onEvict });
    c.set('a', '1');
    c.set('a', '2');
    expect(r.log).toEqual([['a', '1', 'set']]);
    c.set('b', '3');
    c.set('c', '4');
    expect(r.log.length).toBe(2);
    expect(r.log[1]![2]).toBe('evict');
    expect(['a', 'b']).toContain(r.log[1]![0]);
    expect(c.delete('c')).toBe(true);
    expect(c.delete('c')).toBe(false);
    expect(r.log[2]).toEqual(['c', '4', 'delete']);
    c.clear();
    expect(r.log.length).toBe(4);
    expect(r.log[3]![2]).toBe('delete');
    expect(c.size).toBe(0);
    c.close();
  });
  it("'any' values: the same value set again is not reported; objects are the live ones", () => {
    const r = recorder();
    const c = make({ max: 1, onEvict: r.onEvict });
    const v = { big: 1 };
    const key = { id: 1 };
    c.set(key, v);
    c.set(key, v);
    expect(r.log).toEqual([]);
    const w = { big: 2 };
    c.set(key, w);
    expect(r.log.length).toBe(1);
    expect(r.log[0]![0]).toBe(key);
    expect(r.log[0]![1]).toBe(v);
    expect(r.log[0]![2]).toBe('set');
    c.set('other', 1);
    expect(r.log[1]![0]).toBe(key);
    expect(r.log[1]![1]).toBe(w);
    expect(r.log[1]![2]).toBe('evict');
    expect(c.get(key)).toBeUndefined();
    c.close();
  });
  it('an entry larger than maxBytes is refused and reported as evicted', () => {
    const r = recorder();
    const c = make({ maxBytes: 20, key: 'string', value: 'string', onEvict: r.onEvict });
    c.set('k', 'small');
    c.set('k', 'x'.repeat(100));
    expect(c.has('k')).toBe(false);
    expect(r.log).toEqual([
      ['k', 'small', 'delete'],
      ['k', 'x'.repeat(100), 'evict'],
    ]);
    expect(c.stats().bytes).toBe(0);
    c.close();
  });
  it('an onEvict that throws does not stop the others; the first error is rethrown', () => {
    const seen: unknown[] = [];
    const c = make({
      max: 10,
      key: 'f64',
      value: 'f64',
      onEvict: (_v: unknown, k: unknown) => {
        seen.push(k);
        throw new Error(`boom ${String(k)}`);
      },
    });
    for (let i = 0; i < 3; i++) c.set(i, i);
    expect(() => c.clear()).toThrow(/boom/);
    expect(seen.length).toBe(3);
    expect(c.size).toBe(0);
    c.close();
  });
});

describeEachBackend('GoCache: ttl with real timers', () => {
  it('entries expire after their ttl; reads remove them with reason expire', async () => {
    const r = recorder();
    const c = make({ ttl: 300, key: 'string', value: 'string', onEvict: r.onEvict });
    c.set('a', '1');
    c.set('b', '2', { ttl: 0 }); // never expires
    c.set('c', '3', { ttl: 60_000 });
    expect(c.get('a')).toBe('1');
    const left = c.getRemainingTTL('a');
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(300);
    expect(c.getRemainingTTL('b')).toBe(Infinity);
    expect(c.getRemainingTTL('zzz')).toBe(0);
    await sleep(1000);
    expect(c.get('a')).toBeUndefined();
    expect(c.has('a')).toBe(false);
    expect(c.get('b')).toBe('2');
    expect(c.get('c')).toBe('3');
    expect(r.log).toEqual([['a', '1', 'expire']]);
    expect(c.stats().expirations).toBe(1);
    c.close();
  });
  it('iteration skips expired entries and purgeStale removes them', async () => {
    const c = make({ ttl: 50, key: 'f64', value: 'f64' });
    for (let i = 0; i < 100; i++) c.set(i, i);
    c.set(1000, 1, { ttl: 0 });
    await sleep(300);
    expect([...c.keys()]).toEqual([1000]);
    c.purgeStale();
    expect(c.size).toBe(1);
    expect(c.stats().expirations).toBe(100);
    c.close();
  });
  it('updateAgeOnGet keeps a read entry alive', async () => {
    // Reads every 250 ms keep a 1000 ms entry alive for 1500 ms; the idle one expires.
    const c = make({ ttl: 1000, updateAgeOnGet: true, key: 'string', value: 'f64' });
    c.set('kept', 1);
    c.set('idle', 2);
    for (let i = 0; i < 6; i++) {
      await sleep(250);
      expect(c.get('kept')).toBe(1);
    }
    expect(c.peek('idle')).toBeUndefined();
    c.close();
  });
});

describeEachBackend('GoCache: expired entries go before live ones (manual clock)', () => {
  const manualClock = Symbol.for('gomap.cache.manualClock');
  it('inserts into a full cache remove the expired entries, wherever they are, before any live one', () => {
    const r = recorder();
    const c = make({ max: 5000, key: 'f64', value: 'f64', onEvict: r.onEvict });
    (c as unknown as Record<symbol, (ms: number) => void>)[manualClock]!(1000);
    for (let i = 0; i < 5000; i++) c.set(i, i, { ttl: i % 500 === 0 ? 100 : 0 });
    for (let i = 0; i < 5000; i++) c.get(i); // every entry recently used
    (c as unknown as Record<symbol, (ms: number) => void>)[manualClock]!(2000);
    for (let i = 0; i < 10; i++) c.set(10_000 + i, 0);
    expect(r.log.map((e) => e[2])).toEqual(new Array(10).fill('expire'));
    expect(r.log.every((e) => (e[0] as number) % 500 === 0)).toBe(true);
    expect(c.size).toBe(5000);
    c.set(20_000, 0);
    expect(r.log[10]![2]).toBe('evict');
    c.close();
  });
});

describeEachBackend('GoCache: stats, iteration, lifetime', () => {
  it('stats count hits, misses, evictions and bytes', () => {
    const c = make({ max: 3, key: 'string', value: 'string' });
    c.set('ab', 'cde');
    expect(c.stats().bytes).toBe(5);
    c.get('ab');
    c.get('nope');
    c.peek('nope');
    for (let i = 0; i < 5; i++) c.set(`x${i}`, 'v');
    expect(c.stats()).toMatchObject({ hits: 1, misses: 1, evictions: 3, expirations: 0, size: 3 });
    c.close();
  });
  it('iterates live entries of every shape', () => {
    const c = make({ max: 100, key: 'any', value: 'json' });
    const obj = {};
    c.set(obj, { a: 1 });
    c.set('s', [1, 2]);
    c.set(7n, null);
    const entries = new Map(c.entries());
    expect(entries.get(obj)).toEqual({ a: 1 });
    expect(entries.get('s')).toEqual([1, 2]);
    expect(entries.get(7n)).toBeNull();
    expect([...c.values()].length).toBe(3);
    let n = 0;
    c.forEach(() => n++);
    expect(n).toBe(3);
    expect(Object.prototype.toString.call(c)).toBe('[object GoCache]');
    c.close();
  });
  it('a closed cache throws ERR_GOMAP_CLOSED', () => {
    const c = make({ max: 3, key: 'string', value: 'string' });
    c.close();
    c.close();
    for (const fn of [() => c.get('a'), () => c.set('a', 'b'), () => c.size, () => c.stats(), () => c.clear(), () => [...c.keys()]]) {
      let code: unknown;
      try {
        fn();
      } catch (e) {
        code = (e as { code?: unknown }).code;
      }
      expect(code).toBe('ERR_GOMAP_CLOSED');
    }
  });
});
