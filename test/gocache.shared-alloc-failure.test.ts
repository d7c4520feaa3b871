/**
 * A shared GoCache under allocation failure (API.md Errors: the cache is unchanged after
 * any thrown error), on both engines: every allocation of a `set` that inserts, grows the
 * table and evicts is made to fail in turn. The failure is injected with the SyncMap
 * testing hook (GOMAP_TESTING=1, set before the engine loads: vitest runs each file in
 * its own process), which covers the shared cache's memory on both engines.
 */
import { expect, it } from 'vitest';

process.env.GOMAP_TESTING = '1';
const { GoCache } = await import('../lib/index.ts');
const { syncBinding } = await import('../lib/sync-binding.ts');
const { describeEachBackend } = await import('./helpers/backends.ts');

describeEachBackend('GoCache shared: true under allocation failure', () => {
  it('a set that runs out of memory at any allocation changes nothing, and the cache still works', () => {
    const failNth = syncBinding!.syncTestingFailNthAllocation!.bind(syncBinding);
    let failures = 0;
    let succeededAt = 0;
    for (let n = 1; n <= 200 && succeededAt === 0; n++) {
      const removed: string[] = [];
      const c = new GoCache<string, string>({
        shared: true,
        key: 'string',
        value: 'string',
        max: 30,
        maxBytes: 600,
        onEvict: (_v, k, r) => removed.push(`${k}:${r}`),
      });
      for (let i = 0; i < 30; i++) c.set(`k${i}`, `v${i}`.repeat(1 + (i % 3)), i % 4 === 0 ? { ttl: 100_000 } : {});
      const before = new Map(c.entries());
      const statsBefore = c.stats();
      removed.length = 0;
      failNth(n);
      let error: unknown;
      try {
        c.set('fresh', 'x'.repeat(40), { ttl: 50_000 }); // inserts, evicts, indexes an expiry
      } catch (e) {
        error = e;
      } finally {
        failNth(0);
      }
      if (error === undefined) {
        succeededAt = n;
        expect(c.get('fresh')).toBe('x'.repeat(40));
      } else {
        failures++;
        expect(error).toBeInstanceOf(RangeError);
        expect((error as { code?: string }).code).toBe('ERR_GOMAP_NO_MEMORY');
        expect(new Map(c.entries())).toEqual(before);
        expect(removed).toEqual([]);
        const after = c.stats();
        expect([after.size, after.bytes, after.evictions]).toEqual([statsBefore.size, statsBefore.bytes, statsBefore.evictions]);
        c.set('fresh', 'x'.repeat(40), { ttl: 50_000 }); // the cache still works
        expect(c.get('fresh')).toBe('x'.repeat(40));
      }
      const s = c.stats();
      expect(s.size).toBeLessThanOrEqual(30);
      expect(s.bytes).toBeLessThanOrEqual(600);
      let bytes = 0;
      for (const [k, v] of c.entries()) bytes += k.length + v.length;
      expect(s.bytes).toBe(bytes);
      c.close();
    }
    expect(failures).toBeGreaterThan(0);
    expect(succeededAt).toBeGreaterThan(1);
  });
});
