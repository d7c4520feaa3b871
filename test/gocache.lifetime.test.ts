/**
 * GoCache and the JS heap: 'any' keys and values that leave the cache (eviction,
 * expiry, delete, clear, close) are released (they can be collected), with and without
 * onEvict (two different report paths: drained entries, inline slab cells / ids), and
 * the values of entries that stay are never mixed up by reused slab cells.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { expect, it } from 'vitest';
import { GoCache } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';

v8.setFlagsFromString('--expose-gc');
const gcNow = vm.runInNewContext('gc') as () => void;

async function collect(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    gcNow();
    await new Promise((r) => setImmediate(r));
  }
}

describeEachBackend('GoCache: lifetimes of any keys and values', () => {
  for (const withOnEvict of [false, true]) {
    const label = withOnEvict ? 'with onEvict' : 'without onEvict';
    it(`object keys and values stay matched under churn (${label})`, () => {
      const evicted: unknown[] = [];
      const c = new GoCache<object, { id: number }>({ max: 100, ...(withOnEvict ? { onEvict: (v) => evicted.push(v) } : {}) });
      const keys = Array.from({ length: 1000 }, (_, i) => ({ key: i }));
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < keys.length; i++) {
          c.set(keys[i]!, { id: i });
          if (i % 7 === 0) c.get(keys[(i * 13) % keys.length]!);
        }
      }
      expect(c.size).toBe(100);
      let present = 0;
      for (let i = 0; i < keys.length; i++) {
        const v = c.get(keys[i]!);
        if (v !== undefined) {
          present++;
          expect(v.id).toBe(i);
        }
      }
      expect(present).toBe(100);
      for (const [k, v] of c.entries()) expect((k as { key: number }).key).toBe(v.id);
      if (withOnEvict) expect(evicted.length).toBe(3000 - 100);
      c.close();
    });

    it(`evicted and deleted keys and values can be collected (${label})`, async () => {
      const c = new GoCache<object, object>({ max: 10, ...(withOnEvict ? { onEvict: () => {} } : {}) });
      const refs: WeakRef<object>[] = [];
      (() => {
        for (let i = 0; i < 50; i++) {
          const k = { k: i };
          const v = { v: i };
          refs.push(new WeakRef(k), new WeakRef(v));
          c.set(k, v);
        }
      })();
      await collect();
      const alive = refs.filter((r) => r.deref() !== undefined).length;
      expect(alive).toBe(20); // the 10 entries held, key and value each
      c.clear();
      await collect();
      expect(refs.filter((r) => r.deref() !== undefined).length).toBe(0);
      c.close();
    });
  }
});
