/**
 * What only the WebAssembly engine has to get right (the rest of the suite runs against
 * it like against the native engine): allocation failure inside the module comes back
 * as a RangeError with the map unchanged, never a trap; a trap (a bug) takes only its
 * map (or GoCache) out of service, with an error that says so; linear memory grows under
 * big maps and caches.
 *
 * Runs in the 'wasm' project only (vitest.config.ts), where GOMAP_BACKEND=wasm.
 */
import { describe, expect, it } from 'vitest';
import { binding } from '../lib/backend.ts';
import type { CacheBinding } from '../lib/binding.ts';
import { backend, GoCache, GoMap } from '../lib/index.ts';
import { wasmTestHooks } from '../lib/wasm/binding.ts';

const hooks = wasmTestHooks(binding)!;

function errorOf(fn: () => unknown): (Error & { code?: string }) | undefined {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  return undefined;
}

describe('the WebAssembly engine', () => {
  it('is the engine of this process', () => {
    expect(backend).toBe('wasm');
    expect(wasmTestHooks(binding)).toBeDefined();
  });

  it('a failed allocation in set is a RangeError (ERR_GOMAP_NO_MEMORY) and leaves the map as it was', () => {
    const m = new GoMap<string, string>(null, { key: 'string', value: 'string', seed: 1n });
    for (let i = 0; i < 100; i++) m.set(`key number ${i} (long enough to be boxed)`, `value ${i} (long enough to be boxed)`);
    const before = [...m].sort();
    let failures = 0;
    // Sweep the failing allocation over every allocation the next inserts make.
    for (let n = 1; n <= 8; n++) {
      hooks.failNthAllocation(n);
      const e = errorOf(() => {
        for (let i = 100; i < 110; i++) m.set(`key number ${i} (long enough to be boxed)`, `a new value, long enough to be boxed`);
      });
      hooks.failNthAllocation(0);
      if (e === undefined) {
        for (let i = 100; i < 110; i++) m.delete(`key number ${i} (long enough to be boxed)`);
        continue;
      }
      failures++;
      expect(e).toBeInstanceOf(RangeError);
      expect(e.code).toBe('ERR_GOMAP_NO_MEMORY');
      expect(e.message).toMatch(/out of memory/);
      for (let i = 100; i < 110; i++) m.delete(`key number ${i} (long enough to be boxed)`);
      expect([...m].sort()).toEqual(before);
    }
    expect(failures).toBeGreaterThan(0);
    m.close();
  });

  it('a failed allocation half-way through setMany stores nothing (all or nothing)', () => {
    const m = new GoMap<number, string>(null, { key: 'f64', value: 'string', seed: 2n });
    for (let i = 0; i < 50; i++) m.set(i, `original value number ${i}, boxed`);
    const before = [...m].sort((a, b) => a[0] - b[0]);
    const batch: [number, string][] = Array.from({ length: 200 }, (_, i) => [i, `replacement value number ${i}, boxed`]);
    let failures = 0;
    for (let n = 1; n <= 400; n += 7) {
      hooks.failNthAllocation(n);
      const e = errorOf(() => m.setMany(batch));
      hooks.failNthAllocation(0);
      if (e === undefined) break; // n is past the batch's last allocation
      failures++;
      expect(e).toBeInstanceOf(RangeError);
      expect(m.size).toBe(50);
      expect([...m].sort((a, b) => a[0] - b[0])).toEqual(before);
    }
    expect(failures).toBeGreaterThan(3);
    m.setMany(batch);
    expect(m.size).toBe(200);
    expect(m.get(7)).toBe('replacement value number 7, boxed');
    m.close();
  });

  it('the same for setMany of numeric keys and values (the word batch), growth included', () => {
    const batch: [bigint, number][] = Array.from({ length: 5000 }, (_, i) => [BigInt(i), -i]);
    let failures = 0;
    let successes = 0;
    for (let n = 1; n <= 40; n++) {
      const m = new GoMap<bigint, number>(null, { key: 'i64', value: 'f64', seed: 3n });
      for (let i = 0n; i < 100n; i++) m.set(i, Number(i));
      const before = [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));
      hooks.failNthAllocation(n);
      const e = errorOf(() => m.setMany(batch));
      hooks.failNthAllocation(0);
      if (e === undefined) {
        // the core could do without that allocation (it may skip growth work): all stored
        successes++;
        expect(m.size).toBe(5000);
        expect(m.getMany([1n, 4999n, 9999n])).toEqual([-1, -4999, undefined]);
      } else {
        failures++;
        expect(e).toBeInstanceOf(RangeError);
        expect(m.size).toBe(100);
        expect([...m].sort((a, b) => (a[0] < b[0] ? -1 : 1))).toEqual(before);
      }
      m.close();
    }
    expect(failures).toBeGreaterThan(0);
    expect(successes).toBeGreaterThan(0);
  });

  it('a reserve beyond 32-bit memory is a RangeError, and the map goes on', () => {
    const m = new GoMap<number, number>(null, { key: 'f64', value: 'f64' });
    m.set(1, 2);
    const e = errorOf(() => m.reserve(2 ** 40));
    expect(e).toBeInstanceOf(RangeError);
    expect(m.get(1)).toBe(2);
    expect(() => new GoMap(null, { key: 'f64', value: 'f64', hint: 2 ** 33 })).toThrow(RangeError);
    m.close();
  });

  it('a trap takes its map out of service with ERR_GOMAP_WASM_TRAP; other maps are not affected', () => {
    const other = new GoMap<string, number>([['a', 1]], { key: 'string', value: 'f64' });
    const m = new GoMap<string, number>([['x', 1]], { key: 'string', value: 'f64' });
    const h = (binding.create('string', 'f64', 0) as number);
    binding.set(h, 'k', 1);
    hooks.breakMapForTest(h);
    const first = errorOf(() => binding.get(h, 'k'));
    expect(first?.code).toBe('ERR_GOMAP_WASM_TRAP');
    expect(first?.message).toMatch(/trapped/);
    const again = errorOf(() => binding.set(h, 'k', 2));
    expect(again?.code).toBe('ERR_GOMAP_WASM_TRAP');
    expect(binding.close(h)).toBe(false);
    expect(other.get('a')).toBe(1);
    expect(m.get('x')).toBe(1);
    m.set('y', 2);
    expect([...m].sort()).toEqual([
      ['x', 1],
      ['y', 2],
    ]);
    other.close();
    m.close();
  });

  it('linear memory grows with the maps in it, and the views follow it', () => {
    const before = hooks.memoryBytes();
    const m = new GoMap<number, string>(null, { key: 'f64', value: 'string' });
    const value = 'v'.repeat(100);
    for (let i = 0; i < 100_000; i++) m.set(i, `${value}${i}`);
    expect(hooks.memoryBytes()).toBeGreaterThan(before);
    for (let i = 0; i < 100_000; i += 997) expect(m.get(i)).toBe(`${value}${i}`);
    m.close();
  });

  it('a trap takes its GoCache out of service with ERR_GOMAP_WASM_TRAP; other caches and maps are not affected', () => {
    const cb = binding as unknown as CacheBinding;
    const other = new GoCache<string, number>({ max: 10, key: 'string', value: 'f64' });
    other.set('a', 1);
    const m = new GoMap<string, number>([['x', 1]], { key: 'string', value: 'f64' });
    const h = cb.cacheCreate('string', 'f64', 10, 0, 0, false, 0);
    cb.cacheSet(h, 'k', 1, -1, 0);
    const live = cb.cacheLive();
    hooks.breakCacheForTest(h);
    const first = errorOf(() => cb.cacheGet(h, 'k'));
    expect(first?.code).toBe('ERR_GOMAP_WASM_TRAP');
    expect(first?.message).toMatch(/GoCache: the WebAssembly engine trapped inside this cache/);
    expect(errorOf(() => cb.cacheSet(h, 'k', 2, -1, 0))?.code).toBe('ERR_GOMAP_WASM_TRAP');
    expect(cb.cacheLive()).toBe(live - 1);
    expect(cb.cacheClose(h)).toBe(false);
    expect(other.get('a')).toBe(1);
    other.set('b', 2);
    expect(other.size).toBe(2);
    expect(m.get('x')).toBe(1);
    other.close();
    m.close();
  });

  it('GoCache: linear memory grows under a big cache, and the views follow it', () => {
    const before = hooks.memoryBytes();
    const evicted: string[] = [];
    // More than the memory earlier tests left free (about 60 MB of values).
    const c = new GoCache<number, string>({ max: 200_000, key: 'f64', value: 'string', onEvict: (v) => evicted.push(v) });
    const value = 'v'.repeat(300);
    for (let i = 0; i < 220_000; i++) c.set(i, `${value}${i}`);
    expect(hooks.memoryBytes()).toBeGreaterThan(before);
    expect(c.size).toBe(200_000);
    expect(evicted.length).toBe(20_000);
    expect(evicted.every((v) => v.startsWith(value))).toBe(true);
    let present = 0;
    for (let i = 0; i < 220_000; i += 97) {
      const v = c.get(i);
      if (v !== undefined) {
        present++;
        expect(v).toBe(`${value}${i}`);
      }
    }
    expect(present).toBeGreaterThan(1800);
    c.close();
  });
});
