/**
 * GoCache limits (API.md: "Never more than `max` entries or `maxBytes` bytes after a
 * call returns"), for every key kind x value kind, with fast-check: random sequences of
 * set / get / peek / delete never leave the cache over a limit, every value read back
 * is the last one stored for its key, and what onEvict reports accounts for every entry
 * that left.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { GoCache } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';
import {
  expectedValue,
  fcRuns,
  KEY_KINDS,
  keyArb,
  modelKey,
  VALUE_KINDS,
  valueArb,
  valuesEqual,
  type KeyKindName,
  type ValueKindName,
} from './helpers/kinds.ts';

type Op =
  | { op: 'set'; k: number; v: unknown }
  | { op: 'get'; k: number }
  | { op: 'peek'; k: number }
  | { op: 'delete'; k: number };

function opsArb(keyCount: number, value: ValueKindName): fc.Arbitrary<Op[]> {
  const k = fc.nat({ max: keyCount - 1 });
  return fc.array(
    fc.oneof(
      { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), k, v: valueArb(value) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('get' as const), k }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('peek' as const), k }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), k }) },
    ),
    { maxLength: 120 },
  );
}

describeEachBackend('GoCache: limits hold for every kind combination', () => {
  for (const keyKind of KEY_KINDS as readonly KeyKindName[]) {
    for (const valueKind of VALUE_KINDS as readonly ValueKindName[]) {
      it(`key '${keyKind}' x value '${valueKind}': size <= max, bytes <= maxBytes after every call`, () => {
        fc.assert(
          fc.property(
            fc.uniqueArray(keyArb(keyKind), { minLength: 12, maxLength: 12, selector: (x) => modelKey(keyKind, x) }),
            fc.integer({ min: 1, max: 6 }),
            fc.integer({ min: 24, max: 400 }),
            fc.boolean(),
            opsArb(12, valueKind),
            (keys, max, maxBytes, withBytes, ops) => {
              const model = new Map<unknown, unknown>(); // modelKey -> expected value (if present)
              let removedReports = 0;
              const cache = new GoCache<unknown, unknown>({
                key: keyKind,
                value: valueKind,
                max,
                ...(withBytes ? { maxBytes } : {}),
                ...(withBytes && valueKind === 'any' ? { sizeOf: () => 8 } : {}),
                onEvict: (_v, k, reason) => {
                  if (reason !== 'set') {
                    removedReports++;
                    model.delete(modelKey(keyKind, k));
                  }
                },
              });
              try {
                let inserts = 0;
                for (const o of ops) {
                  const key = keys[o.k];
                  const mk = modelKey(keyKind, key);
                  if (o.op === 'set') {
                    const existed = model.has(mk);
                    if (!existed) inserts++;
                    model.set(mk, expectedValue(valueKind, o.v));
                    cache.set(key, o.v);
                    if (!cache.has(key)) {
                      // Refused (over maxBytes alone): onEvict reported the refused value
                      // ('evict') and the old entry, if any ('delete').
                      expect(withBytes).toBe(true);
                      expect(model.has(mk)).toBe(false);
                      if (existed) inserts++;
                    }
                  } else if (o.op === 'delete') {
                    const present = model.has(mk);
                    expect(cache.delete(key)).toBe(present);
                  } else {
                    const got = o.op === 'get' ? cache.get(key) : cache.peek(key);
                    if (model.has(mk)) expect(valuesEqual(valueKind, got, model.get(mk))).toBe(true);
                    else expect(got).toBeUndefined();
                  }
                  const s = cache.stats();
                  expect(s.size).toBeLessThanOrEqual(max);
                  if (withBytes) expect(s.bytes).toBeLessThanOrEqual(maxBytes);
                  expect(s.size).toBe(model.size);
                  expect(cache.size).toBe(model.size);
                }
                expect(inserts - removedReports).toBe(model.size);
                expect([...cache.keys()].length).toBe(model.size);
              } finally {
                cache.close();
              }
            },
          ),
          { numRuns: fcRuns(25) },
        );
      });
    }
  }
});
