/**
 * GoCache with `shared: true`, in one thread: the API (handle, attach, per-view onEvict /
 * fetch), the errors (kinds, handles, closed views), lifetime (last view frees the
 * cache, collected views), and a property: limits hold for every non-'any' kind
 * combination. The cross-thread tests are in gocache.shared-workers.test.ts.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { GoCache, SyncMap, type GoCacheHandle } from '../lib/index.ts';
import { syncBinding } from '../lib/sync-binding.ts';
import { describeEachBackend, loadedBackend } from './helpers/backends.ts';
import { CacheModel, cacheOpsArb } from './helpers/cache-model.ts';
import { expectClosed, expectTypeError, fcRuns, keyArb, modelKey, SYNC_KEY_KINDS, SYNC_VALUE_KINDS } from './helpers/kinds.ts';

v8.setFlagsFromString('--expose-gc');
const gcNow = vm.runInNewContext('gc') as () => void;

const kManualClock = Symbol.for('gomap.cache.manualClock');

function liveMaps(): number {
  return syncBinding!.syncLiveHandles().maps;
}

describeEachBackend('GoCache shared: true (one thread)', () => {
  it('behaves as a cache, with a handle and attached views sharing the same entries', () => {
    const a = new GoCache<string, string>({ shared: true, key: 'string', value: 'string', max: 3 });
    expect(a.shared).toBe(true);
    a.set('x', '1').set('y', '2');
    const h = a.handle;
    // The WebAssembly engine's handle also carries the shared memory the cache lives in.
    const memory = loadedBackend === 'wasm' ? { memory: expect.any(Object) as object } : {};
    expect(h).toEqual({ type: 'gomap.GoCache', id: h.id, key: 'string', value: 'string', ...memory });
    expect(structuredClone(h)).toEqual(h);
    const b = GoCache.attach<string, string>(h);
    expect(b.get('x')).toBe('1');
    b.set('z', '3');
    expect(a.peek('z')).toBe('3');
    expect(a.has('y')).toBe(true);
    expect(a.size).toBe(3);
    b.set('w', '4'); // evicts one: the limit is the cache's, whoever writes
    expect(a.size).toBe(3);
    expect(b.size).toBe(3);
    expect(new Set(a.keys()).size).toBe(3);
    expect([...a.entries()].length).toBe(3);
    expect(a.delete('w')).toBe(true);
    expect(b.get('w')).toBeUndefined();
    const s = a.stats();
    expect(s.evictions).toBe(1);
    expect(s.size).toBe(2);
    expect(s.hits).toBeGreaterThanOrEqual(1);
    expect(s.bytes).toBeGreaterThan(0);
    expect(s.nativeBytes).toBeGreaterThan(s.bytes);
    b.clear();
    expect(a.size).toBe(0);
    a.close();
    b.close();
  });

  it('onEvict runs in the view whose call removed the entry, with reasons', () => {
    const seenA: string[] = [];
    const seenB: string[] = [];
    const a = new GoCache<string, unknown>({
      shared: true,
      key: 'string',
      value: 'json',
      max: 2,
      maxBytes: 100,
      onEvict: (v, k, r) => seenA.push(`${k}=${JSON.stringify(v)}:${r}`),
    });
    const b = GoCache.attach<string, unknown>(a.handle, { onEvict: (v, k, r) => seenB.push(`${k}=${JSON.stringify(v)}:${r}`) });
    a.set('k1', { n: 1 });
    a.set('k1', { n: 2 });
    expect(seenA).toEqual(['k1={"n":1}:set']);
    b.set('k2', [2]);
    b.set('k3', 3); // evicts k1 or k2
    expect(seenB.length).toBe(1);
    expect(seenB[0]).toMatch(/^k[12]=.*:evict$/);
    b.set('big', 'x'.repeat(200)); // refused: over maxBytes on its own
    expect(seenB.at(-1)).toBe(`big=${JSON.stringify('x'.repeat(200))}:evict`);
    expect(b.has('big')).toBe(false);
    expect(a.delete('k3')).toBe(true);
    expect(seenA.at(-1)).toBe('k3=3:delete');
    expect(seenA.length).toBe(2);
    a.close();
    b.close();
  });

  it('ttl: expired entries read as absent in every view; a write or purgeStale removes them', () => {
    const a = new GoCache<number, number>({ shared: true, key: 'f64', value: 'f64', ttl: 1000 });
    const b = GoCache.attach<number, number>(a.handle);
    const bViewClock = b as unknown as Record<symbol, (ms: number) => void>;
    const aViewClock = a as unknown as Record<symbol, (ms: number) => void>;
    aViewClock[kManualClock]!(1000);
    bViewClock[kManualClock]!(1000);
    a.set(1, 10);
    a.set(2, 20, { ttl: 0 });
    expect(b.getRemainingTTL(1)).toBe(1000);
    expect(b.getRemainingTTL(2)).toBe(Infinity);
    bViewClock[kManualClock]!(2000);
    expect(b.get(1)).toBeUndefined();
    expect(b.has(1)).toBe(false);
    expect(b.getRemainingTTL(1)).toBe(0);
    expect(a.get(1)).toBe(10); // a's clock still reads 1000
    expect(b.size).toBe(2); // held until a writer removes it
    b.purgeStale();
    expect(b.size).toBe(1);
    expect(a.stats().expirations).toBe(1);
    a.close();
    b.close();
  });

  it('fetch de-duplicates loads per view and caches into the shared table', async () => {
    let calls = 0;
    const a = new GoCache<string, string>({
      shared: true,
      key: 'string',
      value: 'string',
      max: 10,
      fetch: async (k) => {
        calls++;
        await new Promise((r) => setTimeout(r, 5));
        return k.toUpperCase();
      },
    });
    const [x, y] = await Promise.all([a.fetch('q'), a.fetch('q')]);
    expect([x, y, calls]).toEqual(['Q', 'Q', 1]);
    const b = GoCache.attach<string, string>(a.handle); // no loader of its own
    expect(await b.fetch('q')).toBe('Q');
    expect(await b.fetch('r')).toBeUndefined();
    a.close();
    b.close();
  });

  it('needs non-any kinds, and refuses options that only apply to one thread', () => {
    expectTypeError(() => new GoCache({ shared: true, max: 1 }), /key.*'string', 'f64', 'i64', 'bytes'.*'any'/);
    expectTypeError(() => new GoCache({ shared: true, key: 'string', max: 1 }), /value/);
    expectTypeError(() => new GoCache({ shared: true, key: 'any', value: 'string', max: 1 }), /'any'/);
    expectTypeError(() => new GoCache({ shared: true, key: 'string', value: 'any', max: 1 }), /'any'/);
    expectTypeError(() => new GoCache({ shared: true, key: 'string', value: 'string' }), /at least one/);
    expectTypeError(() => new GoCache({ shared: true, key: 'string', value: 'string', max: 1, sizeOf: () => 1 } as never), /sizeOf/);
    const c = new GoCache<string, string>({ shared: true, key: 'string', value: 'string', max: 2 });
    expectTypeError(() => c.set(1 as unknown as string, 'x'), /GoCache key must be a string/);
    expectTypeError(() => c.set('k', 1 as unknown as string), /GoCache value must be a string/);
    expect(c.size).toBe(0);
    c.close();
  });

  it('handle and attach errors', () => {
    const local = new GoCache<string, string>({ key: 'string', value: 'string', max: 2 });
    expectTypeError(() => local.handle, /only for shared caches/);
    local.close();
    expectClosed(() => local.handle);
    for (const bad of [undefined, null, 1, 'x', {}, { type: 'gomap.GoCache' }, { type: 'gomap.GoCache', id: -1, key: 'string', value: 'string' }]) {
      expectTypeError(() => GoCache.attach(bad as unknown as GoCacheHandle));
    }
    const c = new GoCache<string, string>({ shared: true, key: 'string', value: 'string', max: 2 });
    expectTypeError(() => GoCache.attach({ ...c.handle, key: 'f64' }), /key kind/);
    expectTypeError(() => GoCache.attach(c.handle, { max: 3 } as never), /no option 'max'/);
    expectTypeError(() => GoCache.attach(c.handle, { onEvict: 1 } as never), /onEvict/);
    const m = new SyncMap<string, string>({ key: 'string', value: 'string' });
    expectTypeError(() => GoCache.attach({ ...m.handle, type: 'gomap.GoCache' } as unknown as GoCacheHandle), /SyncMap/);
    expectTypeError(() => SyncMap.attach({ ...c.handle, type: 'gomap.SyncMap' } as never), /GoCache/);
    m.close();
    expect(() => GoCache.attach({ ...c.handle, id: c.handle.id + 2 ** 40 })).toThrow(expect.objectContaining({ code: 'ERR_GOMAP_CLOSED' }));
    const h = c.handle;
    c.close();
    expect(() => GoCache.attach(h)).toThrow(expect.objectContaining({ code: 'ERR_GOMAP_CLOSED' }));
    for (const call of [() => c.get('a'), () => c.set('a', 'b'), () => c.has('a'), () => c.size, () => c.stats(), () => c.handle, () => [...c.keys()], () => c.clear(), () => c.delete('a'), () => c.purgeStale()]) {
      expectClosed(call);
    }
    c.close(); // again: nothing
  });

  it('lifetime: the cache lives until its last view is closed or collected', async () => {
    const before = liveMaps();
    const a = new GoCache<string, string>({ shared: true, key: 'string', value: 'string', max: 100 });
    a.set('k', 'v');
    const h = a.handle;
    (() => {
      GoCache.attach<string, string>(h).set('k2', 'v2'); // dropped without close
    })();
    a.close();
    expect(liveMaps()).toBe(before + 1); // the dropped view still holds it
    for (let i = 0; i < 20 && liveMaps() !== before; i++) {
      gcNow();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(liveMaps()).toBe(before);
    expect(() => GoCache.attach(h)).toThrow(expect.objectContaining({ code: 'ERR_GOMAP_CLOSED' }));
  });
});

describeEachBackend('GoCache shared: limits hold for every non-any kind combination', () => {
  for (const keyKind of SYNC_KEY_KINDS) {
    for (const valueKind of SYNC_VALUE_KINDS) {
      it(`key '${keyKind}' x value '${valueKind}': size <= max, bytes <= maxBytes after every call, in two views`, () => {
        fc.assert(
          fc.property(
            fc.uniqueArray(keyArb(keyKind), { minLength: 10, maxLength: 10, selector: (x) => modelKey(keyKind, x) }),
            fc.integer({ min: 1, max: 6 }),
            fc.integer({ min: 24, max: 400 }),
            fc.boolean(),
            cacheOpsArb(10, valueKind, 100),
            (keys, max, maxBytes, withBytes, ops) => {
              const model = new CacheModel(keyKind, valueKind, withBytes);
              const onEvict = model.onEvict;
              const a = new GoCache<unknown, unknown>({ shared: true, key: keyKind as 'string', value: valueKind as 'string', max, ...(withBytes ? { maxBytes } : {}), onEvict });
              const b = GoCache.attach<unknown, unknown>(a.handle, { onEvict });
              try {
                ops.forEach((o, i) => {
                  model.run(i % 2 === 0 ? a : b, keys[o.k], o);
                  model.checkLimits(b.stats(), a.size, max, maxBytes);
                });
                model.checkEnd(a);
              } finally {
                a.close();
                b.close();
              }
            },
          ),
          { numRuns: fcRuns(15) },
        );
      });
    }
  }
});
