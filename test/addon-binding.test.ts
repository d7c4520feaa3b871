/**
 * The raw binding below the façade — the native addon (native/addon/functions.cc) or the
 * WebAssembly binding (lib/wasm/binding.ts), whichever this process loaded: handles and
 * their generations, wrong argument counts and types, forged and stale handles,
 * iterator lifetimes, and native memory freed by close() and by garbage collection.
 * Nothing from JS may crash the process; only TypeError, RangeError and
 * ERR_GOMAP_CLOSED may be thrown.
 */
import { Buffer } from 'node:buffer';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { binding } from '../lib/backend.ts';
import type { NativeBinding } from '../lib/binding.ts';
import { GoMap, backend } from '../lib/index.ts';

const gc = ((): (() => void) => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

/** Collects garbage and lets FinalizationRegistry callbacks run. */
async function collect(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function allowed(e: unknown): boolean {
  return e instanceof TypeError || e instanceof RangeError || (e instanceof Error && (e as { code?: unknown }).code === 'ERR_GOMAP_CLOSED');
}

/** Calls fn; returns 'ok' or the class of error it threw (failing on any other error). */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (!allowed(e)) throw new Error(`unexpected error: ${String(e)}`);
    return e instanceof TypeError ? 'TypeError' : e instanceof RangeError ? 'RangeError' : 'closed';
  }
}

const b = binding as NativeBinding & Record<string, (...args: unknown[]) => unknown>;

// Both engines implement the same raw binding (lib/binding.ts): the Node-API addon and
// the WebAssembly binding (lib/wasm/binding.ts) keep the same contract, so this file runs
// against whichever engine this process loaded.
describe(`raw binding [backend: ${backend}]`, () => {
  it('handles are integers >= 2^32, distinct, and refused once closed (also when the slot is reused)', () => {
    const h1 = b.create('f64', 'f64', 0);
    expect(Number.isInteger(h1) && h1 >= 2 ** 32).toBe(true);
    b.set(h1, 1, 2);
    expect(b.close(h1)).toBe(true);
    expect(b.close(h1)).toBe(false);
    const h2 = b.create('f64', 'f64', 0); // reuses the slot, with a new generation
    expect(h2).not.toBe(h1);
    expect(outcome(() => b.get(h1, 1))).toBe('closed');
    expect(b.get(h2, 1)).toBeUndefined();
    b.close(h2);
  });

  it('forged handles are ERR_GOMAP_CLOSED, non-numbers TypeError', () => {
    const forged = [0, -1, 1, 2 ** 32, 2 ** 32 + 12345, 2 ** 53, 2 ** 60, NaN, Infinity, -Infinity, 1.5, 2 ** 32 + 0.5];
    for (const h of forged) {
      for (const call of [() => b.get(h, 1), () => b.set(h, 1, 1), () => b.size(h), () => b.stats(h), () => b.iterStart(h), () => b.clear(h)]) {
        expect(outcome(call)).toBe('closed');
      }
      expect(b.close(h)).toBe(false);
      expect(b.iterEnd(h, h)).toBe(false);
    }
    for (const h of ['1', 1n, null, undefined, {}, [], Symbol('h'), () => 1, true]) {
      expect(outcome(() => b.get(h as number, 1))).toBe('TypeError');
      expect(outcome(() => b.close(h as number))).toBe('TypeError');
      expect(b.iterEnd(h as number, h as number)).toBe(false); // never throws
    }
  });

  it('any number of arguments of any type: no crash, only allowed errors', () => {
    const h = b.create('any', 'any', 0);
    b.set(h, 'k', 0);
    const junk: unknown[] = [undefined, null, 0, -1, NaN, 2 ** 64, 'x', 1n, -(2n ** 70n), {}, [], [1, 2], Symbol('s'), () => 1, Buffer.from('b'), new Float64Array(2), new Uint32Array(1), h];
    const names = Object.keys(b).filter((n) => typeof b[n] === 'function' && n !== 'close');
    let calls = 0;
    for (const name of names) {
      const fn = b[name]!;
      outcome(() => fn());
      for (const a of junk) {
        outcome(() => fn(a));
        outcome(() => fn(h, a));
        outcome(() => fn(h, a, a));
        outcome(() => fn(h, a, a, a, a, a));
        calls += 4;
      }
    }
    expect(calls).toBeGreaterThan(500);
    // the map survived all of it
    expect(b.close(h)).toBe(true);
  });

  it('create() checks kinds, hint and seed', () => {
    expect(outcome(() => b.create('nope' as never, 'f64', 0))).toBe('TypeError');
    expect(outcome(() => b.create('f64', 'json' as never, 0))).toBe('TypeError');
    expect(outcome(() => b.create('f64', 'f64', -1))).toBe('RangeError');
    expect(outcome(() => b.create('f64', 'f64', NaN))).toBe('RangeError');
    expect(outcome(() => b.create('f64', 'f64', 0.5))).toBe('RangeError');
    expect(outcome(() => b.create('f64', 'f64', 2 ** 53))).toBe('RangeError');
    expect(outcome(() => b.create('f64', 'f64', '1' as never))).toBe('TypeError');
    expect(outcome(() => b.create('f64', 'f64', 0, 1 as never))).toBe('TypeError');
    expect(outcome(() => b.create('f64', 'f64', 2 ** 52))).toBe('RangeError'); // too large to honour
    const h = b.create('f64', 'f64', 0, 2n ** 64n - 1n);
    b.close(h);
  });

  it('batch calls read their arrays before touching the map, and refuse mismatched lengths', () => {
    const h = b.create('f64', 'f64', 0);
    expect(outcome(() => b.setMany(h, [1, 2], [1]))).toBe('TypeError');
    expect(outcome(() => b.setMany(h, [1], new Uint32Array(1)))).toBe('TypeError'); // not an 'any'-valued map
    expect(outcome(() => b.getMany(h, 'abc' as never))).toBe('TypeError');
    // an element getter that closes the map: the call sees a closed map, no crash
    const evil: unknown[] = [1, 2];
    Object.defineProperty(evil, 1, {
      get() {
        b.close(h);
        return 2;
      },
    });
    expect(outcome(() => b.getMany(h, evil))).toBe('closed');
    const h2 = b.create('string', 'any', 0);
    expect(outcome(() => b.setMany(h2, ['a'], ['x']))).toBe('TypeError'); // 'any' values need slab indexes
    const idx = new Uint32Array([5, 6]);
    expect(b.setMany(h2, ['a', 'a'], idx)).toBe(1);
    expect([...idx]).toEqual([5, 5]); // the duplicate got the index stored by the first
    b.close(h2);
  });

  it('iterators: batches, [] once over, freed at the end, by iterEnd and with their map', () => {
    const h = b.create('i64', 'string', 0);
    for (let i = 0n; i < 100n; i++) b.set(h, i, `v${i}`);
    const before = b.liveHandles().iterators;
    const it = b.iterStart(h);
    expect(b.liveHandles().iterators).toBe(before + 1);
    const first = b.iterNext(h, it, 30);
    expect(first).toHaveLength(60);
    const keysOnly = b.iterNext(h, it, 30, true);
    expect(keysOnly).toHaveLength(30);
    expect(keysOnly.every((k) => typeof k === 'bigint')).toBe(true);
    const rest = b.iterNext(h, it, 1000);
    expect(rest).toHaveLength(80); // 40 entries: the iteration is over
    expect(b.liveHandles().iterators).toBe(before);
    expect(b.iterNext(h, it, 10)).toEqual([]);
    expect(b.iterEnd(h, it)).toBe(false);

    const it2 = b.iterStart(h);
    const it3 = b.iterStart(h);
    expect(b.iterEnd(h, it2)).toBe(true);
    const other = b.create('i64', 'string', 0);
    expect(outcome(() => b.iterNext(other, it3, 1))).toBe('TypeError'); // not this map's iterator
    expect(b.iterEnd(other, it3)).toBe(false);
    b.close(h); // frees it3
    expect(b.liveHandles().iterators).toBe(before);
    expect(outcome(() => b.iterNext(h, it3, 1))).toBe('closed');
    b.close(other);
  });

  it("'any' keys: object refs come back as [id]; refIds of batches line up with keys", () => {
    const h = b.create('any', 'f64', 0);
    b.set(h, undefined, 1, 7); // an object key with identity id 7
    b.set(h, 'x', 2);
    b.set(h, 7, 3); // the number 7 is a different key
    expect(b.get(h, undefined, 7)).toBe(1);
    expect(b.get(h, undefined)).toBeUndefined();
    expect(b.getMany(h, [{}, 'x', {}, 7], [7, undefined, 0])).toEqual([1, 2, undefined, 3]);
    const it = b.iterStart(h);
    const flat = b.iterNext(h, it, 10);
    const keys = flat.filter((_, i) => i % 2 === 0);
    expect(keys).toContainEqual([7]);
    expect(keys).toContain('x');
    expect(keys).toContain(7);
    expect(outcome(() => b.getMany(h, [{}]))).toBe('TypeError'); // an object key without an id
    expect(outcome(() => b.get(h, undefined, -1))).toBe('TypeError');
    expect(outcome(() => b.get(h, undefined, 'id' as never))).toBe('TypeError');
    b.close(h);
  });

  it('close() frees the native map at once; GC frees maps and iterators that were never closed', async () => {
    await collect();
    const base = b.liveHandles();
    const m = new GoMap<number, number>(null, { key: 'f64', value: 'f64' });
    expect(b.liveHandles().maps).toBe(base.maps + 1);
    m.close();
    expect(b.liveHandles().maps).toBe(base.maps);

    (() => {
      for (let i = 0; i < 50; i++) {
        const g = new GoMap<number, string>(null, { key: 'f64', value: 'string' });
        for (let j = 0; j < 100; j++) g.set(j, `v${j}`);
        const it = g.entries();
        it.next(); // the native iterator outlives this call
        it.next();
      }
    })();
    expect(b.liveHandles().maps).toBeGreaterThanOrEqual(base.maps + 1);
    await collect();
    expect(b.liveHandles()).toEqual(base);
  });

  it('an abandoned iterator of a live map is freed by GC; the map keeps working', async () => {
    const m = new GoMap<number, number>(null, { key: 'f64', value: 'f64' });
    for (let i = 0; i < 1000; i++) m.set(i, i);
    await collect();
    const base = b.liveHandles().iterators;
    (() => {
      for (let i = 0; i < 20; i++) {
        const it = m.keys();
        for (let j = 0; j < 100; j++) it.next();
      }
    })();
    expect(b.liveHandles().iterators).toBe(base + 20);
    await collect();
    expect(b.liveHandles().iterators).toBe(base);
    expect(m.get(999)).toBe(999);
    m.close();
  });

  it('a map of every kind combination is created and freed (25 native instantiations)', () => {
    const keys = ['f64', 'i64', 'string', 'bytes', 'any'] as const;
    const values = ['f64', 'i64', 'string', 'bytes', 'any'] as const;
    const sample: Record<string, unknown> = { f64: 1.5, i64: -5n, string: 'é\uD800', bytes: Buffer.from([1, 2]), any: 3 };
    for (const k of keys) {
      for (const v of values) {
        const h = b.create(k, v, 10, 1n);
        const key = k === 'any' ? 'key' : sample[k];
        expect(b.set(h, key, sample[v])).toBe(v === 'any' ? 3 : true);
        const got = b.get(h, key);
        if (v === 'bytes') expect(Buffer.compare(got as Buffer, sample.bytes as Buffer)).toBe(0);
        else expect(got).toBe(v === 'any' ? 3 : sample[v]);
        expect(b.size(h)).toBe(1);
        expect(b.delete(h, key)).toBe(v === 'any' ? 3 : true);
        expect(b.delete(h, key)).toBe(v === 'any' ? -1 : false);
        b.close(h);
      }
    }
  });
});

describe(`raw binding in worker threads [backend: ${backend}]`, () => {
  it('each thread has its own maps, handles and I/O area; a worker that exits with open maps and iterators frees them', async () => {
    const { Worker } = await import('node:worker_threads');
    const { join } = await import('node:path');
    const addonPath = join(__dirname, '..', 'build', 'Release', 'gomap.node');
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(workerData.addonPath);
      const io = new Float64Array(b.io);
      const h = b.create('f64', 'f64', 0);
      for (let i = 0; i < 10000; i++) { io[0] = h; io[1] = i; io[2] = i * 2; b.fastSet(); }
      io[0] = h; io[1] = 77; b.fastGet();
      const got = io[3] === 1 ? io[2] : undefined;
      let foreign = 'none';
      try { b.get(workerData.mainHandle, 1); } catch (e) { foreign = e.code; }
      const it = b.iterStart(h);
      b.iterNext(h, it, 10);
      const s = b.create('string', 'string', 100);
      b.set(s, 'k', 'v');
      parentPort.postMessage({ got, foreign, live: b.liveHandles(), size: b.size(h) });
      // exits with two open maps and an open iterator
    `;
    const main = binding.create('f64', 'f64', 0);
    binding.set(main, 1, 1);
    const result = await new Promise<{ got: number; foreign: string; live: { maps: number; iterators: number }; size: number }>((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: { addonPath, mainHandle: main } });
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(result.got).toBe(154);
    expect(result.size).toBe(10000);
    expect(result.foreign).toBe('ERR_GOMAP_CLOSED'); // a main-thread handle means nothing there
    expect(result.live).toEqual({ maps: 2, iterators: 1 });
    // the main thread's I/O area and maps were not touched
    expect(binding.get(main, 1)).toBe(1);
    binding.close(main);
  });

  it('terminating a busy worker that uses maps does not crash', async () => {
    const { Worker } = await import('node:worker_threads');
    const { join } = await import('node:path');
    const addonPath = join(__dirname, '..', 'build', 'Release', 'gomap.node');
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(workerData.addonPath);
      const h = b.create('string', 'any', 0);
      parentPort.postMessage('ready');
      for (let i = 0; ; i++) { b.set(h, 'k' + (i % 100000), i % 1000); if (i % 7 === 0) b.delete(h, 'k' + (i % 5000)); }
    `;
    for (let round = 0; round < 3; round++) {
      const w = new Worker(code, { eval: true, workerData: { addonPath } });
      await new Promise((resolve) => w.once('message', resolve));
      await new Promise((resolve) => setTimeout(resolve, 30));
      await w.terminate();
    }
    expect(binding.liveHandles().maps).toBeGreaterThanOrEqual(0);
  });
});
