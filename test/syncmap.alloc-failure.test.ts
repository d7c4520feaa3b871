/**
 * SyncMap under native allocation failure (API.md Errors: "The map is unchanged after any
 * thrown error"): `setMany` stores every pair or none. The failure is injected with the
 * addon's testing hook, which exists only when the addon is loaded with GOMAP_TESTING=1
 * (this file sets it before it loads the addon: vitest runs each file in its own process).
 */
import { expect, it } from 'vitest';

process.env.GOMAP_TESTING = '1';
const { SyncMap } = await import('../lib/index.ts');
const { syncBinding } = await import('../lib/sync-binding.ts');
const { describeEachBackend } = await import('./helpers/backends.ts');
const { checkStatsInvariants } = await import('./helpers/kinds.ts');

describeEachBackend('SyncMap setMany under allocation failure', () => {
  it('the addon was loaded with its testing hook', () => {
    expect(typeof syncBinding?.syncTestingFailNthAllocation).toBe('function');
  });

  it('a setMany that runs out of memory at any allocation stores nothing', () => {
    const failNth = syncBinding!.syncTestingFailNthAllocation!.bind(syncBinding);
    const pairs: [string, string][] = [];
    for (let i = 0; i < 200; i++) pairs.push([i % 5 === 0 ? `k${i / 5}` : `new${i}`, `v${i}`.repeat(1 + (i % 9))]);
    const expected = new Map<string, string>();
    for (let i = 0; i < 40; i++) expected.set(`k${i}`, `old${i}`);
    for (const [k, v] of pairs) expected.set(k, v);
    let failures = 0;
    let succeededAt = 0;
    // 200 entries, the growth to hold them, scratch: well under 400 allocations.
    for (let n = 1; n <= 400 && succeededAt === 0; n++) {
      const m = new SyncMap<string, string>({ key: 'string', value: 'string' });
      const before = new Map<string, string>();
      for (let i = 0; i < 40; i++) {
        m.set(`k${i}`, `old${i}`);
        before.set(`k${i}`, `old${i}`);
      }
      failNth(n);
      let error: unknown;
      try {
        m.setMany(pairs);
      } catch (e) {
        error = e;
      } finally {
        failNth(0);
      }
      const seen = new Map(m.entries());
      if (error === undefined) {
        succeededAt = n;
        expect(seen).toEqual(expected);
      } else {
        failures++;
        expect(error).toBeInstanceOf(RangeError);
        expect(seen).toEqual(before);
        m.setMany(pairs); // the map still works
        expect(new Map(m.entries())).toEqual(expected);
      }
      expect(m.size).toBe(expected.size);
      checkStatsInvariants(m.stats(), m.size);
      m.close();
    }
    expect(failures).toBeGreaterThanOrEqual(pairs.length);
    expect(succeededAt).toBeGreaterThan(pairs.length);
  });
});
