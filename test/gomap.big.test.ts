/**
 * Heavy: 20,000,000 'i64' → 'f64' entries in one GoMap, past a JS Map's 2^24
 * (16,777,216) entry limit (DESIGN.md "Past V8's ceiling"). Insert (setMany batches and
 * single sets), size, 100k random spot checks, stats() invariants, a full iteration,
 * delete half, shrink, close. About 1 GiB of native memory at the peak of the last grow.
 */
import { expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.ts';
import { checkStatsInvariants, makeMap, minB } from './helpers/kinds.ts';

const N = 20_000_000;
const MAP_LIMIT = 2 ** 24;
const key = (i: number): bigint => BigInt(i) - 10_000_000n; // negative and positive keys
const value = (i: number): number => i * 0.5 + 0.25;

/** Phase timings on stderr with GOMAP_TEST_VERBOSE=1. */
function phases(): (name: string) => void {
  let t = performance.now();
  return (name) => {
    const now = performance.now();
    if (process.env.GOMAP_TEST_VERBOSE) process.stderr.write(`[big] ${name}: ${((now - t) / 1000).toFixed(2)} s\n`);
    t = now;
  };
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describeEachBackend('GoMap: 20,000,000 entries', () => {
  it(
    "'i64' → 'f64': insert, spot-check, iterate, delete half, shrink, close",
    () => {
      const phase = phases();
      const m = makeMap({ key: 'i64', value: 'f64', seed: 2024n });

      // first half through setMany batches, second half through set
      const BATCH = 100_000;
      for (let start = 0; start < N / 2; start += BATCH) {
        const batch: [bigint, number][] = new Array(BATCH);
        for (let j = 0; j < BATCH; j++) batch[j] = [key(start + j), value(start + j)];
        m.setMany(batch);
      }
      expect(m.size).toBe(N / 2);
      phase('setMany 10M');
      for (let i = N / 2; i < N; i++) m.set(key(i), value(i));
      expect(m.size).toBe(N);
      expect(m.size).toBeGreaterThan(MAP_LIMIT);
      phase('set 10M');

      let s = m.stats();
      checkStatsInvariants(s, N);
      expect(s.B).toBe(minB(N));
      expect(s.grows).toBe(minB(N));
      expect(s.bytes, 'at least key + value bytes per entry').toBeGreaterThanOrEqual(N * 16);
      expect(s.bytes, 'bytes per entry, sanity bound').toBeLessThan(N * 80);

      // 100k random spot checks: hits (get and getMany) and misses
      const rnd = prng(7);
      const sample: number[] = [];
      for (let j = 0; j < 100_000; j++) sample.push(Math.floor(rnd() * N));
      for (const i of sample) {
        const v = m.get(key(i));
        if (v !== value(i)) throw new Error(`get(${key(i)}) = ${String(v)}, expected ${value(i)}`);
      }
      const many = m.getMany(sample.map(key));
      sample.forEach((i, j) => {
        if (many[j] !== value(i)) throw new Error(`getMany[${j}] = ${String(many[j])}, expected ${value(i)}`);
      });
      for (let j = 0; j < 10_000; j++) {
        const miss = key(N + Math.floor(rnd() * N));
        if (m.has(miss)) throw new Error(`has(${miss}) for a key never inserted`);
      }

      phase('spot checks');
      // one full iteration: every entry once (count and checksum, nothing kept)
      let count = 0;
      let sum = 0;
      for (const v of m.values()) {
        count++;
        sum += v as number;
      }
      expect(count).toBe(N);
      // sum of i*0.5+0.25 for i < N, exact in doubles at this size
      expect(sum).toBe((N * (N - 1)) / 4 + N * 0.25);

      phase('iterate 20M');
      // delete half (even i)
      for (let i = 0; i < N; i += 2) {
        if (!m.delete(key(i))) throw new Error(`delete(${key(i)}) returned false`);
      }
      expect(m.size).toBe(N / 2);
      phase('delete 10M');
      s = m.stats();
      checkStatsInvariants(s, N / 2);
      for (const i of sample.slice(0, 50_000)) {
        const v = m.get(key(i));
        const want = i % 2 === 0 ? undefined : value(i);
        if (v !== want) throw new Error(`after deletes, get(${key(i)}) = ${String(v)}, expected ${String(want)}`);
      }

      // shrink to the smallest table for 10M entries
      m.shrink();
      phase('shrink');
      const t = m.stats();
      checkStatsInvariants(t, N / 2);
      expect(t.B).toBe(minB(N / 2));
      expect(t.bytes).toBeLessThan(s.bytes);
      for (const i of sample.slice(50_000)) {
        const v = m.get(key(i));
        const want = i % 2 === 0 ? undefined : value(i);
        if (v !== want) throw new Error(`after shrink, get(${key(i)}) = ${String(v)}, expected ${String(want)}`);
      }

      m.close();
      expect(() => m.size).toThrow();
    },
    300_000,
  );
});
