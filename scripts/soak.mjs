#!/usr/bin/env node
// Soak test: a mixed GoMap workload for a fixed time (default 60 s) with the process's
// resident memory (RSS) sampled every second; RSS must level off. `npm run test:soak`
// (builds dist/ first); CI runs it as its own step. Not part of `npm test`.
//
//   node --expose-gc scripts/soak.mjs [--seconds=60] [--leak]
//
// Workload: four maps of different kinds (string -> long string, i64 -> f64, 'any' ->
// 'any' with object and symbol keys, bytes -> json) driven by a seeded PRNG over a fixed
// key universe per map, so the live data is bounded: set (new keys and overwrites), get,
// has, delete, getMany, setMany, iteration with deletes inside the loop, occasional
// clear / shrink / reserve; every 5 s one map is closed and re-created, and now and
// then a map is dropped without close() (freed by the GC finalizer). The loop yields to
// the event loop every 20 ms so finalizers and the sampler run.
//
// Each sample is taken right after a full garbage collection (node --expose-gc), so it
// measures what the process retains rather than where V8's collector happens to be.
// Leveling off, over the 60 one-second samples (the first half is warm-up: tables grow
// to their working size, V8 sizes its heap):
//   1. slope: the least-squares slope of RSS over the last half (30 samples) is below
//      SLOPE_LIMIT = 0.25 MiB/s, i.e. 7.5 MiB over 30 s. The loop runs ~40,000-50,000
//      operations per second on a loaded 2-core machine (more on an idle one; printed),
//      so the limit is a leak of about 5 bytes per operation there (printed too: limit /
//      rate). Measured on flat runs, with samples taken after a full GC: |slope| <= 0.1
//      MiB/s, so the limit sits well above the noise.
//   2. plateau: the largest RSS of the last half is at most 10% (PLATEAU_PCT) above the
//      largest RSS of the first half: once warm, the process does not climb to new highs
//      (10% leaves room for a late V8 heap resize or a late table doubling; a leak small
//      enough to stay within 10% over 30 s is the slope's to catch).
// Both must hold; the script prints the curve (one bar per second), the figures and the
// verdict, and exits 1 when RSS does not level off. `--leak` retains 64 KiB every 1,000
// operations on purpose, to show the check fails on a real leak.
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { seconds: { type: 'string' }, leak: { type: 'boolean' } },
});
const SECONDS = Math.max(10, Number(values.seconds ?? process.env.SOAK_SECONDS ?? 60));
const LEAK = !!values.leak;
const SLOPE_LIMIT = 0.25; // MiB per second over the last half
const PLATEAU_PCT = 10; // last-half max at most this much above the first-half max
const MiB = 1024 * 1024;
const RECYCLE_MS = 5000; // one map closed (or dropped) and re-created this often

const { GoMap, backend } = await import(new URL('../dist/index.js', import.meta.url).href).catch((e) => {
  console.error('soak: cannot load dist/index.js: run `npm run build:ts` first (npm run test:soak does)');
  throw e;
});

// mulberry32: a small seeded PRNG, so every run does the same work.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(0x50a4);
const below = (n) => Math.floor(rnd() * n);

const UNIVERSE = 50_000; // distinct keys per map
const objectKeys = Array.from({ length: UNIVERSE }, (_, i) => (i % 2 ? { id: i } : Symbol(`k${i}`)));

// One entry per map kind: how to make a key and a value, by number.
const KINDS = [
  {
    options: { key: 'string', value: 'string' },
    key: (i) => (i % 3 ? `user:${i}` : `a key long enough to live out of line #${i}`),
    value: (i) => (i % 4 ? `v${i}` : `a value long enough for a box, number ${i} `.repeat(1 + (i % 3))),
  },
  { options: { key: 'i64', value: 'f64' }, key: (i) => BigInt(i) * 0x9e3779b9n - 123456789n, value: (i) => i / 7 },
  { options: { key: 'any', value: 'any' }, key: (i) => (i % 3 === 0 ? i : objectKeys[i]), value: (i) => (i % 2 ? { i } : `s${i}`) },
  {
    options: { key: 'bytes', value: 'json' },
    key: (i) => Buffer.from(`bytes-key-${i}-${'x'.repeat(i % 20)}`),
    value: (i) => ({ i, tags: ['a', i % 5], nested: { ok: i % 2 === 0 } }),
  },
];

const maps = KINDS.map((k) => new GoMap(null, k.options));
let ops = 0;
const leaked = [];

function step(slot) {
  const kind = KINDS[slot];
  const m = maps[slot];
  const r = below(1000);
  const i = below(UNIVERSE);
  if (r < 350) {
    m.set(kind.key(i), kind.value(i + ops));
  } else if (r < 650) {
    m.get(kind.key(i));
  } else if (r < 750) {
    m.has(kind.key(i));
  } else if (r < 900) {
    m.delete(kind.key(i));
  } else if (r < 940) {
    const keys = [];
    for (let j = 0; j < 32; j++) keys.push(kind.key(below(UNIVERSE)));
    m.getMany(keys);
  } else if (r < 980) {
    const entries = [];
    for (let j = 0; j < 32; j++) {
      const k = below(UNIVERSE);
      entries.push([kind.key(k), kind.value(k)]);
    }
    m.setMany(entries);
  } else if (r < 995) {
    // iterate a while, deleting some of what we see
    let n = 0;
    for (const [k] of m) {
      if (n % 5 === 0) m.delete(k);
      if (++n > 200) break;
    }
  } else if (r < 997) {
    m.shrink();
  } else if (r < 999) {
    m.reserve(UNIVERSE);
  } else if (below(100) === 0) {
    m.clear(); // rare: the maps should spend most of the run at their working size
  }
  ops++;
  if (LEAK && ops % 1000 === 0) leaked.push(Buffer.alloc(64 * 1024, 1)); // 64 bytes per operation
}

const samples = []; // { t, rss, heap, external, native }
function sample(t) {
  // A full GC first: the sample then shows what is retained, not how much garbage V8
  // let pile up before its next collection (that swings RSS by tens of MiB).
  globalThis.gc?.();
  const mu = process.memoryUsage();
  let native = 0;
  for (const m of maps) native += m.stats().bytes;
  samples.push({ t, rss: mu.rss / MiB, heap: mu.heapUsed / MiB, external: mu.external / MiB, native: native / MiB, ops });
}

const start = performance.now();
let nextSample = 1000;
let nextRecycle = RECYCLE_MS;
let recycled = 0;
let dropped = 0;
console.log(`soak: ${SECONDS} s mixed GoMap workload (backend ${backend}), RSS sampled every second${LEAK ? ' — WITH AN INJECTED LEAK (--leak)' : ''}`);
for (;;) {
  const sliceEnd = performance.now() + 20;
  while (performance.now() < sliceEnd) {
    for (let j = 0; j < 64; j++) step(below(maps.length));
  }
  const elapsed = performance.now() - start;
  if (elapsed >= nextRecycle) {
    // Lifetime churn: close one map and start it again; every third time, drop it
    // without close() and leave it to the GC finalizer.
    const slot = recycled % maps.length;
    if (recycled % 3 === 2) dropped++;
    else maps[slot].close();
    maps[slot] = new GoMap(null, KINDS[slot].options);
    recycled++;
    nextRecycle += RECYCLE_MS;
  }
  if (elapsed >= nextSample) {
    sample(Math.round(nextSample / 1000));
    nextSample += 1000;
    if (samples.length >= SECONDS) break;
  }
  await yieldToLoop();
}
for (const m of maps) m.close();

// ---- the verdict -----------------------------------------------------------------------

function slope(points) {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.rss, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mx) * (p.rss - my);
    den += (p.t - mx) ** 2;
  }
  return num / den;
}

const half = Math.floor(samples.length / 2);
const first = samples.slice(0, half);
const last = samples.slice(half);
const firstMax = Math.max(...first.map((s) => s.rss));
const lastMax = Math.max(...last.map((s) => s.rss));
const lastSlope = slope(last);
const growthPct = ((lastMax - firstMax) / firstMax) * 100;
const slopeOk = lastSlope < SLOPE_LIMIT;
const plateauOk = growthPct <= PLATEAU_PCT;
const opsPerSec = samples.at(-1).ops / samples.at(-1).t;

const lo = Math.min(...samples.map((s) => s.rss));
const hi = Math.max(...samples.map((s) => s.rss));
console.log('\n  t    RSS MiB  heap MiB  native MiB');
for (const s of samples) {
  const bar = '#'.repeat(Math.round(((s.rss - lo) / Math.max(1, hi - lo)) * 50));
  console.log(`${String(s.t).padStart(3)}s ${s.rss.toFixed(1).padStart(9)} ${s.heap.toFixed(1).padStart(9)} ${s.native.toFixed(1).padStart(11)}  |${bar}`);
}
console.log(
  `\nsoak figures: ${samples.at(-1).ops.toLocaleString('en-US')} operations in ${samples.length} s ` +
    `(${Math.round(opsPerSec).toLocaleString('en-US')}/s), maps re-created ${recycled} times (${dropped} left to the GC); ` +
    `RSS first-half max ${firstMax.toFixed(1)} MiB, last-half max ${lastMax.toFixed(1)} MiB (${growthPct >= 0 ? '+' : ''}${growthPct.toFixed(1)}%, limit +${PLATEAU_PCT}%), ` +
    `last-half slope ${lastSlope.toFixed(3)} MiB/s (limit ${SLOPE_LIMIT}: a leak of ` +
    `${((SLOPE_LIMIT * MiB) / opsPerSec).toFixed(1)} bytes per operation at this rate)`,
);
if (slopeOk && plateauOk) {
  console.log('soak: RSS levels off: OK');
} else {
  console.log(`soak: RSS does NOT level off:${slopeOk ? '' : ' slope over the limit;'}${plateauOk ? '' : ' last half climbs above the first half;'}`);
  process.exitCode = 1;
}
