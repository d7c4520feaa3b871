/**
 * Allocation failure through the public API (API.md "Errors": memory that cannot be
 * allocated is a RangeError, and the map is unchanged after any thrown error).
 *
 * The core routes every byte through native/core/alloc.h, whose test hook makes the Nth
 * allocation from now fail (once). The addon exposes that hook as `__testing` only when
 * GOMAP_TESTING=1 is set when it loads (native/addon/testing.h): this file sets it in
 * `vi.hoisted`, which runs before gomap is imported (each test file runs in its own
 * process, see vitest.config.ts).
 *
 * For each pair of key / value kinds, a deterministic workload (fixed seed, so every run
 * makes the same allocations) goes through GoMap's public methods: inserts that grow the
 * table, long keys and values (out-of-line boxes), overwrites, deletes, setMany with new
 * and existing keys, the constructor with entries, reserve, shrink, clear, and sets
 * inside a for..of over the map. A dry run counts its core allocations A; then for every
 * N in 1..A the workload runs again with allocation N failing, and:
 *   - the operation that meets the failure either completes, or throws a RangeError
 *     (code ERR_GOMAP_NO_MEMORY) and leaves the map equal to a JS Map model of it;
 *   - no other operation throws, and at most one throws per run;
 *   - the map is still usable afterwards (the rest of the workload runs and the final
 *     contents equal the model).
 * The number of injected failures tried is printed (the CI log's figure).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.GOMAP_TESTING = '1';
});

import { binding } from '../lib/backend.ts';
import { GoCache, GoMap } from '../lib/index.ts';
import { describeEachBackend, loadedBackend } from './helpers/backends.ts';
import {
  Model,
  bulkKey,
  bulkValue,
  errorCode,
  expectEntriesMatch,
  expectMapMatches,
  makeMap,
  type KeyKindName,
  type LooseMap,
  type ValueKindName,
  valuesEqual,
} from './helpers/kinds.ts';

interface TestingHooks {
  failNthAllocation(n: number): void;
  allocationCount(): number;
}

const hooks = (binding as unknown as { __testing?: TestingHooks }).__testing;

/** The hooks, or a failing test that says why they are missing. */
function requireHooks(): TestingHooks {
  if (hooks === undefined) {
    throw new Error(
      `the ${loadedBackend} backend does not export __testing although GOMAP_TESTING=1 was set before it loaded ` +
        '(native/addon/testing.h; a WebAssembly build must export the same two functions)',
    );
  }
  return hooks;
}

/** A value of the kind; every third string / bytes value is long (an out-of-line box). */
function valueFor(kind: ValueKindName, i: number): unknown {
  if (kind === 'string' && i % 3 === 0) return `a long value that lives outside the bucket #${i}`;
  if (kind === 'bytes' && i % 3 === 0) return Buffer.alloc(40 + (i % 7), i & 255);
  return bulkValue(kind, i);
}

type Step = (m: LooseMap, model: Model, kinds: Kinds) => void;
interface Kinds {
  key: KeyKindName;
  value: ValueKindName;
}

function setStep(i: number, v: number): Step {
  return (m, model, k) => {
    const key = bulkKey(k.key, i);
    const value = valueFor(k.value, v);
    m.set(key, value);
    model.set(key, value);
  };
}

/** The workload: named steps, deterministic for given kinds. */
function workload(): { name: string; run: Step }[] {
  const steps: { name: string; run: Step }[] = [];
  for (let i = 0; i < 70; i++) steps.push({ name: `set ${i}`, run: setStep(i, i) });
  for (let i = 0; i < 70; i += 4) steps.push({ name: `overwrite ${i}`, run: setStep(i, i + 1000) });
  for (let i = 1; i < 70; i += 5) {
    steps.push({
      name: `delete ${i}`,
      run: (m, model, k) => {
        const key = bulkKey(k.key, i);
        expect(m.delete(key)).toBe(model.delete(key));
      },
    });
  }
  steps.push({
    name: 'setMany (new and existing keys)',
    run: (m, model, k) => {
      const entries: [unknown, unknown][] = [];
      for (let i = 60; i < 110; i++) entries.push([bulkKey(k.key, i), valueFor(k.value, i + 7)]);
      m.setMany(entries);
      for (const [key, value] of entries) model.set(key, value);
    },
  });
  steps.push({
    name: 'constructor with entries',
    run: (_m, _model, k) => {
      const entries: [unknown, unknown][] = [];
      for (let i = 0; i < 30; i++) entries.push([bulkKey(k.key, 500 + i), valueFor(k.value, i)]);
      const other = new GoMap<unknown, unknown>(entries as never, { key: k.key, value: k.value, seed: 7n } as never);
      expect(other.size).toBe(30);
      other.close();
    },
  });
  steps.push({ name: 'reserve(400)', run: (m) => m.reserve(400) });
  for (let i = 110; i < 130; i++) steps.push({ name: `set ${i}`, run: setStep(i, i) });
  steps.push({
    name: 'sets inside for..of',
    run: (m, model, k) => {
      let n = 0;
      for (const entry of m) {
        void entry;
        if (n % 9 === 0) {
          const key = bulkKey(k.key, 2000 + n);
          const value = valueFor(k.value, n);
          m.set(key, value);
          model.set(key, value);
        }
        if (++n > 60) break;
      }
    },
  });
  for (let i = 0; i < 130; i += 2) {
    steps.push({
      name: `delete ${i}`,
      run: (m, model, k) => {
        const key = bulkKey(k.key, i);
        expect(m.delete(key)).toBe(model.delete(key));
      },
    });
  }
  steps.push({ name: 'shrink()', run: (m) => m.shrink() });
  for (let i = 130; i < 150; i++) steps.push({ name: `set ${i}`, run: setStep(i, i) });
  steps.push({
    name: 'clear()',
    run: (m, model) => {
      m.clear();
      model.clear();
    },
  });
  for (let i = 150; i < 170; i++) steps.push({ name: `set ${i}`, run: setStep(i, i) });
  return steps;
}

interface RunResult {
  allocations: number;
  threw: number;
}

/** One run of the workload with allocation `failAt` failing (0: none). */
function runOnce(k: Kinds, failAt: number): RunResult {
  const h = requireHooks();
  const steps = workload();
  const m = makeMap({ key: k.key, value: k.value, seed: 12345n });
  const model = new Model(k.key, k.value);
  const a0 = h.allocationCount();
  h.failNthAllocation(failAt);
  let threw = 0;
  let stopAt = steps.length;
  try {
    for (let s = 0; s < stopAt; s++) {
      const step = steps[s]!;
      try {
        step.run(m, model, k);
      } catch (e) {
        h.failNthAllocation(0);
        const where = `'${k.key}' → '${k.value}', allocation ${failAt} failing, step "${step.name}"`;
        if (!(e instanceof RangeError)) throw new Error(`${where}: threw ${String(e)}, not a RangeError`, { cause: e });
        expect(errorCode(e), where).toBe('ERR_GOMAP_NO_MEMORY');
        threw++;
        expect(threw, `${where}: a second operation failed`).toBe(1);
        // Unchanged: the model holds exactly the operations that completed.
        expectMapMatches(m, model);
        // Still usable: the next 25 steps run (without failures), then the final check.
        stopAt = Math.min(stopAt, s + 26);
      }
    }
    h.failNthAllocation(0);
    const allocations = h.allocationCount() - a0;
    expectMapMatches(m, model);
    return { allocations, threw };
  } finally {
    h.failNthAllocation(0);
    m.close();
  }
}

/**
 * Runs a workload once with no failure (`run(0)`: it must not throw), then once per
 * allocation it made, with that allocation failing (`run(n)`); returns how many
 * allocations it made and how many of the injected failures surfaced as a throw.
 */
function sweepAllocations(run: (failAt: number) => RunResult): { allocations: number; surfaced: number } {
  const dry = run(0);
  expect(dry.threw).toBe(0);
  let surfaced = 0;
  for (let n = 1; n <= dry.allocations; n++) surfaced += run(n).threw;
  return { allocations: dry.allocations, surfaced };
}

const KIND_PAIRS: Kinds[] = [
  { key: 'string', value: 'string' },
  { key: 'i64', value: 'f64' },
  { key: 'f64', value: 'bytes' },
  { key: 'any', value: 'any' },
  { key: 'bytes', value: 'json' },
  { key: 'any', value: 'string' },
];

let totalInjected = 0;

describeEachBackend('GoMap: allocation failure through the public API', () => {
  afterEach(() => {
    hooks?.failNthAllocation(0);
  });

  it('the test hooks exist only because GOMAP_TESTING=1 was set before loading', () => {
    const h = requireHooks();
    expect(typeof h.failNthAllocation).toBe('function');
    // The hook really fails an allocation: the first insert into a fresh map needs one.
    const m = makeMap({ key: 'string', value: 'string' });
    h.failNthAllocation(1);
    expect(() => m.set('k', 'v')).toThrow(RangeError);
    expect(m.size).toBe(0);
    m.set('k', 'v');
    expect(m.get('k')).toBe('v');
    m.close();
  });

  describe('every allocation of a workload, failed in turn', () => {
    for (const k of KIND_PAIRS) {
      it(`'${k.key}' keys → '${k.value}' values: RangeError + unchanged map, or success; usable after`, () => {
        const dry = sweepAllocations((n) => runOnce(k, n));
        expect(dry.allocations).toBeGreaterThan(20);
        const surfaced = dry.surfaced;
        totalInjected += dry.allocations;
        // Most injected failures surface as a RangeError; some are absorbed (a grow that
        // cannot start leaves the table fuller; a delete skips growth work).
        expect(surfaced).toBeGreaterThan(dry.allocations / 2);
        console.log(
          `alloc-failure sweep '${k.key}' → '${k.value}': ${dry.allocations} injected failures tried, ` +
            `${surfaced} surfaced as RangeError, the rest absorbed`,
        );
      });
    }
  });

  it('prints the total number of injected failures tried', () => {
    expect(totalInjected).toBeGreaterThan(KIND_PAIRS.length * 20);
    console.log(`alloc-failure sweep total: ${totalInjected} injected allocation failures tried`);
  });
});

// ---------------------------------------------------------------------------------
// GoCache: the same sweep over a cache workload (both engines)
// ---------------------------------------------------------------------------------

type LooseCache = GoCache<unknown, unknown>;
type CacheStep = { name: string; run: (c: LooseCache, k: Kinds) => void };
const manualClock = Symbol.for('gomap.cache.manualClock');
const CACHE_MAX = 40;

function setTime(c: LooseCache, ms: number): void {
  (c as unknown as Record<symbol, (ms: number) => void>)[manualClock]!(ms);
}

/**
 * A cache workload that reaches every allocating path of the cache core: inserts past
 * `max` (evictions, table growth up to the cache's growth limit), entries with a ttl (the
 * expiry index), overwrites with long values (out-of-line boxes, 'set' reports), reads,
 * deletes, expiry on read and on the write sweep, purgeStale, clear, and inserts after.
 */
function cacheWorkload(): CacheStep[] {
  const steps: CacheStep[] = [];
  const set = (i: number, v: number, ttl?: number): CacheStep => ({
    name: `set ${i}${ttl === undefined ? '' : ` ttl ${ttl}`}`,
    run: (c, k) => void c.set(bulkKey(k.key, i), valueFor(k.value, v), ttl === undefined ? undefined : { ttl }),
  });
  const read = (what: 'get' | 'peek' | 'has' | 'delete', i: number): CacheStep => ({
    name: `${what} ${i}`,
    run: (c, k) => void c[what](bulkKey(k.key, i)),
  });
  steps.push({ name: 'time 1000', run: (c) => setTime(c, 1000) });
  for (let i = 0; i < 60; i++) steps.push(set(i, i, i % 4 === 0 ? 30 : undefined));
  for (let i = 0; i < 60; i += 3) steps.push(read('get', i));
  for (let i = 20; i < 60; i += 3) steps.push(set(i, i + 1000));
  for (let i = 5; i < 60; i += 7) steps.push(read('delete', i));
  steps.push({ name: 'time 2000', run: (c) => setTime(c, 2000) });
  for (let i = 0; i < 60; i += 8) steps.push(read(i % 16 === 0 ? 'peek' : 'has', i));
  for (let i = 60; i < 90; i++) steps.push(set(i, i, i % 5 === 0 ? 10 : undefined));
  steps.push({ name: 'time 3000', run: (c) => setTime(c, 3000) });
  steps.push({ name: 'purgeStale()', run: (c) => c.purgeStale() });
  for (let i = 90; i < 100; i++) steps.push(set(i, i));
  steps.push({ name: 'clear()', run: (c) => c.clear() });
  for (let i = 100; i < 120; i++) steps.push(set(i, i, i % 3 === 0 ? 50 : undefined));
  return steps;
}

interface CacheSnapshot {
  model: Model;
  size: number;
  bytes: number;
  reports: number;
}

function cacheSnapshot(c: LooseCache, k: Kinds, reports: unknown[]): CacheSnapshot {
  const model = new Model(k.key, k.value);
  for (const [key, value] of c.entries()) model.set(key, value);
  const s = c.stats();
  return { model, size: s.size, bytes: s.bytes, reports: reports.length };
}

function expectCacheUnchanged(c: LooseCache, before: CacheSnapshot, reports: unknown[], where: string): void {
  const s = c.stats();
  expect(s.size, `${where}: size`).toBe(before.size);
  expect(s.bytes, `${where}: bytes`).toBe(before.bytes);
  expect(reports.length, `${where}: onEvict calls`).toBe(before.reports);
  expectEntriesMatch(before.model, c.entries(), `${where}: entries()`);
}

/** One run of the cache workload with allocation `failAt` failing (0: none). */
function runCacheOnce(k: Kinds, failAt: number): RunResult {
  const h = requireHooks();
  const steps = cacheWorkload();
  const reports: unknown[] = [];
  const c = new GoCache<unknown, unknown>({
    max: CACHE_MAX,
    key: k.key,
    value: k.value,
    seed: 12345n,
    onEvict: (_v: unknown, _k: unknown, reason: string) => reports.push(reason),
  } as never);
  const a0 = h.allocationCount();
  h.failNthAllocation(failAt);
  let threw = 0;
  let stopAt = steps.length;
  try {
    for (let s = 0; s < stopAt; s++) {
      const step = steps[s]!;
      // Only steps that may meet the failure need a snapshot.
      const before = failAt !== 0 && threw === 0 && h.allocationCount() - a0 < failAt ? cacheSnapshot(c, k, reports) : null;
      try {
        step.run(c, k);
      } catch (e) {
        h.failNthAllocation(0);
        const where = `GoCache '${k.key}' → '${k.value}', allocation ${failAt} failing, step "${step.name}"`;
        if (!(e instanceof RangeError)) throw new Error(`${where}: threw ${String(e)}, not a RangeError`, { cause: e });
        expect(errorCode(e), where).toBe('ERR_GOMAP_NO_MEMORY');
        threw++;
        expect(threw, `${where}: a second operation failed`).toBe(1);
        expect(before, `${where}: failed although its allocations were done`).not.toBeNull();
        expectCacheUnchanged(c, before!, reports, where);
        stopAt = Math.min(stopAt, s + 26);
      }
      expect(c.size).toBeLessThanOrEqual(CACHE_MAX);
    }
    h.failNthAllocation(0);
    const allocations = h.allocationCount() - a0;
    // Still consistent: every entry iterated reads back its value.
    for (const [key, value] of c.entries()) {
      if (!valuesEqual(k.value, c.peek(key), value)) throw new Error(`GoCache entry ${String(key)} reads back differently`);
    }
    return { allocations, threw };
  } finally {
    h.failNthAllocation(0);
    c.close();
  }
}

const CACHE_KIND_PAIRS: Kinds[] = [
  { key: 'string', value: 'string' },
  { key: 'i64', value: 'f64' },
  { key: 'any', value: 'any' },
  { key: 'bytes', value: 'json' },
  { key: 'f64', value: 'bytes' },
];

let cacheInjected = 0;

describeEachBackend('GoCache: allocation failure through the public API', () => {
  afterEach(() => {
    hooks?.failNthAllocation(0);
  });

  for (const k of CACHE_KIND_PAIRS) {
    it(`'${k.key}' keys → '${k.value}' values: RangeError + unchanged cache (no onEvict call), or success; usable after`, () => {
      const dry = sweepAllocations((n) => runCacheOnce(k, n));
      expect(dry.allocations).toBeGreaterThan(10);
      const surfaced = dry.surfaced;
      cacheInjected += dry.allocations;
      expect(surfaced).toBeGreaterThan(0);
      console.log(
        `alloc-failure sweep GoCache '${k.key}' → '${k.value}': ${dry.allocations} injected failures tried, ` +
          `${surfaced} surfaced as RangeError, the rest absorbed`,
      );
    });
  }

  it('prints the total number of injected failures tried', () => {
    expect(cacheInjected).toBeGreaterThan(CACHE_KIND_PAIRS.length * 10);
    console.log(`alloc-failure sweep GoCache total: ${cacheInjected} injected allocation failures tried`);
  });
});
