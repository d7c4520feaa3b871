/**
 * SyncMap iteration of 'f64' / 'i64' / 'string' keys with 'f64' / 'i64' / 'string' /
 * 'json' values crosses packed (typed arrays and joined strings, native/addon
 * sync_functions.cc IterNextPacked): every key and value must come back exactly, across
 * batch boundaries and the joined-text limit (64 Ki UTF-16 units per batch), with
 * Latin-1 and two-byte strings (lone surrogates included) mixed in one batch.
 */
import { expect, it } from 'vitest';
import { SyncMap } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';
import { I64_MAX, I64_MIN, SPECIAL_STRINGS } from './helpers/kinds.ts';

function expectSameEntries<K, V>(m: SyncMap<K, V>, expected: Map<K, V>): void {
  const seen = new Map<K, V>();
  for (const [k, v] of m) {
    expect(seen.has(k), `key produced twice: ${String(k)}`).toBe(false);
    seen.set(k, v);
  }
  expect(seen).toEqual(expected);
  const keys = [...m.keys()];
  expect(new Set(keys)).toEqual(new Set(expected.keys()));
  expect(keys.length).toBe(expected.size);
  const values = [...m.values()];
  expect(values.length).toBe(expected.size);
}

describeEachBackend('SyncMap packed iteration', () => {
  it('f64 keys and values: NaN, -0, infinities, extremes', () => {
    const m = new SyncMap<number, number>({ key: 'f64', value: 'f64' });
    const expected = new Map<number, number>();
    const specials = [NaN, 0, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, -1.5, 2 ** 53];
    specials.forEach((k, i) => expected.set(k, specials[(i + 1) % specials.length]!));
    expected.set(7, -0);
    for (let i = 0; i < 5000; i++) expected.set(i + 0.25, i * -3.5);
    m.setMany(expected);
    m.set(-0, 42); // the same key as 0
    expected.set(0, 42);
    expectSameEntries(m, expected);
    expect(Object.is(new Map(m.entries()).get(7), -0)).toBe(true);
    m.close();
  });

  it('i64 keys and values: the whole signed range', () => {
    const m = new SyncMap<bigint, bigint>({ key: 'i64', value: 'i64' });
    const expected = new Map<bigint, bigint>([
      [I64_MIN, I64_MAX],
      [I64_MAX, I64_MIN],
      [-1n, 0n],
      [0n, -1n],
    ]);
    for (let i = 0; i < 3000; i++) expected.set(BigInt(i) * 1_000_000_007n - 5n, -BigInt(i));
    m.setMany(expected);
    expectSameEntries(m, expected);
    m.close();
  });

  it('string keys and values, mixed widths, past the joined-text limit of a batch', () => {
    const m = new SyncMap<string, string>({ key: 'string', value: 'string' });
    const expected = new Map<string, string>();
    SPECIAL_STRINGS.forEach((s, i) => expected.set(s, SPECIAL_STRINGS[SPECIAL_STRINGS.length - 1 - i]!));
    for (let i = 0; i < 3000; i++) {
      const wide = i % 3 === 0 ? '\u20ac\uD800' : '';
      expected.set(`key ${i}${wide}`, `${'v'.repeat(i % 97)}${wide}${i}`);
    }
    expected.set('long', 'L'.repeat(70_000)); // one value longer than a batch's text
    m.setMany(expected);
    expectSameEntries(m, expected);
    m.close();
  });

  it('numeric keys with string and json values, string keys with numeric values', () => {
    const a = new SyncMap<number, string>({ key: 'f64', value: 'string' });
    const b = new SyncMap<bigint, { n: number; s: string }>({ key: 'i64', value: 'json' });
    const c = new SyncMap<string, number>({ key: 'string', value: 'f64' });
    const ea = new Map<number, string>();
    const eb = new Map<bigint, { n: number; s: string }>();
    const ec = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      ea.set(i, i % 2 === 0 ? `s${i}` : `\u00e9\uDC00${i}`);
      eb.set(BigInt(-i), { n: i, s: `x${i}\u2603` });
      ec.set(`k${i}\u00ff`, i / 7);
    }
    a.setMany(ea);
    b.setMany(eb);
    c.setMany(ec);
    expectSameEntries(a, ea);
    expectSameEntries(b, eb);
    expectSameEntries(c, ec);
    for (const x of [a, b, c]) x.close();
  });

  it('deleting inside range while packed batches are read', () => {
    const m = new SyncMap<number, number>({ key: 'f64', value: 'f64' });
    for (let i = 0; i < 4000; i++) m.set(i, i);
    const deleted = new Set<number>();
    const produced = new Set<number>();
    m.range((v, k) => {
      expect(v).toBe(k);
      expect(deleted.has(k), `${k} produced after it was deleted`).toBe(false);
      expect(produced.has(k), `${k} produced twice`).toBe(false);
      produced.add(k);
      if (m.delete(k + 1)) deleted.add(k + 1);
    });
    // Every key was either produced or deleted before it was reached (not both).
    const deletedUnreached = [...deleted].filter((k) => !produced.has(k));
    expect(produced.size + deletedUnreached.length).toBe(4000);
    expect(m.size).toBe(4000 - deleted.size);
    for (const [k, v] of m) expect(v).toBe(k);
    m.close();
  });
});
