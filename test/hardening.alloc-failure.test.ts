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
import { GoMap } from '../lib/index.ts';
import { describeEachBackend, loadedBackend } from './helpers/backends.ts';
import {
  Model,
  bulkKey,
  bulkValue,
  errorCode,
  expectMapMatches,
  makeMap,
  type KeyKindName,
  type LooseMap,
  type ValueKindName,
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
        const dry = runOnce(k, 0);
        expect(dry.threw).toBe(0);
        expect(dry.allocations).toBeGreaterThan(20);
        let surfaced = 0;
        for (let n = 1; n <= dry.allocations; n++) surfaced += runOnce(k, n).threw;
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
