/**
 * Model-based tests: random operation sequences on a GoMap and on a JS `Map` model,
 * for every key kind × value kind (5 × 7). After every step the results and the size
 * must agree; the full contents (entries, keys, values, [Symbol.iterator], forEach,
 * get/has) are compared after iteration, bulk and table-reshaping steps and at the end,
 * and the stats() invariants are checked after every step.
 *
 * Keys come from a small per-run pool (so overwrites and deletes of live keys are
 * frequent) plus fresh random keys; bulk steps insert/delete hundreds of distinct keys
 * so the table grows through several sizes, incrementally.
 *
 * GOMAP_FC_SCALE=10 npx vitest run test/gomap.model.test.ts runs ten times more cases.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.ts';
import {
  KEY_KINDS,
  Model,
  VALUE_KINDS,
  bulkKey,
  bulkValue,
  checkStatsInvariants,
  describeValue,
  expectEntriesMatch,
  expectMapMatches,
  fcRuns,
  keyArb,
  makeMap,
  valueArb,
  valuesEqual,
  type KeyKindName,
  type LooseMap,
  type ValueKindName,
} from './helpers/kinds.ts';

type KeyRef = { pool: number } | { fresh: unknown };

type Op =
  | { t: 'set'; k: KeyRef; v: unknown }
  | { t: 'get' | 'has' | 'delete' | 'lookup'; k: KeyRef }
  | { t: 'getMany'; ks: KeyRef[] }
  | { t: 'setMany'; es: [KeyRef, unknown][] }
  | { t: 'clear' }
  | { t: 'iterate'; how: 'entries' | 'keys' | 'values' | 'iterator' | 'forEach' }
  | { t: 'shrink' }
  | { t: 'reserve'; n: number }
  | { t: 'bulkSet'; from: number; n: number }
  | { t: 'bulkDelete'; from: number; n: number; step: number };

interface Scenario {
  pool: unknown[];
  init: [KeyRef, unknown][];
  seed: bigint | undefined;
  hint: number | undefined;
  ops: Op[];
}

function scenarioArb(keyKind: KeyKindName, valueKind: ValueKindName): fc.Arbitrary<Scenario> {
  const key = keyArb(keyKind);
  const value = valueArb(valueKind);
  const ref: fc.Arbitrary<KeyRef> = fc.oneof(
    { arbitrary: fc.nat(15).map((pool) => ({ pool })), weight: 4 },
    { arbitrary: key.map((fresh) => ({ fresh })), weight: 1 },
  );
  const op: fc.Arbitrary<Op> = fc.oneof(
    { arbitrary: fc.record({ t: fc.constant('set' as const), k: ref, v: value }), weight: 30 },
    { arbitrary: fc.record({ t: fc.constantFrom('get' as const, 'has' as const, 'lookup' as const), k: ref }), weight: 15 },
    { arbitrary: fc.record({ t: fc.constant('delete' as const), k: ref }), weight: 14 },
    { arbitrary: fc.record({ t: fc.constant('getMany' as const), ks: fc.array(ref, { maxLength: 8 }) }), weight: 4 },
    { arbitrary: fc.record({ t: fc.constant('setMany' as const), es: fc.array(fc.tuple(ref, value), { maxLength: 8 }) }), weight: 4 },
    { arbitrary: fc.record({ t: fc.constant('clear' as const) }), weight: 1 },
    {
      arbitrary: fc.record({ t: fc.constant('iterate' as const), how: fc.constantFrom('entries' as const, 'keys' as const, 'values' as const, 'iterator' as const, 'forEach' as const) }),
      weight: 4,
    },
    { arbitrary: fc.record({ t: fc.constant('shrink' as const) }), weight: 2 },
    { arbitrary: fc.record({ t: fc.constant('reserve' as const), n: fc.nat(400) }), weight: 2 },
    { arbitrary: fc.record({ t: fc.constant('bulkSet' as const), from: fc.nat(300), n: fc.integer({ min: 1, max: 500 }) }), weight: 2 },
    {
      arbitrary: fc.record({ t: fc.constant('bulkDelete' as const), from: fc.nat(300), n: fc.integer({ min: 1, max: 500 }), step: fc.integer({ min: 1, max: 3 }) }),
      weight: 2,
    },
  );
  return fc.record({
    pool: fc.array(key, { minLength: 1, maxLength: 16 }),
    init: fc.array(fc.tuple(ref, value), { maxLength: 6 }),
    seed: fc.option(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { nil: undefined }),
    hint: fc.option(fc.nat(200), { nil: undefined, freq: 4 }),
    ops: fc.array(op, { minLength: 1, maxLength: 40 }),
  });
}

function run(keyKind: KeyKindName, valueKind: ValueKindName, sc: Scenario): void {
  const resolve = (r: KeyRef): unknown => ('pool' in r ? sc.pool[r.pool % sc.pool.length] : r.fresh);
  const model = new Model(keyKind, valueKind);
  for (const [k, v] of sc.init) model.set(resolve(k), v);
  const options: { key: KeyKindName; value: ValueKindName; seed?: bigint; hint?: number } = { key: keyKind, value: valueKind };
  if (sc.seed !== undefined) options.seed = sc.seed;
  if (sc.hint !== undefined) options.hint = sc.hint;
  const map: LooseMap = makeMap(options, sc.init.map(([k, v]) => [resolve(k), v] as const));
  try {
    expectMapMatches(map, model);
    for (const [step, op] of sc.ops.entries()) {
      const at = `step ${step} (${op.t})`;
      let full = false;
      switch (op.t) {
        case 'set': {
          const k = resolve(op.k);
          expect(map.set(k, op.v), `${at}: set returns this`).toBe(map);
          model.set(k, op.v);
          break;
        }
        case 'get': {
          const k = resolve(op.k);
          const got = map.get(k);
          const e = model.get(k);
          if (e ? !valuesEqual(valueKind, got, e.value) : got !== undefined) {
            throw new Error(`${at}: get(${describeValue(k)}) = ${describeValue(got)}, expected ${describeValue(e?.value)}`);
          }
          break;
        }
        case 'has': {
          const k = resolve(op.k);
          expect(map.has(k), `${at}: has(${describeValue(k)})`).toBe(model.has(k));
          break;
        }
        case 'lookup': {
          const k = resolve(op.k);
          const got = map.lookup(k);
          const e = model.get(k);
          expect(Array.isArray(got) && got.length === 2, `${at}: lookup returns a pair`).toBe(true);
          expect(got[1], `${at}: lookup(${describeValue(k)}) ok`).toBe(e !== undefined);
          if (e ? !valuesEqual(valueKind, got[0], e.value) : got[0] !== undefined) {
            throw new Error(`${at}: lookup(${describeValue(k)})[0] = ${describeValue(got[0])}, expected ${describeValue(e?.value)}`);
          }
          break;
        }
        case 'delete': {
          const k = resolve(op.k);
          expect(map.delete(k), `${at}: delete(${describeValue(k)})`).toBe(model.delete(k));
          break;
        }
        case 'getMany': {
          const ks = op.ks.map(resolve);
          const got = map.getMany(ks);
          expect(got.length, `${at}: getMany length`).toBe(ks.length);
          ks.forEach((k, i) => {
            const e = model.get(k);
            if (e ? !valuesEqual(valueKind, got[i], e.value) : got[i] !== undefined) {
              throw new Error(`${at}: getMany[${i}] for ${describeValue(k)} = ${describeValue(got[i])}, expected ${describeValue(e?.value)}`);
            }
          });
          break;
        }
        case 'setMany': {
          const es = op.es.map(([k, v]) => [resolve(k), v] as const);
          expect(map.setMany(es), `${at}: setMany returns this`).toBe(map);
          for (const [k, v] of es) model.set(k, v);
          break;
        }
        case 'clear':
          expect(map.clear()).toBeUndefined();
          model.clear();
          full = true;
          break;
        case 'iterate':
          switch (op.how) {
            case 'entries':
              expectEntriesMatch(model, map.entries(), 'entries()');
              break;
            case 'iterator':
              expectEntriesMatch(model, map, '[Symbol.iterator]');
              break;
            case 'forEach': {
              const seen: [unknown, unknown][] = [];
              map.forEach((v, k, self) => {
                if (self !== map) throw new Error(`${at}: forEach passed another map`);
                seen.push([k, v]);
              });
              expectEntriesMatch(model, seen, 'forEach');
              break;
            }
            default:
              full = true;
          }
          break;
        case 'shrink':
          map.shrink();
          full = true;
          break;
        case 'reserve':
          map.reserve(op.n);
          full = true;
          break;
        case 'bulkSet': {
          const es = [];
          for (let i = op.from; i < op.from + op.n; i++) es.push([bulkKey(keyKind, i), bulkValue(valueKind, i)] as const);
          if (op.n % 2) map.setMany(es);
          else for (const [k, v] of es) map.set(k, v);
          for (const [k, v] of es) model.set(k, v);
          full = true;
          break;
        }
        case 'bulkDelete':
          for (let i = op.from; i < op.from + op.n; i += op.step) {
            const k = bulkKey(keyKind, i);
            expect(map.delete(k), `${at}: delete(bulk ${i})`).toBe(model.delete(k));
          }
          full = true;
          break;
      }
      expect(map.size, `${at}: size`).toBe(model.size);
      checkStatsInvariants(map.stats(), model.size);
      if (full) expectMapMatches(map, model);
    }
    expectMapMatches(map, model);
  } finally {
    map.close();
  }
}

describeEachBackend('GoMap: model-based, against a JS Map', () => {
  for (const keyKind of KEY_KINDS) {
    for (const valueKind of VALUE_KINDS) {
      const heavy = valueKind === 'v8' || valueKind === 'json' || keyKind === 'any';
      it(`key '${keyKind}' × value '${valueKind}'`, () => {
        fc.assert(
          fc.property(scenarioArb(keyKind, valueKind), (sc) => run(keyKind, valueKind, sc)),
          { numRuns: fcRuns(heavy ? 20 : 30) },
        );
      });
    }
  }
});
