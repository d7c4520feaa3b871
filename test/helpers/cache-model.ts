/**
 * A model-based check of GoCache's limits, shared by the single-thread cache tests
 * (gocache.limits.test.ts) and the shared cache tests (gocache.shared.test.ts): random
 * sequences of set / get / peek / delete ({@link cacheOpsArb}) run against a cache and a
 * JS Map model that the cache's onEvict keeps in step ({@link CacheModel}).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { CacheStats, GoCache } from '../../lib/index.ts';
import { expectedValue, modelKey, valueArb, valuesEqual, type KeyKindName, type ValueKindName } from './kinds.ts';

/** One call on the cache; `k` indexes the test's keys. */
export type CacheOp =
  | { op: 'set'; k: number; v: unknown }
  | { op: 'get'; k: number }
  | { op: 'peek'; k: number }
  | { op: 'delete'; k: number };

/** Up to `maxLength` calls on `keyCount` keys, mostly sets of `value`-kind values. */
export function cacheOpsArb(keyCount: number, value: ValueKindName, maxLength: number): fc.Arbitrary<CacheOp[]> {
  const k = fc.nat({ max: keyCount - 1 });
  return fc.array(
    fc.oneof(
      { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), k, v: valueArb(value) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('get' as const), k }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('peek' as const), k }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), k }) },
    ),
    { maxLength },
  );
}

/**
 * What a cache should hold: modelKey -> the value read back. Give the cache
 * {@link CacheModel.onEvict}: every removal it reports (but a replacement) leaves the
 * model too, so after each call the model is exactly the cache's entries.
 */
export class CacheModel {
  readonly entries = new Map<unknown, unknown>();
  /** Keys that entered the model. */
  inserts = 0;
  /** Removals onEvict reported (replacements aside). */
  removed = 0;

  constructor(
    private readonly keyKind: KeyKindName,
    private readonly valueKind: ValueKindName,
    /** Whether the cache has a maxBytes (a set can be refused only then). */
    private readonly withBytes: boolean,
  ) {}

  readonly onEvict = (_value: unknown, key: unknown, reason: string): void => {
    if (reason !== 'set') {
      this.removed++;
      this.entries.delete(modelKey(this.keyKind, key));
    }
  };

  /** Runs `o` with `key` on `cache` and checks its result against the model. */
  run(cache: GoCache<unknown, unknown>, key: unknown, o: CacheOp): void {
    const model = this.entries;
    const mk = modelKey(this.keyKind, key);
    if (o.op === 'set') {
      const existed = model.has(mk);
      if (!existed) this.inserts++;
      model.set(mk, expectedValue(this.valueKind, o.v));
      cache.set(key, o.v);
      if (!cache.has(key)) {
        // Refused (over maxBytes alone): onEvict reported the refused value ('evict') and
        // the old entry, if any ('delete').
        expect(this.withBytes).toBe(true);
        expect(model.has(mk)).toBe(false);
        if (existed) this.inserts++;
      }
    } else if (o.op === 'delete') {
      const present = model.has(mk); // before: onEvict updates the model during the call
      expect(cache.delete(key)).toBe(present);
    } else {
      const got = o.op === 'get' ? cache.get(key) : cache.peek(key);
      if (model.has(mk)) expect(valuesEqual(this.valueKind, got, model.get(mk))).toBe(true);
      else expect(got).toBeUndefined();
    }
  }

  /** After a call: within `max` / `maxBytes` (when the cache has it), and the model's size. */
  checkLimits(stats: CacheStats, size: number, max: number, maxBytes: number): void {
    expect(stats.size).toBeLessThanOrEqual(max);
    if (this.withBytes) expect(stats.bytes).toBeLessThanOrEqual(maxBytes);
    expect(stats.size).toBe(this.entries.size);
    expect(size).toBe(this.entries.size);
  }

  /** At the end: what entered minus what onEvict reported is what is left, and keys() sees it. */
  checkEnd(cache: GoCache<unknown, unknown>): void {
    expect(this.inserts - this.removed).toBe(this.entries.size);
    expect([...cache.keys()].length).toBe(this.entries.size);
  }
}
