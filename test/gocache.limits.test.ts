/**
 * GoCache limits (API.md: "Never more than `max` entries or `maxBytes` bytes after a
 * call returns"), for every key kind x value kind, with fast-check: random sequences of
 * set / get / peek / delete never leave the cache over a limit, every value read back
 * is the last one stored for its key, and what onEvict reports accounts for every entry
 * that left.
 */
import fc from 'fast-check';
import { it } from 'vitest';
import { GoCache } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';
import { CacheModel, cacheOpsArb } from './helpers/cache-model.ts';
import { fcRuns, KEY_KINDS, keyArb, modelKey, VALUE_KINDS, type KeyKindName, type ValueKindName } from './helpers/kinds.ts';

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
            cacheOpsArb(12, valueKind, 120),
            (keys, max, maxBytes, withBytes, ops) => {
              const model = new CacheModel(keyKind, valueKind, withBytes);
              const cache = new GoCache<unknown, unknown>({
                key: keyKind,
                value: valueKind,
                max,
                ...(withBytes ? { maxBytes } : {}),
                ...(withBytes && valueKind === 'any' ? { sizeOf: () => 8 } : {}),
                onEvict: model.onEvict,
              });
              try {
                for (const o of ops) {
                  model.run(cache, keys[o.k], o);
                  model.checkLimits(cache.stats(), cache.size, max, maxBytes);
                }
                model.checkEnd(cache);
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
