/**
 * stats() (API.md MapStats) and the Go map behaviour it makes visible:
 * buckets === 2 ** B, loadFactor === count / (buckets * 8), load ≤ 6.5/8 when not
 * growing, count === size, growing ⇒ oldBuckets > 0 && evacuated < oldBuckets;
 * doubling exactly at Go's threshold (count > 8 && count > 6.5 · 2^B), incremental
 * evacuation, hint / reserve pre-sizing, shrink, bytes accounting, same-size grows
 * under insert/delete churn.
 */
import { describe, expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.ts';
import {
  BUCKET_SLOTS,
  KEY_KINDS,
  LOAD_FACTOR,
  Model,
  bulkKey,
  checkStatsInvariants,
  expectMapMatches,
  makeMap,
  minB,
  randomSeed,
  type LooseMap,
} from './helpers/kinds.ts';

const FIELDS = ['count', 'B', 'buckets', 'overflowBuckets', 'loadFactor', 'growing', 'oldBuckets', 'evacuated', 'grows', 'sameSizeGrows', 'shrinks', 'bytes'];

/** Largest count that B buckets hold without a doubling grow. */
function capacity(B: number): number {
  return B === 0 ? BUCKET_SLOTS : Math.floor(LOAD_FACTOR * 2 ** B);
}

function i64Map(extra: { hint?: number; seed?: bigint } = {}): LooseMap {
  return makeMap({ key: 'i64', value: 'f64', ...extra });
}

describeEachBackend('GoMap: stats()', () => {
  it('has every field of MapStats with sane types, for a new map', () => {
    for (const keyKind of KEY_KINDS) {
      const m = makeMap({ key: keyKind, value: 'f64' });
      const s = m.stats();
      expect(Object.keys(s)).toEqual(expect.arrayContaining(FIELDS));
      checkStatsInvariants(s, 0);
      expect(s).toMatchObject({ count: 0, B: 0, buckets: 1, loadFactor: 0, growing: false, oldBuckets: 0, grows: 0, sameSizeGrows: 0, shrinks: 0 });
      // a snapshot, not a live view
      m.set(bulkKey(keyKind, 1), 1);
      expect(s.count).toBe(0);
      expect(m.stats().count).toBe(1);
    }
  });

  it('invariants hold after every operation of a random workload', () => {
    for (const [keyKind, seed] of [
      ['i64', 3n],
      ['string', randomSeed()],
      ['any', undefined],
    ] as const) {
      const m = makeMap(seed === undefined ? { key: keyKind, value: 'f64' } : { key: keyKind, value: 'f64', seed });
      let rnd = 12345;
      const next = (n: number): number => ((rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0), rnd % n);
      let live = 0;
      const present = new Set<number>();
      for (let i = 0; i < 60_000; i++) {
        const id = next(i < 30_000 ? 40_000 : 8_000);
        const op = next(10);
        const k = bulkKey(keyKind, id);
        if (op < 6) {
          m.set(k, i);
          if (!present.has(id)) live++;
          present.add(id);
        } else if (op < 9) {
          if (m.delete(k)) live--;
          present.delete(id);
        } else if (op === 9 && i % 1000 === 999) m.shrink();
        const s = m.stats();
        checkStatsInvariants(s, live);
        if (s.count !== m.size) throw new Error(`count ${s.count} !== size ${m.size}`);
      }
      expect(m.size).toBe(present.size);
    }
  });

  describe('doubling grows', () => {
    it("grow exactly at Go's threshold: after the n-th insert B === minB(n), grows === B", () => {
      const m = i64Map({ seed: randomSeed() });
      let prevB = 0;
      for (let n = 1; n <= 120_000; n++) {
        m.set(BigInt(n) * 0x100000001n, n);
        const s = m.stats();
        if (s.B !== prevB) {
          expect(s.B, `B after insert #${n}`).toBe(prevB + 1);
          expect(n, `the grow to B=${s.B} came at insert #${n}`).toBe(capacity(prevB) + 1);
          prevB = s.B;
        }
        if (s.B !== minB(n)) throw new Error(`after ${n} inserts B = ${s.B}, Go's rule gives ${minB(n)}`);
        if (s.grows !== s.B) throw new Error(`after ${n} inserts grows = ${s.grows}, B = ${s.B}`);
        if (s.count !== n) throw new Error(`count ${s.count} after ${n} inserts`);
      }
      expect(prevB).toBe(minB(120_000));
    });

    it('overwrites and deletes never grow the table', () => {
      const m = i64Map();
      for (let i = 0n; i < 1000n; i++) m.set(i, 0);
      const { B, grows } = m.stats();
      for (let r = 0; r < 5; r++) for (let i = 0n; i < 1000n; i++) m.set(i, r);
      for (let i = 0n; i < 1000n; i++) m.delete(i);
      for (let i = 0n; i < 1000n; i++) m.delete(i);
      const s = m.stats();
      expect(s.B).toBe(B);
      expect(s.grows).toBe(grows);
      expect(s.count).toBe(0);
    });

    it('growth is incremental: growing right after the triggering insert, finished within oldBuckets writes, every key found throughout', () => {
      const m = i64Map({ seed: 77n });
      const model = new Model('i64', 'f64');
      let n = 0;
      const add = (): void => {
        const k = BigInt(n) * 0x9e3779b9n;
        m.set(k, n);
        model.set(k, n);
        n++;
      };
      let grewAt = 0;
      let checkedGrows = 0;
      while (checkedGrows < 4) {
        const before = m.stats();
        add();
        const s = m.stats();
        if (s.B === before.B) continue;
        grewAt = n;
        if (s.B < 3) continue; // one or two old buckets may be evacuated by the same insert
        checkedGrows++;
        expect(s.growing, `growing right after insert #${n} doubled B to ${s.B}`).toBe(true);
        expect(s.oldBuckets).toBe(s.buckets / 2);
        expect(s.evacuated, 'Go evacuates the touched bucket plus one per write').toBeLessThanOrEqual(2);
        checkStatsInvariants(s, model.size);
        // keep writing (overwrites count too) until the grow finishes
        let writes = 0;
        let lastEvacuated = s.evacuated;
        for (let st = s; st.growing; writes++) {
          if (writes % 2) add();
          else {
            const k = BigInt(writes % n) * 0x9e3779b9n;
            m.set(k, -writes);
            model.set(k, -writes);
          }
          st = m.stats();
          checkStatsInvariants(st, model.size);
          if (st.growing) {
            expect(st.evacuated).toBeGreaterThanOrEqual(lastEvacuated);
            lastEvacuated = st.evacuated;
          }
          // every key readable while buckets are split between old and new arrays
          if (writes % 7 === 0) {
            for (let j = 0; j < 64; j++) {
              const idx = (writes * 131 + j * 977) % n;
              const k = BigInt(idx) * 0x9e3779b9n;
              expect(m.get(k)).toBe(model.get(k)!.value);
            }
          }
          if (writes > s.oldBuckets) throw new Error(`grow from B=${s.B - 1} still running after ${writes} writes`);
        }
        expectMapMatches(m, model);
      }
      expect(grewAt).toBeGreaterThan(0);
    });

    it('deletes during a grow also evacuate, and lookups see every key', () => {
      const m = i64Map({ seed: 5n });
      let n = 0n;
      while (!(m.stats().growing && m.stats().B >= 10)) {
        m.set(n, Number(n) + 1);
        n++;
        if (n > 100_000n) throw new Error('no incremental grow observed (growing never true after an insert)');
      }
      const s0 = m.stats();
      let deletes = 0;
      for (let k = 0n; m.stats().growing; k += 2n) {
        expect(m.delete(k)).toBe(true);
        deletes++;
        if (deletes > s0.oldBuckets) throw new Error('deletes did not move the grow forward');
      }
      for (let k = 0n; k < n; k++) {
        const deleted = k % 2n === 0n && k < 2n * BigInt(deletes);
        expect(m.get(k)).toBe(deleted ? undefined : Number(k + 1n));
      }
      checkStatsInvariants(m.stats(), Number(n) - deletes);
    });
  });

  describe('hint and reserve', () => {
    for (const hint of [0, 1, 8, 9, 13, 14, 100, 1000, 6656, 6657, 100_000]) {
      it(`hint ${hint}: B = minB(hint) up front, no grow up to hint (and up to the table's capacity)`, () => {
        const m = i64Map({ hint, seed: randomSeed() });
        const B = m.stats().B;
        expect(B).toBe(minB(hint));
        for (let i = 0; i < hint; i++) m.set(BigInt(i), i);
        let s = m.stats();
        expect(s.grows).toBe(0);
        expect(s.B).toBe(B);
        expect(s.growing).toBe(false);
        for (let i = hint; i < capacity(B); i++) m.set(BigInt(i), i);
        s = m.stats();
        expect(s.grows, 'filling to 6.5 per bucket must not grow').toBe(0);
        m.set(-1n, -1);
        expect(m.stats().grows, 'one past capacity must grow').toBe(1);
        checkStatsInvariants(m.stats(), m.size);
      });
    }

    it('reserve(n) grows now so that n entries fit without growth', () => {
      for (const start of [0, 100, 5000]) {
        const m = i64Map();
        for (let i = 0; i < start; i++) m.set(BigInt(i), i);
        m.reserve(50_000);
        const s = m.stats();
        expect(s.B).toBeGreaterThanOrEqual(minB(50_000));
        checkStatsInvariants(s, start);
        for (let i = start; i < 50_000; i++) m.set(BigInt(i), i);
        const t = m.stats();
        expect(t.B).toBe(s.B);
        expect(t.grows, `start ${start}: no doubling after reserve`).toBe(s.grows);
        for (let i = 0; i < 50_000; i += 997) expect(m.get(BigInt(i))).toBe(i);
      }
    });

    it('reserve(n) below the current capacity changes nothing', () => {
      const m = i64Map();
      for (let i = 0; i < 3000; i++) m.set(BigInt(i), i);
      const s = m.stats();
      m.reserve(10);
      m.reserve(0);
      m.reserve(3000);
      const t = m.stats();
      expect(t.B).toBe(s.B);
      expect(t.grows).toBe(s.grows);
      expect(t.count).toBe(3000);
    });
  });

  describe('shrink', () => {
    it('after deleting most entries: smallest B that fits, fewer bytes, counted in shrinks', () => {
      for (const keyKind of KEY_KINDS) {
        const m = makeMap({ key: keyKind, value: 'f64' });
        for (let i = 0; i < 50_000; i++) m.set(bulkKey(keyKind, i), i);
        for (let i = 0; i < 50_000; i++) if (i % 100) m.delete(bulkKey(keyKind, i));
        const before = m.stats();
        expect(before.count).toBe(500);
        m.shrink();
        const after = m.stats();
        checkStatsInvariants(after, 500);
        expect(after.B, keyKind).toBe(minB(500));
        expect(after.shrinks).toBe(before.shrinks + 1);
        expect(after.bytes, `${keyKind}: bytes after shrink`).toBeLessThan(before.bytes / 4);
        for (let i = 0; i < 50_000; i += 100) expect(m.get(bulkKey(keyKind, i))).toBe(i);
        expect(m.get(bulkKey(keyKind, 1))).toBeUndefined();
        // and it grows again normally
        for (let i = 0; i < 20_000; i++) m.set(bulkKey(keyKind, i), -i);
        expect(m.size).toBe(20_300); // 200 of the 500 kept keys are among these
        checkStatsInvariants(m.stats(), 20_300);
        expect(m.stats().B).toBe(minB(20_300));
      }
    });

    it('on a map that already fits: contents and B unchanged', () => {
      const m = i64Map();
      for (let i = 0n; i < 1000n; i++) m.set(i, 1);
      const s = m.stats();
      m.shrink();
      const t = m.stats();
      expect(t.B).toBe(s.B);
      expect(t.count).toBe(1000);
      checkStatsInvariants(t, 1000);
    });

    it('an emptied map shrinks to one bucket; shrink while growing is safe', () => {
      const m = i64Map();
      for (let i = 0n; i < 10_000n; i++) m.set(i, 1);
      m.clear();
      m.shrink();
      expect(m.stats().B).toBe(0);
      expect(m.stats().count).toBe(0);
      let n = 0n;
      while (!m.stats().growing || m.stats().B < 8) {
        m.set(n++, 2);
        if (n > 100_000n) throw new Error('no incremental grow observed (growing never true after an insert)');
      }
      for (let i = 0n; i < n; i += 2n) m.delete(i);
      m.shrink();
      const s = m.stats();
      checkStatsInvariants(s, Number(n / 2n));
      for (let i = 0n; i < n; i++) expect(m.get(i)).toBe(i % 2n ? 2 : undefined);
    });
  });

  describe('bytes', () => {
    it('covers the table: at least 16 bytes per i64→f64 slot, grows with entries, not absurdly more', () => {
      const m = i64Map();
      let last = m.stats().bytes;
      for (const target of [1000, 10_000, 100_000]) {
        for (let i = m.size; i < target; i++) m.set(BigInt(i), i);
        const s = m.stats();
        expect(s.bytes).toBeGreaterThan(last);
        expect(s.bytes, 'keys and values of every slot').toBeGreaterThanOrEqual(s.buckets * BUCKET_SLOTS * 16);
        expect(s.bytes, 'sanity upper bound: < 200 bytes per slot of the live table').toBeLessThan(200 * (s.buckets + s.oldBuckets + s.overflowBuckets) * BUCKET_SLOTS);
        last = s.bytes;
      }
    });

    it('counts long keys and freed memory: delete and clear give it back', () => {
      const m = makeMap({ key: 'string', value: 'f64' });
      const empty = m.stats().bytes;
      for (let i = 0; i < 1000; i++) m.set(`${i}:`.padEnd(1000, 'x'), i);
      const full = m.stats().bytes;
      expect(full - empty, '1000 keys of 1000 characters').toBeGreaterThanOrEqual(1000 * 1000);
      for (let i = 0; i < 500; i++) m.delete(`${i}:`.padEnd(1000, 'x'));
      const half = m.stats().bytes;
      expect(full - half, 'deleting 500 long keys frees their storage').toBeGreaterThanOrEqual(450 * 1000);
      m.clear();
      const cleared = m.stats().bytes;
      expect(half - cleared, 'clear frees the remaining long keys').toBeGreaterThanOrEqual(450 * 1000);
      expect(cleared).toBeLessThan(200_000);
    });

    it('counts encoded values and frees a replaced value', () => {
      for (const valueKind of ['bytes', 'string', 'json', 'v8'] as const) {
        const m = makeMap({ key: 'i64', value: valueKind });
        const big = (i: number): unknown =>
          valueKind === 'bytes' ? Buffer.alloc(10_000, i) : valueKind === 'string' ? String(i).padEnd(10_000, 'v') : { s: String(i).padEnd(10_000, 'v') };
        const small = (i: number): unknown => (valueKind === 'bytes' ? Buffer.from([i]) : valueKind === 'string' ? 's' : { s: 's' });
        const base = m.stats().bytes;
        for (let i = 0; i < 200; i++) m.set(BigInt(i), big(i));
        const full = m.stats().bytes;
        expect(full - base, `${valueKind}: 200 values of 10 KB`).toBeGreaterThanOrEqual(200 * 10_000);
        for (let i = 0; i < 200; i++) m.set(BigInt(i), small(i));
        const after = m.stats().bytes;
        expect(full - after, `${valueKind}: overwriting frees the old values`).toBeGreaterThanOrEqual(190 * 10_000);
      }
    });
  });

  describe('same-size grows', () => {
    it('insert/delete churn at constant size triggers same-size grows, never a doubling, overflow stays bounded', () => {
      for (const seed of [12345n, randomSeed()]) {
        const m = i64Map({ seed });
        const live: bigint[] = [];
        let next = 0n;
        const fresh = (): bigint => (next++ * 0x9e3779b97f4a7c15n) & 0x7fffffffffffffffn;
        while (live.length < 100) {
          const k = fresh();
          m.set(k, 1);
          live.push(k);
        }
        const firstHundred = new Set(live);
        const s0 = m.stats();
        expect(s0.B).toBe(4); // 100 entries: 16 buckets (6.5 × 16 = 104)
        let rnd = Number(seed & 0xffffn) + 1;
        let maxOverflow = 0;
        for (let op = 0; op < 400_000 && m.stats().sameSizeGrows < 3; op++) {
          if (live.length >= 100) {
            rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0;
            const i = rnd % live.length;
            const k = live[i]!;
            live[i] = live[live.length - 1]!;
            live.pop();
            expect(m.delete(k)).toBe(true);
          } else {
            const k = fresh();
            m.set(k, 2);
            live.push(k);
          }
          const s = m.stats();
          maxOverflow = Math.max(maxOverflow, s.overflowBuckets);
          if (s.B !== 4 || s.grows !== s0.grows) throw new Error(`churn at 99–100 entries doubled the table: ${JSON.stringify(s)}`);
          if (s.count !== live.length) throw new Error('count drifted');
        }
        const s = m.stats();
        expect(s.sameSizeGrows, `seed ${seed}: same-size grows after churn`).toBeGreaterThan(0);
        expect(maxOverflow, 'overflow buckets are cleaned up by same-size grows').toBeLessThanOrEqual(4 * s.buckets);
        const model = new Model('i64', 'f64');
        for (const k of live) model.set(k, firstHundred.has(k) ? 1 : 2);
        expectMapMatches(m, model);
        expect(m.size).toBe(live.length);
      }
    });
  });
});
