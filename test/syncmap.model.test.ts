/**
 * SyncMap against a JS Map model, for every key kind x value kind: random sequences of
 * every single-key method (Map's and sync.Map's), batches and clear, checking each
 * result and, at the end, the full contents through every iteration method.
 */
import { Buffer } from 'node:buffer';
import * as v8 from 'node:v8';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SyncMap } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';
import {
  describeValue,
  expectEntriesMatch,
  expectedValue,
  expectSameValueMultiset,
  fcRuns,
  keyArb,
  Model,
  modelKey,
  SYNC_KEY_KINDS,
  SYNC_VALUE_KINDS,
  valueArb,
  valuesEqual,
  type KeyKindName,
  type ValueKindName,
} from './helpers/kinds.ts';

/** What compareAndSwap compares: the encoded bytes of a value, as a string. */
function encoded(kind: ValueKindName, v: unknown): string {
  switch (kind) {
    case 'f64': {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(v as number);
      return b.toString('hex');
    }
    case 'i64':
      return String(v);
    case 'string':
      return 's' + (v as string);
    case 'bytes': {
      const u = v as Uint8Array;
      return Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('hex');
    }
    case 'json':
      return JSON.stringify(v);
    default:
      return v8.serialize(v).toString('hex');
  }
}

type Op =
  | { op: 'set' | 'loadOrStore' | 'swap'; key: unknown; value: unknown }
  | { op: 'get' | 'has' | 'delete' | 'loadAndDelete'; key: unknown }
  | { op: 'cas'; key: unknown; useCurrent: boolean; old: unknown; value: unknown }
  | { op: 'cad'; key: unknown; useCurrent: boolean; old: unknown }
  | { op: 'setMany'; entries: [unknown, unknown][] }
  | { op: 'getMany'; keys: unknown[] }
  | { op: 'clear' };

function opArb(k: fc.Arbitrary<unknown>, v: fc.Arbitrary<unknown>): fc.Arbitrary<Op> {
  return fc.oneof(
    { arbitrary: fc.record({ op: fc.constantFrom('set', 'loadOrStore', 'swap'), key: k, value: v }), weight: 30 },
    { arbitrary: fc.record({ op: fc.constantFrom('get', 'has', 'delete', 'loadAndDelete'), key: k }), weight: 25 },
    { arbitrary: fc.record({ op: fc.constant('cas'), key: k, useCurrent: fc.boolean(), old: v, value: v }), weight: 10 },
    { arbitrary: fc.record({ op: fc.constant('cad'), key: k, useCurrent: fc.boolean(), old: v }), weight: 10 },
    { arbitrary: fc.record({ op: fc.constant('setMany'), entries: fc.array(fc.tuple(k, v), { maxLength: 12 }) }), weight: 5 },
    { arbitrary: fc.record({ op: fc.constant('getMany'), keys: fc.array(k, { maxLength: 12 }) }), weight: 5 },
    { arbitrary: fc.constant({ op: 'clear' as const }), weight: 1 },
  ) as fc.Arbitrary<Op>;
}

/** Runs one op on the map and the model; throws when they disagree. */
function step(m: SyncMap<unknown, unknown>, model: Model, raw: Map<unknown, unknown>, kind: ValueKindName, o: Op): void {
  const same = (got: unknown, e: { value: unknown } | undefined, what: string): void => {
    const want = e?.value;
    const ok = e === undefined ? got === undefined : valuesEqual(kind, got, want);
    if (!ok) throw new Error(`${what}: got ${describeValue(got)}, expected ${describeValue(want)}`);
  };
  const mk = (key: unknown): unknown => modelKey(model.keyKind, key);
  const put = (key: unknown, value: unknown): void => {
    model.set(key, value);
    raw.set(mk(key), value);
  };
  const drop = (key: unknown): void => {
    raw.delete(mk(key));
    model.delete(key);
  };
  switch (o.op) {
    case 'set':
      expect(m.set(o.key, o.value)).toBe(m);
      put(o.key, o.value);
      break;
    case 'loadOrStore': {
      const before = model.get(o.key);
      const r = m.loadOrStore(o.key, o.value);
      expect(r.loaded).toBe(before !== undefined);
      if (before !== undefined) same(r.value, before, 'loadOrStore value');
      else {
        expect(r.value).toBe(o.value);
        put(o.key, o.value);
      }
      break;
    }
    case 'swap': {
      const before = model.get(o.key);
      const r = m.swap(o.key, o.value);
      expect(r.loaded).toBe(before !== undefined);
      same(r.previous, before, 'swap previous');
      put(o.key, o.value);
      break;
    }
    case 'get':
      same(m.get(o.key), model.get(o.key), `get(${describeValue(o.key)})`);
      break;
    case 'has':
      expect(m.has(o.key)).toBe(model.has(o.key));
      break;
    case 'delete':
      expect(m.delete(o.key)).toBe(model.has(o.key));
      drop(o.key);
      break;
    case 'loadAndDelete': {
      const before = model.get(o.key);
      const r = m.loadAndDelete(o.key);
      expect(r.loaded).toBe(before !== undefined);
      same(r.value, before, 'loadAndDelete value');
      drop(o.key);
      break;
    }
    case 'cas':
    case 'cad': {
      const cur = model.has(o.key) ? raw.get(mk(o.key)) : undefined;
      const old = o.useCurrent && model.has(o.key) ? cur : o.old;
      const match = model.has(o.key) && encoded(kind, cur) === encoded(kind, old);
      if (o.op === 'cas') {
        expect(m.compareAndSwap(o.key, old, o.value)).toBe(match);
        if (match) put(o.key, o.value);
      } else {
        expect(m.compareAndDelete(o.key, old)).toBe(match);
        if (match) drop(o.key);
      }
      break;
    }
    case 'setMany':
      m.setMany(o.entries);
      for (const [k, v] of o.entries) put(k, v);
      break;
    case 'getMany': {
      const got = m.getMany(o.keys);
      o.keys.forEach((k, i) => same(got[i], model.get(k), `getMany[${i}]`));
      break;
    }
    case 'clear':
      m.clear();
      model.clear();
      raw.clear();
      break;
  }
  expect(m.size).toBe(model.size);
}

describeEachBackend('SyncMap: model test against a JS Map', () => {
  for (const keyKind of SYNC_KEY_KINDS) {
    for (const valueKind of SYNC_VALUE_KINDS) {
      it(`${keyKind} keys, ${valueKind} values`, () => {
        const k = keyArb(keyKind as KeyKindName);
        // A small key pool as well, so that operations meet the same keys often.
        const keys = fc.oneof(k, fc.constantFrom(...fc.sample(k, { numRuns: 6, seed: 1 })));
        fc.assert(
          fc.property(fc.array(opArb(keys, valueArb(valueKind)), { maxLength: 60 }), (ops) => {
            const m = new SyncMap<unknown, unknown>({ key: keyKind, value: valueKind });
            try {
              const model = new Model(keyKind as KeyKindName, valueKind);
              const raw = new Map<unknown, unknown>();
              for (const o of ops) step(m, model, raw, valueKind, o);
              expectEntriesMatch(model, m.entries(), 'entries()');
              expectEntriesMatch(model, m, '[Symbol.iterator]()');
              const keysSeen = [...m.keys()];
              expect(keysSeen.length).toBe(model.size);
              for (const key of keysSeen) expect(model.has(key)).toBe(true);
              expectSameValueMultiset(valueKind, [...m.values()], [...model.m.values()].map((e) => e.value));
              const ranged: [unknown, unknown][] = [];
              m.range((v, key) => {
                ranged.push([key, v]);
              });
              expectEntriesMatch(model, ranged, 'range()');
            } finally {
              m.close();
            }
          }),
          { numRuns: fcRuns(50) },
        );
      });
    }
  }
  it('expectedValue of the helpers is what SyncMap reads return (sanity)', () => {
    const m = new SyncMap<string, unknown>({ key: 'string', value: 'v8' });
    const v = { d: new Date(1), n: -0 };
    m.set('k', v);
    expect(valuesEqual('v8', m.get('k'), expectedValue('v8', v))).toBe(true);
    m.close();
  });
});
