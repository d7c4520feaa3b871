/**
 * Batches of string keys take one of two routes into the engine: when every key of the
 * batch is ASCII the packed string is copied whole (the WebAssembly engine's one-copy
 * layout), else key by key. Both must find, store and miss exactly the same keys, with
 * empty keys, long keys, duplicates and Latin-1 / UTF-16 keys in the batch.
 */
import { expect, it } from 'vitest';
import { GoMap } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';

function asciiKeys(n: number): string[] {
  const keys: string[] = [''];
  for (let i = 1; i < n; i++) keys.push(i % 97 === 0 ? 'k'.repeat(300 + i) : `key:${i}:${'x'.repeat(i % 13)}`);
  return keys;
}

describeEachBackend('GoMap batches of string keys', () => {
  for (const [name, extra] of [
    ['all ASCII', []],
    ['with a Latin-1 key', ['café']],
    ['with a UTF-16 key', ['日本']],
  ] as const) {
    it(`setMany then getMany agree with Map (${name})`, () => {
      const keys = [...asciiKeys(500), ...extra];
      const model = new Map<string, number>();
      const m = new GoMap<string, number>(null, { key: 'string', value: 'f64' });
      const entries = keys.map((k, i) => [k, i + 0.5] as const);
      m.setMany([...entries, [keys[3]!, -1]]); // a duplicate: the later pair wins
      for (const [k, v] of [...entries, [keys[3]!, -1] as const]) model.set(k, v);
      expect(m.size).toBe(model.size);
      const probes = [...keys, 'absent', 'key:1:', ...extra.map((k) => k + '!')];
      expect(m.getMany(probes)).toEqual(probes.map((k) => model.get(k)));
      for (const k of keys) expect(m.get(k)).toBe(model.get(k));
      m.close();
    });
  }

  it('setMany then getMany agree with Map for i64 values, overwrites included (all ASCII)', () => {
    const keys = asciiKeys(300);
    const model = new Map<string, bigint>();
    const m = new GoMap<string, bigint>(null, { key: 'string', value: 'i64' });
    const first = keys.map((k, i) => [k, BigInt(i) - 2n ** 62n] as const);
    m.setMany(first);
    for (const [k, v] of first) model.set(k, v);
    // Half of the second batch overwrites, half inserts.
    const second = keys.slice(150).map((k, i) => [i % 2 === 0 ? k : `${k}#new`, 2n ** 63n - 1n - BigInt(i)] as const);
    m.setMany(second);
    for (const [k, v] of second) model.set(k, v);
    expect(m.size).toBe(model.size);
    const probes = [...model.keys(), 'absent', 'key:1:#new', ...keys];
    expect(m.getMany(probes)).toEqual(probes.map((k) => model.get(k)));
    m.close();
  });
});
