/**
 * SyncMap in one thread: Map semantics per key kind, the sync.Map methods (loadOrStore,
 * loadAndDelete, swap, compareAndSwap, compareAndDelete, range), iteration guarantees,
 * handles and views (API.md "SyncMap").
 */
import { Buffer } from 'node:buffer';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { expect, it } from 'vitest';
import { SyncMap } from '../lib/index.ts';
import { syncBinding } from '../lib/sync-binding.ts';
import { describeEachBackend, loadedBackend } from './helpers/backends.ts';
import { checkStatsInvariants, expectClosed, I64_MAX, I64_MIN, SPECIAL_STRINGS } from './helpers/kinds.ts';

v8.setFlagsFromString('--expose-gc');
const gcNow = vm.runInNewContext('gc') as () => void;

/** Full collections plus turns of the event loop, so FinalizationRegistry callbacks run. */
async function collect(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    gcNow();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
  }
}

type Loose = SyncMap<unknown, unknown>;
const make = (key: string, value: string, extra: Record<string, unknown> = {}): Loose =>
  new SyncMap<unknown, unknown>({ key, value, ...extra } as never);

const KEYS: Record<string, unknown[]> = {
  string: ['a', '', 'user:1', 'x'.repeat(100), '\uD800', 'caf\u00e9', '\u{1F600}'],
  f64: [0, 1, -1, 0.5, NaN, Infinity, -Infinity, 2 ** 53, Number.MIN_VALUE],
  i64: [0n, 1n, -1n, I64_MIN, I64_MAX, 2n ** 40n],
  bytes: [Buffer.from([]), Buffer.from([1]), new Uint8Array([1, 2, 3]), Buffer.alloc(40, 7)],
};

describeEachBackend('SyncMap: Map semantics in one thread', () => {
  for (const [kind, keys] of Object.entries(KEYS)) {
    it(`${kind} keys: set / get / has / delete / size / lookup / clear`, () => {
      const m = make(kind, 'string');
      expect(m.size).toBe(0);
      keys.forEach((k, i) => expect(m.set(k, `v${i}`)).toBe(m));
      expect(m.size).toBe(keys.length);
      keys.forEach((k, i) => {
        expect(m.get(k)).toBe(`v${i}`);
        expect(m.has(k)).toBe(true);
        expect(m.lookup(k)).toEqual([`v${i}`, true]);
      });
      m.set(keys[0], 'again');
      expect(m.size).toBe(keys.length);
      expect(m.get(keys[0])).toBe('again');
      expect(m.delete(keys[1])).toBe(true);
      expect(m.delete(keys[1])).toBe(false);
      expect(m.has(keys[1])).toBe(false);
      expect(m.get(keys[1])).toBeUndefined();
      expect(m.lookup(keys[1])).toEqual([undefined, false]);
      expect(m.size).toBe(keys.length - 1);
      m.clear();
      expect(m.size).toBe(0);
      for (const k of keys) expect(m.has(k)).toBe(false);
      m.close();
    });
  }

  it('f64 keys compare with SameValueZero; f64 values keep -0 and NaN', () => {
    const m = make('f64', 'f64');
    m.set(-0, -0);
    expect(m.get(0)).toBe(-0);
    expect(Object.is(m.get(0), -0)).toBe(true);
    expect([...m.keys()]).toEqual([0]);
    expect(Object.is([...m.keys()][0], 0)).toBe(true);
    m.set(NaN, NaN);
    expect(m.get(Number('x'))).toBeNaN();
    expect(m.size).toBe(2);
    m.close();
  });

  it('string keys and values round-trip every UTF-16 string', () => {
    const m = make('string', 'string');
    for (const s of SPECIAL_STRINGS) m.set(s, s + '|');
    for (const s of SPECIAL_STRINGS) expect(m.get(s)).toBe(s + '|');
    const seen = new Set([...m.keys()]);
    expect(seen).toEqual(new Set(SPECIAL_STRINGS));
    m.close();
  });

  it('bytes keys and values are copied in and read back as new Buffers', () => {
    const m = make('bytes', 'bytes');
    const k = new Uint8Array([1, 2, 3]);
    const v = Buffer.from('hello');
    m.set(k, v);
    k[0] = 9;
    v[0] = 0x4a;
    expect(m.get(new Uint8Array([1, 2, 3]))).toEqual(Buffer.from('hello'));
    expect(m.has(k)).toBe(false);
    const a = m.get(Buffer.from([1, 2, 3])) as Buffer;
    const b = m.get(Buffer.from([1, 2, 3])) as Buffer;
    expect(Buffer.isBuffer(a)).toBe(true);
    expect(a).not.toBe(b);
    const key = [...m.keys()][0] as Buffer;
    expect(Buffer.isBuffer(key)).toBe(true);
    expect(key.equals(Buffer.from([1, 2, 3]))).toBe(true);
    m.close();
  });

  it("'json' and 'v8' values are stored encoded and read back as copies", () => {
    const j = make('string', 'json');
    const obj = { a: [1, 'x', null], b: { c: true } };
    j.set('k', obj);
    const got = j.get('k');
    expect(got).toEqual(obj);
    expect(got).not.toBe(obj);
    j.close();
    const v = make('i64', 'v8');
    const value = { when: new Date(5), m: new Map([[1, 2n]]), s: new Set(['x']) };
    v.set(1n, value);
    expect(v.get(1n)).toEqual(value);
    v.close();
  });

  it('getMany and setMany cross once each and keep order; later duplicates win', () => {
    const m = make('i64', 'f64');
    m.setMany([
      [1n, 1],
      [2n, 2],
      [1n, 3],
    ]);
    expect(m.size).toBe(2);
    expect(m.getMany([1n, 2n, 3n, 1n])).toEqual([3, 2, undefined, 3]);
    expect(m.getMany(new Set([2n]))).toEqual([2]);
    expect(m.getMany([])).toEqual([]);
    m.setMany(new Map([[5n, 5]]));
    expect(m.get(5n)).toBe(5);
    m.close();
    const j = make('string', 'json');
    j.setMany([['a', { x: 1 }]]);
    expect(j.getMany(['a', 'b'])).toEqual([{ x: 1 }, undefined]);
    j.close();
  });

  it('stats() describes the shared table', () => {
    const m = make('f64', 'f64', { hint: 1000 });
    for (let i = 0; i < 500; i++) m.set(i, i);
    const s = m.stats();
    expect(Object.keys(s).sort()).toEqual(
      ['B', 'buckets', 'bytes', 'count', 'evacuated', 'growing', 'grows', 'loadFactor', 'oldBuckets', 'overflowBuckets', 'sameSizeGrows', 'shrinks'],
    );
    expect(s.count).toBe(500);
    checkStatsInvariants(s, 500);
    expect(s.B).toBeGreaterThanOrEqual(8); // hint 1000: 1000 / 6.5 > 128 buckets
    expect(s.grows).toBe(0); // pre-sized: no growth up to the hint
    expect(s.bytes).toBeGreaterThan(0);
    m.close();
  });

  it('is a Map-like object: toStringTag, forEach with thisArg, iterators, Symbol.dispose', () => {
    const m = make('string', 'f64');
    expect(Object.prototype.toString.call(m)).toBe('[object SyncMap]');
    m.set('a', 1).set('b', 2);
    const seen: [unknown, unknown][] = [];
    const self = {};
    m.forEach(function (this: unknown, v, k, map) {
      expect(this).toBe(self);
      expect(map).toBe(m);
      seen.push([k, v]);
    }, self);
    expect(seen.sort()).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(new Map(m)).toEqual(new Map([['a', 1], ['b', 2]]));
    expect(new Set(m.values())).toEqual(new Set([1, 2]));
    const it = m.keys();
    expect(it[Symbol.iterator]()).toBe(it);
    m[Symbol.dispose]();
    expectClosed(() => m.get('a'));
  });
});

describeEachBackend('SyncMap: the sync.Map methods', () => {
  it('loadOrStore stores once, then loads', () => {
    const m = make('string', 'f64');
    expect(m.loadOrStore('k', 1)).toEqual({ value: 1, loaded: false });
    expect(m.loadOrStore('k', 2)).toEqual({ value: 1, loaded: true });
    expect(m.get('k')).toBe(1);
    m.close();
  });

  it('loadAndDelete returns what it removed', () => {
    const m = make('string', 'json');
    m.set('k', { a: 1 });
    expect(m.loadAndDelete('k')).toEqual({ value: { a: 1 }, loaded: true });
    expect(m.loadAndDelete('k')).toEqual({ value: undefined, loaded: false });
    expect(m.has('k')).toBe(false);
    m.close();
  });

  it('swap returns the previous value', () => {
    const m = make('i64', 'i64');
    expect(m.swap(1n, 10n)).toEqual({ previous: undefined, loaded: false });
    expect(m.swap(1n, 20n)).toEqual({ previous: 10n, loaded: true });
    expect(m.get(1n)).toBe(20n);
    m.close();
  });

  it('compareAndSwap / compareAndDelete compare the encoded bytes', () => {
    const m = make('string', 'f64');
    expect(m.compareAndSwap('k', 1, 2)).toBe(false); // absent never matches
    expect(m.has('k')).toBe(false);
    m.set('k', 1);
    expect(m.compareAndSwap('k', 3, 2)).toBe(false);
    expect(m.get('k')).toBe(1);
    expect(m.compareAndSwap('k', 1, 2)).toBe(true);
    expect(m.get('k')).toBe(2);
    m.set('z', -0);
    expect(m.compareAndSwap('z', 0, 5)).toBe(false); // bits of -0 are not those of 0
    expect(m.compareAndSwap('z', -0, 5)).toBe(true);
    m.set('n', NaN);
    expect(m.compareAndDelete('n', NaN)).toBe(true);
    expect(m.compareAndDelete('k', 1)).toBe(false);
    expect(m.compareAndDelete('k', 2)).toBe(true);
    expect(m.compareAndDelete('k', 2)).toBe(false);
    expect(m.size).toBe(1);
    m.close();
    const j = make('f64', 'json');
    j.set(1, { a: 1, b: 2 });
    expect(j.compareAndSwap(1, { b: 2, a: 1 }, 'x')).toBe(false); // other JSON text
    expect(j.compareAndSwap(1, { a: 1, b: 2 }, 'x')).toBe(true);
    expect(j.get(1)).toBe('x');
    j.close();
    const b = make('f64', 'bytes');
    b.set(1, Buffer.from('abc'));
    expect(b.compareAndDelete(1, new Uint8Array([97, 98, 99]))).toBe(true);
    b.close();
  });

  it('range visits each entry once, stops on false, and allows deleting inside the callback', () => {
    const m = make('f64', 'f64');
    for (let i = 0; i < 5000; i++) m.set(i, i * 2);
    const seen = new Set<unknown>();
    m.range((v, k) => {
      expect(v).toBe((k as number) * 2);
      expect(seen.has(k)).toBe(false);
      seen.add(k);
    });
    expect(seen.size).toBe(5000);
    let calls = 0;
    m.range(() => ++calls < 10 || false);
    expect(calls).toBe(10);
    // delete the current key and one not reached yet: the latter must not be produced
    const deletedAhead = new Set<unknown>();
    const produced = new Set<unknown>();
    m.range((_v, k) => {
      expect(deletedAhead.has(k)).toBe(false);
      produced.add(k);
      m.delete(k);
      const other = 4999 - (k as number);
      if (!produced.has(other) && m.delete(other)) deletedAhead.add(other);
    });
    expect(m.size).toBe(0);
    expect(produced.size + deletedAhead.size).toBe(5000);
    m.close();
  });

  it('iteration while the table grows produces every old entry exactly once', () => {
    const m = make('i64', 'f64', { seed: 7n });
    for (let i = 0; i < 2000; i++) m.set(BigInt(i), i);
    const seen = new Map<unknown, number>();
    let next = 1_000_000;
    for (const [k, v] of m) {
      seen.set(k, (seen.get(k) ?? 0) + 1);
      if (typeof k === 'bigint' && k < 2000n) expect(v).toBe(Number(k));
      for (let j = 0; j < 4; j++) m.set(BigInt(next++), 0);
    }
    for (let i = 0; i < 2000; i++) expect(seen.get(BigInt(i)), `key ${i}`).toBe(1);
    for (const c of seen.values()) expect(c).toBe(1);
    expect(m.size).toBe(2000 + (next - 1_000_000));
    m.close();
  });
});

describeEachBackend('SyncMap: handles and views', () => {
  it('handle is a structured-cloneable plain object; attach gives a view of the same map', () => {
    const a = make('string', 'f64');
    const h = structuredClone(a.handle);
    // The WebAssembly engine's handle also carries the shared memory the map lives in.
    const memory = loadedBackend === 'wasm' ? { memory: expect.any(Object) as object } : {};
    expect(h).toEqual({ type: 'gomap.SyncMap', id: expect.any(Number) as number, key: 'string', value: 'f64', ...memory });
    expect(a.handle).toBe(a.handle);
    const b = SyncMap.attach<string, number>(h);
    a.set('x', 1);
    expect(b.get('x')).toBe(1);
    b.set('y', 2);
    expect(a.get('y')).toBe(2);
    expect(b.size).toBe(2);
    a.close();
    expectClosed(() => a.get('x'));
    expectClosed(() => a.handle);
    expect(b.get('x')).toBe(1); // the map lives while a view is open
    b.close();
  });

  it('the map is freed with its last view; its handle is then refused', () => {
    const n = syncBinding!;
    const before = n.syncLiveHandles();
    const a = make('i64', 'string');
    const h = a.handle;
    const b = SyncMap.attach(h);
    expect(n.syncLiveHandles()).toMatchObject({ views: before.views + 2, iterators: before.iterators, maps: before.maps + 1 });
    a.close();
    a.close(); // twice is fine
    expect(n.syncLiveHandles().maps).toBe(before.maps + 1);
    b.close();
    expect(n.syncLiveHandles()).toMatchObject({ views: before.views, iterators: before.iterators, maps: before.maps });
    expectClosed(() => SyncMap.attach(h));
    // a new map in the same registry slot does not answer to the old handle
    const c = make('i64', 'string');
    expectClosed(() => SyncMap.attach(h));
    expect(c.handle.id).not.toBe(h.id);
    c.close();
  });

  it('closing a view ends its unfinished iterators', () => {
    const n = syncBinding!;
    const before = n.syncLiveHandles().iterators;
    const a = make('f64', 'f64');
    for (let i = 0; i < 1000; i++) a.set(i, i);
    const it = a.keys();
    it.next();
    expect(n.syncLiveHandles().iterators).toBe(before + 1);
    a.close();
    expect(n.syncLiveHandles().iterators).toBe(before);
    expectClosed(() => it.next());
  });

  if (loadedBackend === 'wasm') {
    it('the shared memory is reused: maps filled, thinned and closed again and again stop growing the heap (WebAssembly engine)', () => {
      const n = syncBinding!;
      const pagesAfter: number[] = [];
      for (let cycle = 0; cycle < 12; cycle++) {
        const m = make('f64', 'string');
        for (let i = 0; i < 50_000; i++) m.set(i, `v${i}`);
        for (let i = 0; i < 50_000; i += 2) m.delete(i);
        m.close();
        pagesAfter.push(n.syncLiveHandles().heapPages!);
      }
      // Tables, entries and retired memory come back to the allocator and are used again:
      // after a few cycles (free runs are not merged, so the first ones may still grow it)
      // the memory keeps its size.
      expect(pagesAfter[11]).toBe(pagesAfter[3]);
      expect(pagesAfter[0]).toBeGreaterThan(0);
    });
  }

  it('views dropped without close() are closed by the collector; the map goes with the last one', async () => {
    const n = syncBinding!;
    const before = n.syncLiveHandles();
    const keep = make('string', 'string');
    keep.set('k', 'v');
    const h = keep.handle;
    (() => {
      for (let i = 0; i < 20; i++) SyncMap.attach(h).get('k'); // 20 views, never closed
      const lone = make('f64', 'f64'); // a map whose only view is dropped
      lone.set(1, 1);
      lone.keys().next(); // and an unfinished iterator
    })();
    await collect();
    expect(n.syncLiveHandles()).toMatchObject({ views: before.views + 1, iterators: before.iterators, maps: before.maps + 1 });
    expect(keep.get('k')).toBe('v');
    keep.close();
    expect(n.syncLiveHandles()).toMatchObject({ views: before.views, maps: before.maps });
  });
});
