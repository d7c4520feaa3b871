/**
 * GoCache behaves exactly alike on both engines (issue 5: "It must behave exactly like the
 * native engine"): the same seeded stream of calls goes to a cache of the native addon and
 * to a cache of the WebAssembly engine, both loaded in this process (the engine under test
 * and the other one, loaded explicitly), with the same hash seed and a manual clock; every
 * result, every removal report (reason, key, value, in order), every iteration (in order)
 * and the stats agree, call by call.
 *
 * Both engines run the same core, with the same hash, seed stream and bucket layout, so
 * eviction victims and iteration orders agree too; only `tableBytes` differs (32-bit
 * pointers in WebAssembly) and is left out.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { binding } from '../lib/backend.ts';
import type { CacheBinding, CacheHandle } from '../lib/binding.ts';
import type { KeyKind, NativeValueKind } from '../lib/kinds.ts';
import { createWasmBinding } from '../lib/wasm/binding.ts';
import { describeEachBackend, loadedBackend } from './helpers/backends.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The other engine's binding, loaded beside the one this process runs on. */
function otherEngine(): CacheBinding {
  if (loadedBackend === 'native') return createWasmBinding(join(root, 'wasm/gomap.wasm')) as unknown as CacheBinding;
  const load = createRequire(join(root, 'package.json'))('node-gyp-build') as (dir: string) => unknown;
  return load(root) as CacheBinding;
}

function mulberry32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t = (t + Math.imul(t ^ (t >>> 7), t | 61)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function keyOf(kind: KeyKind, i: number): unknown {
  switch (kind) {
    case 'f64':
      return i % 7 === 0 ? -0 : i * 1.5;
    case 'i64':
      return BigInt.asIntN(64, BigInt(i) * 0x9e3779b97f4a7c15n);
    case 'string':
      return i % 3 === 0 ? `a long key that lives outside the slot #${i}` : i % 5 === 0 ? `ü\uD800${i}` : `k${i}`;
    case 'bytes':
      return Buffer.from(`bytes key ${i}`.repeat(1 + (i % 3)));
    case 'any':
      return [i, `s${i}`, BigInt(i) - 50n, i % 2 === 0, null, undefined][i % 6];
  }
}

function valueOf(kind: NativeValueKind, i: number): unknown {
  switch (kind) {
    case 'f64':
      return i / 7;
    case 'i64':
      return BigInt(i) - 1000n;
    case 'string':
      return i % 4 === 0 ? `a value long enough to be boxed out of line #${i}` : `v${i}`;
    case 'bytes':
      return Buffer.alloc(i % 40, i & 255);
    case 'any':
      return i; // a slab index, at this level
  }
}

interface Case {
  key: KeyKind;
  value: NativeValueKind;
  max: number;
  maxBytes: number;
  ttl: number;
  updateAgeOnGet: boolean;
  /** Report mode: 1 drained (onEvict), 2 inline (slab cells and identity ids in cacheIo). */
  report: number;
}

const CASES: Case[] = [
  { key: 'string', value: 'string', max: 100, maxBytes: 0, ttl: 0, updateAgeOnGet: false, report: 1 },
  { key: 'f64', value: 'f64', max: 64, maxBytes: 0, ttl: 300, updateAgeOnGet: true, report: 1 },
  { key: 'i64', value: 'bytes', max: 0, maxBytes: 1500, ttl: 0, updateAgeOnGet: false, report: 1 },
  { key: 'bytes', value: 'i64', max: 80, maxBytes: 2000, ttl: 500, updateAgeOnGet: false, report: 1 },
  { key: 'any', value: 'any', max: 50, maxBytes: 900, ttl: 200, updateAgeOnGet: true, report: 1 },
  { key: 'any', value: 'any', max: 40, maxBytes: 0, ttl: 100, updateAgeOnGet: false, report: 2 },
];

const OPS = 6000;
const KEYS = 300;

describeEachBackend('GoCache: both engines agree call by call', () => {
  const other = otherEngine();
  const mine = binding as unknown as CacheBinding;
  for (const c of CASES) {
    it(`'${c.key}' → '${c.value}' (max ${c.max}, maxBytes ${c.maxBytes}, ttl ${c.ttl}${c.updateAgeOnGet ? ', updateAgeOnGet' : ''}, report mode ${c.report})`, () => {
      const engines = [mine, other];
      const ios = engines.map((e) => new Float64Array(e.cacheIo));
      const handles: CacheHandle[] = engines.map((e) => e.cacheCreate(c.key, c.value, c.max, c.maxBytes, c.ttl, c.updateAgeOnGet, c.report, 0x5eedn));
      const rand = mulberry32(2024);
      let now = 1000;
      engines.forEach((e, i) => e.cacheSetTime(handles[i]!, now));
      let removals = 0;
      let inlined = 0; // removals reported inline (report mode 2)
      const both = (what: string, fn: (e: CacheBinding, h: CacheHandle) => unknown): void => {
        const results = engines.map((e, i) => fn(e, handles[i]!));
        expect(results[1], what).toEqual(results[0]);
        const pending = ios.map((io) => io[0]);
        expect(pending[1], `${what}: reports waiting`).toBe(pending[0]);
        // Inline reports: count, then (slab cell, identity id) pairs.
        const inline = ios.map((io) => Array.from(io.subarray(1, 2 + 2 * io[1]!)));
        expect(inline[1], `${what}: inline reports`).toEqual(inline[0]);
        if (inline[0]![0]! !== 0) inlined += inline[0]![0]!;
        if (pending[0] !== 0) {
          const reports = engines.map((e, i) => e.cacheDrain(handles[i]!));
          expect(reports[1], `${what}: removal reports`).toEqual(reports[0]);
        }
      };
      for (let op = 0; op < OPS; op++) {
        const r = rand();
        const k = keyOf(c.key, r % KEYS);
        const choice = (r >>> 9) % 100;
        const what = `op ${op}`;
        if (choice < 45) {
          const ttl = [-1, -1, 0, 40, 400][(r >>> 17) % 5]!;
          const charge = (r >>> 20) % 64;
          both(`${what}: set`, (e, h) => e.cacheSet(h, k, valueOf(c.value, op), ttl, charge));
        } else if (choice < 70) {
          both(`${what}: get`, (e, h) => e.cacheGet(h, k));
        } else if (choice < 78) {
          both(`${what}: peek`, (e, h) => e.cachePeek(h, k));
        } else if (choice < 84) {
          both(`${what}: has`, (e, h) => e.cacheHas(h, k));
        } else if (choice < 90) {
          both(`${what}: delete`, (e, h) => e.cacheDelete(h, k));
        } else if (choice < 95) {
          both(`${what}: remainingTtl`, (e, h) => e.cacheRemainingTtl(h, k));
        } else if (choice < 98) {
          now += (r >>> 16) % 120;
          engines.forEach((e, i) => e.cacheSetTime(handles[i]!, now));
        } else if (choice < 99) {
          both(`${what}: entries`, (e, h) => e.cacheEntries(h, (r & 1) === 0));
        } else {
          both(`${what}: purge`, (e, h) => e.cachePurge(h));
        }
        if (op === OPS / 2) both('clear', (e, h) => e.cacheClear(h));
        if (op % 500 === 0 || op === OPS - 1) {
          const stats = engines.map((e, i) => {
            const { tableBytes: _, ...rest } = e.cacheStats(handles[i]!);
            return rest;
          });
          expect(stats[1], `${what}: stats`).toEqual(stats[0]);
          removals = stats[0]!.evictions + stats[0]!.expirations;
          both(`${what}: size`, (e, h) => e.cacheSize(h));
        }
      }
      // The stream really exercised eviction / expiry.
      expect(removals).toBeGreaterThan(100);
      if (c.report === 2) expect(inlined).toBeGreaterThan(100);
      engines.forEach((e, i) => expect(e.cacheClose(handles[i]!)).toBe(true));
    });
  }
});
