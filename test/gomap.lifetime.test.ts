/**
 * Lifetimes (API.md: "Without close, memory is freed when the object is
 * garbage-collected"; 'any' keys and values are live JS values held like a Map holds
 * them): what the map holds stays alive, what it dropped (delete, overwrite, clear,
 * close) can be collected; maps and iterators that are never closed are freed by the
 * collector without crashing, also when their map was closed first and its slot reused.
 *
 * Uses the real collector: `--expose-gc` is switched on at run time.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.ts';
import { makeMap, type LooseMap } from './helpers/kinds.ts';

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

/** Creates an object in a separate frame, so no local of the caller keeps it. */
function weakly<T extends object>(make: () => T, use: (o: T) => void): WeakRef<T> {
  const o = make();
  use(o);
  return new WeakRef(o);
}

describeEachBackend('GoMap: lifetimes and the garbage collector', () => {
  describe("'any' keys and values are held like Map holds them, and released when dropped", () => {
    it('a stored value and a stored key stay alive while the map holds them (control)', async () => {
      const m = makeMap();
      const v = weakly(() => ({ value: 1 }), (o) => m.set('k', o));
      const k = weakly(() => ({ key: 1 }), (o) => m.set(o, 'v'));
      await collect();
      expect(v.deref()).toBeDefined();
      expect(k.deref()).toBeDefined();
      expect(m.get('k')).toBe(v.deref());
      expect(m.get(k.deref())).toBe('v');
    });

    it('delete releases the key object and the value object', async () => {
      const m = makeMap();
      let keyObj: object | undefined = { key: 1 };
      const k = new WeakRef(keyObj);
      const v = weakly(() => ({ value: 1 }), (o) => m.set(keyObj, o));
      expect(m.delete(keyObj)).toBe(true);
      keyObj = undefined;
      await collect();
      expect(k.deref(), 'deleted key').toBeUndefined();
      expect(v.deref(), 'value of a deleted key').toBeUndefined();
      expect(m.size).toBe(0);
    });

    it('overwriting releases the old value; getMany/setMany paths too', async () => {
      const m = makeMap({ key: 'string', value: 'any' });
      const old1 = weakly(() => ({ old: 1 }), (o) => m.set('a', o));
      m.set('a', 'new');
      const old2 = weakly(() => ({ old: 2 }), (o) => m.setMany([['b', o]]));
      m.setMany([['b', 'new']]);
      await collect();
      expect(old1.deref()).toBeUndefined();
      expect(old2.deref()).toBeUndefined();
      expect(m.getMany(['a', 'b'])).toEqual(['new', 'new']);
    });

    it('clear() and close() release every key and value', async () => {
      for (const how of ['clear', 'close'] as const) {
        const m = makeMap();
        const refs: WeakRef<object>[] = [];
        for (let i = 0; i < 100; i++) {
          refs.push(weakly(() => ({ k: i }), (o) => m.set(o, i)));
          refs.push(weakly(() => ({ v: i }), (o) => m.set(i, o)));
        }
        if (how === 'clear') m.clear();
        else m.close();
        await collect();
        expect(refs.filter((r) => r.deref() !== undefined).length, `${how}: objects still held`).toBe(0);
      }
    });
  });

  describe('maps and iterators that are never closed', () => {
    it('an iterator keeps its map alive', async () => {
      const make = (): Iterator<unknown> => {
        const m = makeMap({ key: 'i64', value: 'f64' });
        for (let i = 0n; i < 10_000n; i++) m.set(i, Number(i));
        const it = m.keys();
        it.next();
        return it;
      };
      const it = make();
      await collect();
      const seen = new Set<unknown>();
      for (let r = it.next(); !r.done; r = it.next()) seen.add(r.value);
      expect(seen.size).toBe(9_999);
    });

    it('abandoned iterators of closed maps are collected safely, iterators of newer maps unaffected', async () => {
      const keep: { m: LooseMap; it: Iterator<unknown>; seen: Set<unknown> }[] = [];
      for (let round = 0; round < 40; round++) {
        (() => {
          const old = makeMap({ key: 'i64', value: 'f64' });
          for (let i = 0n; i < 3000n; i++) old.set(i, 1);
          const it = old.entries();
          for (let j = 0; j < 100; j++) it.next();
          if (round % 2 === 0) old.close(); // iterator abandoned after its map closed
        })();
        const m = makeMap({ key: 'i64', value: 'f64' });
        for (let i = 0n; i < 3000n; i++) m.set(i + 1_000_000n * BigInt(round), 2);
        const it = m.keys();
        const seen = new Set<unknown>();
        for (let j = 0; j < 50; j++) seen.add(it.next().value);
        keep.push({ m, it, seen });
        if (round % 10 === 9) await collect(2);
      }
      await collect();
      for (const [round, { m, it, seen }] of keep.entries()) {
        for (let r = it.next(); !r.done; r = it.next()) {
          if (seen.has(r.value)) throw new Error(`round ${round}: ${String(r.value)} produced twice`);
          seen.add(r.value);
        }
        expect(seen.size, `round ${round}`).toBe(3000);
        expect(m.size).toBe(3000);
        m.close();
      }
    });

    it('closed maps are not freed a second time by the collector', async () => {
      for (let i = 0; i < 500; i++) {
        const m = makeMap({ key: i % 2 ? 'string' : 'any', value: i % 3 ? 'bytes' : 'any' });
        for (let j = 0; j < 20; j++) m.set(i % 2 ? `k${j}` : j, i % 3 ? Buffer.from([j]) : { j });
        m.keys().next();
        if (i % 2) m.close();
        else m[Symbol.dispose]();
      }
      await collect();
      const after = makeMap({ key: 'string', value: 'string' });
      after.set('still', 'works');
      expect(after.get('still')).toBe('works');
    });

    it('native memory of maps that are dropped without close() is given back', async () => {
      const entries: [bigint, number][] = Array.from({ length: 200_000 }, (_, i) => [BigInt(i), i]);
      const bytesOne = (() => {
        const m = makeMap({ key: 'i64', value: 'f64' }, entries);
        const b = m.stats().bytes;
        m.close();
        return b;
      })();
      await collect();
      const rss0 = process.memoryUsage().rss;
      const rounds = 40;
      for (let r = 0; r < rounds; r++) {
        makeMap({ key: 'i64', value: 'f64' }, entries); // dropped at once
        if (r % 8 === 7) await collect(1);
      }
      await collect();
      const grown = process.memoryUsage().rss - rss0;
      if (process.env.GOMAP_TEST_VERBOSE) process.stderr.write(`[lifetime] RSS +${(grown / 2 ** 20).toFixed(1)} MiB, one map ${(bytesOne / 2 ** 20).toFixed(1)} MiB\n`);
      // without finalization this would be rounds × bytesOne (≈ 40 × 6 MB)
      expect(grown, `RSS grew by ${(grown / 2 ** 20).toFixed(0)} MiB for ${rounds} maps of ${(bytesOne / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(
        (rounds * bytesOne) / 3,
      );
    });
  });
});
