/**
 * Go's iteration guarantees (API.md "Iteration order is unspecified"):
 *  - an entry present for the whole iteration is produced exactly once, also while the
 *    table grows (incrementally, several doublings) or is reshaped;
 *  - an entry deleted before it is reached is never produced (so every produced entry
 *    is live when produced, with its current value);
 *  - an entry added during iteration may or may not be produced (but never twice);
 *  - mutating during iteration never throws and never corrupts the map;
 *  - the order is not insertion order, and starts at a random place;
 *  - abandoned or early-terminated iterators leave the map usable.
 */
import { describe, expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.ts';
import {
  KEY_KINDS,
  Model,
  bulkKey,
  checkStatsInvariants,
  describeValue,
  expectClosed,
  expectMapMatches,
  makeMap,
  modelKey,
  randomSeed,
  type KeyKindName,
} from './helpers/kinds.ts';

/** Small deterministic PRNG (mulberry32) so failures can be replayed from the printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The live keys of a map under test, with O(1) random pick and removal. */
class LiveSet {
  private readonly list: unknown[] = [];
  private readonly index = new Map<unknown, number>();
  readonly entries = new Map<unknown, { key: unknown; value: number }>();
  constructor(private readonly kind: KeyKindName) {}
  add(key: unknown, value: number): void {
    const mk = modelKey(this.kind, key);
    if (!this.index.has(mk)) {
      this.index.set(mk, this.list.length);
      this.list.push(mk);
    }
    this.entries.set(mk, { key, value });
  }
  remove(mk: unknown): void {
    const i = this.index.get(mk);
    if (i === undefined) return;
    const last = this.list.pop();
    if (i < this.list.length) {
      this.list[i] = last;
      this.index.set(last, i);
    }
    this.index.delete(mk);
    this.entries.delete(mk);
  }
  pick(rnd: () => number): unknown {
    return this.list[Math.floor(rnd() * this.list.length)];
  }
  get size(): number {
    return this.list.length;
  }
}

interface ChurnOptions {
  keyKind: KeyKindName;
  seed?: bigint;
  rngSeed: number;
  initial: number;
  /** mutations after each produced entry */
  opsPerStep: number;
  /** probabilities of insert-new and delete (the rest are value updates) */
  pInsert: number;
  pDelete: number;
  /** at most this many keys are inserted during the iteration (so it must end); default 30 × initial */
  insertBudget?: number;
  /** get the table growing before the iteration starts */
  startWhileGrowing?: boolean;
  /** which way to iterate */
  via: 'entries' | 'iterator' | 'keys' | 'forEach';
}

interface ChurnResult {
  growsDuring: number;
  sawGrowing: boolean;
  produced: number;
  presentThroughout: number;
}

/**
 * Iterates while mutating at random, checking every guarantee as it goes; keys are
 * never re-inserted after a delete, so "produced twice" is always a bug.
 */
function churnDuringIteration(o: ChurnOptions): ChurnResult {
  const rnd = prng(o.rngSeed);
  const opts: { key: KeyKindName; value: 'f64'; seed?: bigint } = { key: o.keyKind, value: 'f64' };
  if (o.seed !== undefined) opts.seed = o.seed;
  const m = makeMap(opts);
  const live = new LiveSet(o.keyKind);
  let nextId = 0;
  const insert = (): void => {
    const id = nextId++;
    const k = bulkKey(o.keyKind, id);
    m.set(k, id);
    live.add(k, id);
  };
  for (let i = 0; i < o.initial; i++) insert();
  if (o.startWhileGrowing) {
    let guard = 0;
    while (!m.stats().growing) {
      insert();
      if (++guard > 1_000_000) throw new Error('the table never started growing');
    }
  }
  const atStart = new Set(live.entries.keys());
  const maxId = nextId + (o.insertBudget ?? 30 * o.initial);
  const deleted = new Set<unknown>();
  const produced = new Set<unknown>();
  const grows0 = m.stats().grows;
  let sawGrowing = m.stats().growing;
  const where = `keyKind=${o.keyKind} rngSeed=${o.rngSeed} seed=${String(o.seed)}`;

  const visit = (k: unknown, v: unknown, hasValue: boolean): void => {
    const mk = modelKey(o.keyKind, k);
    if (produced.has(mk)) throw new Error(`${where}: key ${describeValue(k)} produced twice`);
    produced.add(mk);
    const e = live.entries.get(mk);
    if (!e) {
      throw new Error(
        `${where}: produced ${describeValue(k)}, which is ${deleted.has(mk) ? 'deleted (before it was reached)' : 'not in the map'}`,
      );
    }
    if (hasValue && !Object.is(v, e.value)) throw new Error(`${where}: ${describeValue(k)} produced with value ${String(v)}, current is ${e.value}`);
    for (let j = 0; j < o.opsPerStep; j++) {
      const r = rnd();
      if ((r < o.pInsert || live.size === 0) && nextId < maxId) insert();
      else if (live.size === 0) continue;
      else if (r < o.pInsert + o.pDelete) {
        const victim = live.pick(rnd);
        const key = live.entries.get(victim)!.key;
        if (m.delete(key) !== true) throw new Error(`${where}: delete(${describeValue(key)}) of a live key returned false`);
        live.remove(victim);
        deleted.add(victim);
      } else if (r < o.pInsert + o.pDelete + 0.05 && nextId + 3 <= maxId) {
        // a batch: three new keys and one overwrite in one setMany
        const target = live.pick(rnd);
        const batch: [unknown, number][] = [];
        for (let b = 0; b < 3; b++) {
          const id = nextId++;
          batch.push([bulkKey(o.keyKind, id), id]);
        }
        const nv = -nextId - 0.5;
        batch.push([live.entries.get(target)!.key, nv]);
        m.setMany(batch);
        for (const [k, v] of batch) live.add(k, v);
      } else {
        const target = live.pick(rnd);
        const key = live.entries.get(target)!.key;
        const nv = -nextId - rnd();
        m.set(key, nv);
        live.add(key, nv);
      }
    }
    if (!sawGrowing && m.stats().growing) sawGrowing = true;
  };

  switch (o.via) {
    case 'entries':
      for (const [k, v] of m.entries()) visit(k, v, true);
      break;
    case 'iterator':
      for (const [k, v] of m) visit(k, v, true);
      break;
    case 'keys':
      for (const k of m.keys()) visit(k, undefined, false);
      break;
    case 'forEach':
      m.forEach((v, k) => visit(k, v, true));
      break;
  }

  let presentThroughout = 0;
  for (const mk of atStart) {
    if (deleted.has(mk)) continue;
    presentThroughout++;
    if (!produced.has(mk)) {
      throw new Error(`${where}: ${describeValue(live.entries.get(mk)?.key)} was in the map for the whole iteration but never produced`);
    }
  }
  // the map is intact afterwards
  const model = new Model(o.keyKind, 'f64');
  for (const { key, value } of live.entries.values()) model.set(key, value);
  expectMapMatches(m, model);
  const s = m.stats();
  checkStatsInvariants(s, live.size);
  m.close();
  return { growsDuring: s.grows - grows0, sawGrowing, produced: produced.size, presentThroughout };
}

describeEachBackend('GoMap: iteration guarantees under mutation', () => {
  describe('present for the whole iteration → exactly once, across several doublings', () => {
    for (const keyKind of KEY_KINDS) {
      it(`'${keyKind}' keys, inserting 30x the table size during the iteration`, () => {
        for (const [rngSeed, seed] of [
          [1, 42n],
          [2, randomSeed()],
        ] as const) {
          const r = churnDuringIteration({ keyKind, seed, rngSeed, initial: 1000, opsPerStep: 30, pInsert: 0.9, pDelete: 0.03, via: 'entries' });
          expect(r.growsDuring, 'the table must have doubled several times during the iteration').toBeGreaterThanOrEqual(3);
          expect(r.sawGrowing, 'an incremental grow must have been in progress during the iteration').toBe(true);
          if (process.env.GOMAP_TEST_VERBOSE) process.stderr.write(`[iteration] ${keyKind}: ${JSON.stringify(r)}\n`);
          expect(r.presentThroughout, 'entries present throughout').toBeGreaterThan(200);
        }
      });
    }

    it('an iterator started while a grow is in progress (Go: it.B == h.B)', () => {
      for (let rngSeed = 10; rngSeed < 14; rngSeed++) {
        const r = churnDuringIteration({
          keyKind: 'i64',
          rngSeed,
          initial: 500 + rngSeed * 97,
          opsPerStep: 3,
          pInsert: 0.6,
          pDelete: 0.3,
          startWhileGrowing: true,
          via: 'iterator',
        });
        expect(r.presentThroughout).toBeGreaterThan(0);
      }
    });

    it('one big insert wave right after the first entry', () => {
      const m = makeMap({ key: 'i64', value: 'f64', seed: 7n });
      for (let i = 0n; i < 1000n; i++) m.set(i, Number(i));
      const seen = new Map<bigint, number>();
      const g0 = m.stats().grows;
      let first = true;
      let sawGrowing = false;
      for (const [k] of m) {
        seen.set(k as bigint, (seen.get(k as bigint) ?? 0) + 1);
        if (first) {
          first = false;
          for (let i = 1_000_000n; i < 1_050_000n; i++) {
            m.set(i, 0);
            if (!sawGrowing && m.stats().growing) sawGrowing = true;
          }
        }
      }
      expect(m.stats().grows - g0).toBeGreaterThanOrEqual(5);
      expect(sawGrowing).toBe(true);
      for (let i = 0n; i < 1000n; i++) expect(seen.get(i), `key ${i}`).toBe(1);
      for (const [k, n] of seen) expect(n, `key ${k}`).toBe(1);
      expect(m.size).toBe(51_000);
    });
  });

  describe('deleted before reached → never produced', () => {
    for (const keyKind of KEY_KINDS) {
      it(`'${keyKind}' keys, deleting at random during the iteration (also the current key)`, () => {
        for (let rngSeed = 20; rngSeed < 23; rngSeed++) {
          churnDuringIteration({ keyKind, rngSeed, initial: 3000, opsPerStep: 2, pInsert: 0.1, pDelete: 0.8, via: 'entries' });
        }
      });
    }

    it('deleting half of the keys after the first entry', () => {
      const m = makeMap({ key: 'string', value: 'f64' });
      for (let i = 0; i < 2000; i++) m.set(`k${i}`, i);
      const seen: string[] = [];
      const deleted = new Set<string>();
      for (const k of m.keys()) {
        seen.push(k as string);
        if (seen.length === 1) {
          for (let i = 0; i < 2000; i += 2) if (`k${i}` !== k) {
            m.delete(`k${i}`);
            deleted.add(`k${i}`);
          }
        }
      }
      expect(seen.slice(1).filter((k) => deleted.has(k))).toEqual([]);
      expect(new Set(seen).size).toBe(seen.length);
      for (let i = 1; i < 2000; i += 2) expect(seen).toContain(`k${i}`);
      expect(seen.length).toBe(deleted.has(seen[0]!) || Number(seen[0]!.slice(1)) % 2 === 0 ? 1001 : 1000);
    });

    it('clear() during iteration: nothing of the old contents is produced afterwards', () => {
      const m = makeMap({ key: 'f64', value: 'f64' });
      for (let i = 0; i < 5000; i++) m.set(i, i);
      const it = m.entries();
      const firsts = [it.next(), it.next(), it.next()];
      expect(firsts.every((r) => !r.done)).toBe(true);
      m.clear();
      for (let i = 10_000; i < 10_100; i++) m.set(i, i);
      const rest: number[] = [];
      for (let r = it.next(); !r.done; r = it.next()) rest.push((r.value as [number, number])[0]);
      expect(rest.filter((k) => k < 10_000)).toEqual([]);
      expect(new Set(rest).size).toBe(rest.length);
      expect(m.size).toBe(100);
      expect([...m.keys()].sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 100 }, (_, i) => 10_000 + i));
    });
  });

  describe('mutation during iteration never throws or corrupts', () => {
    for (const via of ['entries', 'iterator', 'keys', 'forEach'] as const) {
      it(`balanced churn through ${via}`, () => {
        for (let rngSeed = 30; rngSeed < 33; rngSeed++) {
          for (const keyKind of ['i64', 'string', 'any'] as const) {
            churnDuringIteration({ keyKind, rngSeed, initial: 1500, opsPerStep: 4, pInsert: 0.4, pDelete: 0.4, via });
          }
        }
      });
    }

    it('several interleaved iterators over one changing map each keep the guarantees', () => {
      for (const keyKind of ['any', 'string', 'i64'] as const) {
        const rnd = prng(77);
        const m = makeMap({ key: keyKind, value: 'f64' });
        const live = new LiveSet(keyKind);
        let nextId = 0;
        for (; nextId < 3000; nextId++) {
          m.set(bulkKey(keyKind, nextId), nextId);
          live.add(bulkKey(keyKind, nextId), nextId);
        }
        const atStart = new Set(live.entries.keys());
        const deleted = new Set<unknown>();
        const its = [m.entries(), m.keys(), m[Symbol.iterator](), m.values()];
        const produced = its.map(() => new Set<unknown>());
        const done = its.map(() => false);
        const grows0 = m.stats().grows;
        while (done.some((d) => !d)) {
          its.forEach((it, j) => {
            if (done[j]) return;
            const r = it.next();
            if (r.done) {
              done[j] = true;
              return;
            }
            if (j === 3) return; // values(): nothing to identify
            const k = j === 1 ? r.value : (r.value as [unknown, unknown])[0];
            const mk = modelKey(keyKind, k);
            if (produced[j]!.has(mk)) throw new Error(`iterator ${j} produced ${describeValue(k)} twice`);
            produced[j]!.add(mk);
            if (!live.entries.has(mk)) throw new Error(`iterator ${j} produced ${describeValue(k)}, which is not in the map`);
          });
          for (let op = 0; op < 3; op++) {
            if (rnd() < 0.7 && nextId < 40_000) {
              m.set(bulkKey(keyKind, nextId), nextId);
              live.add(bulkKey(keyKind, nextId), nextId);
              nextId++;
            } else if (live.size > 0) {
              const victim = live.pick(rnd);
              expect(m.delete(live.entries.get(victim)!.key)).toBe(true);
              live.remove(victim);
              deleted.add(victim);
            }
          }
        }
        expect(m.stats().grows - grows0, 'the table grew while the iterators ran').toBeGreaterThan(0);
        for (const mk of atStart) {
          if (deleted.has(mk)) continue;
          for (let j = 0; j < 3; j++) expect(produced[j]!.has(mk), `iterator ${j} missed a key present throughout`).toBe(true);
        }
        m.close();
      }
    });

    it('shrink() and reserve() during iteration keep exactly-once for entries present throughout', () => {
      for (const action of ['shrink', 'reserve'] as const) {
        const m = makeMap({ key: 'i64', value: 'f64' });
        for (let i = 0n; i < 20_000n; i++) m.set(i, 1);
        for (let i = 0n; i < 20_000n; i++) if (i % 10n) m.delete(i); // 2,000 remain
        const seen = new Map<bigint, number>();
        const B0 = m.stats().B;
        let n = 0;
        for (const [k] of m) {
          seen.set(k as bigint, (seen.get(k as bigint) ?? 0) + 1);
          if (++n === 100) {
            if (action === 'shrink') m.shrink();
            else m.reserve(200_000);
          }
        }
        const B1 = m.stats().B;
        if (action === 'shrink') expect(B1).toBeLessThan(B0);
        else expect(B1).toBeGreaterThan(B0);
        for (let i = 0n; i < 20_000n; i += 10n) expect(seen.get(i), `${action}: key ${i}`).toBe(1);
        expect(seen.size).toBe(2000);
        expect(m.size).toBe(2000);
      }
    });

    it('forEach deleting the current key and keys ahead of it', () => {
      const m = makeMap({ key: 'string', value: 'any' });
      for (let i = 0; i < 3000; i++) m.set(`k${i}`, { i });
      const visited = new Set<string>();
      const deleted = new Set<string>();
      m.forEach((v, k) => {
        const key = k as string;
        expect(visited.has(key)).toBe(false);
        expect(deleted.has(key)).toBe(false);
        visited.add(key);
        expect((v as { i: number }).i).toBe(Number(key.slice(1)));
        const i = Number(key.slice(1));
        for (const j of [i, (i * 7 + 1) % 3000, (i + 1) % 3000]) {
          if (m.delete(`k${j}`)) deleted.add(`k${j}`);
        }
      });
      // a key is visited unless it was deleted before it was reached
      for (let i = 0; i < 3000; i++) expect(visited.has(`k${i}`) || deleted.has(`k${i}`), `k${i}`).toBe(true);
      expect(m.size).toBe(3000 - deleted.size);
    });

    it('forEach inserting during the callback (grows) terminates and visits the old keys once', () => {
      const m = makeMap({ key: 'i64', value: 'f64' });
      for (let i = 0n; i < 500n; i++) m.set(i, 0);
      const count = new Map<bigint, number>();
      let next = 10_000n;
      m.forEach((_v, k) => {
        count.set(k as bigint, (count.get(k as bigint) ?? 0) + 1);
        if (next < 30_000n) for (let j = 0; j < 50; j++) m.set(next++, 1);
      });
      for (let i = 0n; i < 500n; i++) expect(count.get(i)).toBe(1);
      for (const [k, n] of count) expect(n, `key ${k}`).toBe(1);
      expect(m.size).toBe(500 + Number(next - 10_000n));
    });
  });

  describe('order', () => {
    it('is not insertion order (fixed seed, 1000 keys, several key kinds)', () => {
      for (const keyKind of KEY_KINDS) {
        const m = makeMap({ key: keyKind, value: 'f64', seed: 0x5eedn });
        const inserted: unknown[] = [];
        for (let i = 0; i < 1000; i++) {
          const k = bulkKey(keyKind, i);
          inserted.push(modelKey(keyKind, k));
          m.set(k, i);
        }
        const order = [...m.keys()].map((k) => modelKey(keyKind, k));
        expect(order).toHaveLength(1000);
        expect(new Set(order)).toEqual(new Set(inserted));
        expect(order, keyKind).not.toEqual(inserted);
        expect(order, keyKind).not.toEqual([...inserted].reverse());
        // not even close: count positions that hold the key inserted there
        const same = order.filter((k, i) => k === inserted[i]).length;
        expect(same, `${keyKind}: keys in their insertion position`).toBeLessThan(100);
      }
    });

    it('two maps with different seeds iterate the same keys in different orders', () => {
      const a = makeMap({ key: 'string', value: 'f64', seed: 1n });
      const b = makeMap({ key: 'string', value: 'f64', seed: 2n });
      for (let i = 0; i < 1000; i++) {
        a.set(`user:${i}`, i);
        b.set(`user:${i}`, i);
      }
      expect([...a.keys()]).not.toEqual([...b.keys()]);
      expect(new Set(a.keys())).toEqual(new Set(b.keys()));
    });

    it('starts at a random place: repeated iterations of an unchanged map do not all agree', () => {
      const m = makeMap({ key: 'i64', value: 'f64', seed: 99n });
      for (let i = 0n; i < 1000n; i++) m.set(i, 0);
      const firsts = new Set<unknown>();
      const orders = new Set<string>();
      for (let r = 0; r < 20; r++) {
        const ks = [...m.keys()];
        firsts.add(ks[0]);
        orders.add(ks.join(','));
      }
      expect(firsts.size, 'first key over 20 iterations').toBeGreaterThan(1);
      expect(orders.size).toBeGreaterThan(1);
    });
  });

  describe('early exit and abandoned iterators', () => {
    it('break out of for-of leaves the map usable (and iterable again)', () => {
      const m = makeMap({ key: 'string', value: 'string' });
      for (let i = 0; i < 1000; i++) m.set(`k${i}`, `v${i}`);
      for (let round = 0; round < 100; round++) {
        let n = 0;
        for (const [k, v] of m) {
          expect(v).toBe(`v${(k as string).slice(1)}`);
          if (++n > round) break;
        }
      }
      expect(() => {
        for (const _ of m.values()) throw new Error('boom');
      }).toThrow('boom');
      m.set('after', 'x');
      expect(m.size).toBe(1001);
      expect([...m.keys()]).toHaveLength(1001);
      checkStatsInvariants(m.stats(), 1001);
    });

    it('iterator.return() ends the iteration', () => {
      const m = makeMap({ key: 'f64', value: 'f64' });
      for (let i = 0; i < 100; i++) m.set(i, i);
      const it = m.entries();
      expect(it.next().done).toBe(false);
      const r = it.return?.();
      if (r !== undefined) expect(r.done).toBe(true);
      if (it.return) expect(it.next().done).toBe(true);
      expect(m.size).toBe(100);
    });

    it('thousands of abandoned iterators, then growth, shrink, clear and close: no crash, map intact', () => {
      const m = makeMap({ key: 'i64', value: 'bytes' });
      const model = new Model('i64', 'bytes');
      for (let i = 0n; i < 2000n; i++) {
        m.set(i, Buffer.from([Number(i % 256n)]));
        model.set(i, Buffer.from([Number(i % 256n)]));
      }
      const abandoned: Iterator<unknown>[] = [];
      for (let j = 0; j < 3000; j++) {
        const it = j % 3 === 0 ? m.keys() : j % 3 === 1 ? m.values() : m.entries();
        for (let s = 0; s < j % 7; s++) it.next();
        abandoned.push(it);
      }
      for (let i = 2000n; i < 40_000n; i++) {
        m.set(i, Buffer.from([1]));
        model.set(i, Buffer.from([1]));
      }
      for (let i = 0n; i < 40_000n; i += 3n) {
        m.delete(i);
        model.delete(i);
      }
      m.shrink();
      expectMapMatches(m, model);
      // a resumed old iterator still obeys the rules: only live keys, no duplicates
      const it = abandoned[3]! as Iterator<unknown>;
      const seen = new Set<bigint>();
      for (let r = it.next(); !r.done; r = it.next()) {
        const k = r.value as bigint;
        expect(seen.has(k)).toBe(false);
        seen.add(k);
        expect(model.has(k), `resumed iterator produced ${k}`).toBe(true);
      }
      m.clear();
      expect(abandoned[4]!.next().done).toBe(true);
      m.close();
      expectClosed(() => abandoned[5]!.next());
    });

    it('an empty map and a one-entry map iterate correctly', () => {
      const e = makeMap({ key: 'string', value: 'f64' });
      expect([...e]).toEqual([]);
      let calls = 0;
      e.forEach(() => calls++);
      expect(calls).toBe(0);
      e.set('only', 1);
      expect([...e]).toEqual([['only', 1]]);
      e.delete('only');
      expect([...e.keys()]).toEqual([]);
    });
  });
});

