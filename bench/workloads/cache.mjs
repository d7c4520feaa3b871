// GoCache against the JS LRU caches (lru-cache, lru.min, quick-lru, tiny-lru,
// mnemonist's LRUMap), in one process, on the same keys (`npm run bench -- --only=cache`):
//
//   throughput   get hit / get miss / set with eviction, max = 100K and 1M, ns per op
//   memory       bytes per entry of a full cache (each in a fresh child process)
//   hit ratios   seeded traces generated here (deterministic, also in C++-free form):
//                Zipf 0.99 over 1M keys with a 100K cache; a loop plus scan bursts; Zipf
//                with ttl churn on a manual clock. Exact LRU (lru-cache) beside GoCache.
//   10M churn    a cache of max 10,000,000 under churn, in child processes: GoCache and
//                lru-cache (lru-cache#331: "Map maximum size exceeded").
//   shared       get-hit throughput of one shared GoCache (shared: true) from 1 and 2
//                worker threads (the ratio shows whether lock-free reads scale), beside a
//                single-thread GoCache per worker (children/cache-worker.mjs).

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runChild } from '../lib/child.mjs';
import { SEED, specialize } from '../lib/contenders.mjs';
import { freshProbes, missProbes, storedKeys } from '../lib/keys.mjs';
import { mulberry32, permutation } from '../lib/prng.mjs';
import { fmtBytes, fmtN, fmtNs, fmtRatio, markdownTable } from '../lib/table.mjs';
import { fullGc, median, timeNs } from '../lib/timer.mjs';

const require = createRequire(import.meta.url);

/** GoCache from dist/ (built by `npm run build`). */
export async function loadGoCache() {
  const mod = await import(new URL('../../dist/index.js', import.meta.url).href);
  if (typeof mod.GoCache !== 'function') throw new Error('dist/index.js has no GoCache: run `npm run build`');
  return mod.GoCache;
}

/** The JS caches, each behind the same small interface (get / set), at max `n`. */
export async function jsCaches() {
  const { LRUCache } = await import('lru-cache');
  const { createLRU } = await import('lru.min');
  const QuickLRU = (await import('quick-lru')).default;
  const { lru } = await import('tiny-lru');
  const LRUMap = require('mnemonist/lru-map.js');
  return [
    { name: 'lru-cache', create: (n) => new LRUCache({ max: n }) },
    { name: 'lru.min', create: (n) => createLRU({ max: n }) },
    { name: 'quick-lru', create: (n) => new QuickLRU({ maxSize: n }) },
    { name: 'tiny-lru', create: (n) => lru(n) },
    { name: 'mnemonist', create: (n) => new LRUMap(n) },
  ];
}

function goCaches(GoCache, keyKind) {
  return [
    { name: `GoCache ${keyKind}→f64`, create: (n) => new GoCache({ max: n, key: keyKind, value: 'f64', seed: SEED }), gocache: true },
    { name: `GoCache ${keyKind}→any`, create: (n) => new GoCache({ max: n, key: keyKind, value: 'any', seed: SEED }), gocache: true },
  ];
}

// --- timed loops (recompiled per contender by specialize) ---
function fillLoop(c, keys, n) {
  for (let i = 0; i < n; i++) c.set(keys[i], i + 0.5);
  return n;
}
function getLoop(c, probes, n) {
  let found = 0;
  for (let i = 0; i < n; i++) if (c.get(probes[i]) !== undefined) found++;
  return found;
}

// One pair of loops per contender and key kind, compiled once and reused by the warm-up
// and every round (fresh copies would run cold, unoptimised).
const loopCache = new Map();
function loopsOf(contender, kind) {
  const id = `${contender.name}/${kind}`;
  if (!loopCache.has(id)) loopCache.set(id, { fill: specialize(fillLoop), get: specialize(getLoop) });
  return loopCache.get(id);
}

/**
 * One pass of the throughput rows for `contender` at max `n`: ns per get hit, get miss and
 * set with eviction (n new keys into the full cache). Also used by the engine comparison.
 */
export function runThroughputOne(contender, kind, n, perm) {
  const { fill, get } = loopsOf(contender, kind);
  const stored = storedKeys(kind, n);
  const c = contender.create(n);
  fill(c, stored, n);
  const hits = freshProbes(kind, perm);
  const misses = missProbes(kind, perm);
  fullGc();
  const hit = timeNs(() => get(c, hits, n));
  const miss = timeNs(() => get(c, misses, n));
  // n new keys into the full cache: every set evicts one.
  const fresh = missProbes(kind, perm);
  fullGc();
  const evict = timeNs(() => fill(c, fresh, n));
  const ok = hit.result === n && miss.result === 0;
  c.close?.();
  return { getHit: hit.ns / n, getMiss: miss.ns / n, setEvict: evict.ns / n, ok };
}

export function runCacheThroughput({ GoCache, contenders, sizes, rounds, log }) {
  const rows = [];
  for (const n of sizes) {
    for (const kind of ['string', 'f64']) {
      const list = [...contenders, ...goCaches(GoCache, kind)];
      const perm = permutation(n, 11);
      // Warm every contender's code (and its loops) on a small size first.
      const warmN = Math.min(n, 10_000);
      for (const c of list) for (let w = 0; w < 3; w++) runThroughputOne(c, kind, warmN, permutation(warmN, 11));
      const samples = new Map(list.map((c) => [c.name, { getHit: [], getMiss: [], setEvict: [], ok: true }]));
      for (let r = 0; r < rounds; r++) {
        for (let k = 0; k < list.length; k++) {
          const c = list[(k + r) % list.length];
          const s = samples.get(c.name);
          const m = runThroughputOne(c, kind, n, perm);
          s.getHit.push(m.getHit);
          s.getMiss.push(m.getMiss);
          s.setEvict.push(m.setEvict);
          s.ok &&= m.ok;
        }
      }
      for (const [name, s] of samples) {
        rows.push({ n, kind, name, getHit: median(s.getHit), getMiss: median(s.getMiss), setEvict: median(s.setEvict), ok: s.ok });
      }
      log?.(`  cache throughput: ${kind} keys, max ${fmtN(n)} done`);
    }
  }
  return rows;
}

// --- hit-ratio traces ---

/** A Zipf(s) sampler over ranks 0..n-1 (rank 0 hottest), from a seeded mulberry32. */
export function zipfSampler(n, s, seed) {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / Math.pow(i + 1, s);
    cdf[i] = sum;
  }
  for (let i = 0; i < n; i++) cdf[i] /= sum;
  const next = mulberry32(seed);
  return () => {
    const u = next() / 4294967296;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Zipf 0.99 over `universe` keys: `ops` key ids. */
export function zipfTrace(universe, ops, seed) {
  const sample = zipfSampler(universe, 0.99, seed);
  const trace = new Uint32Array(ops);
  for (let i = 0; i < ops; i++) trace[i] = sample();
  return trace;
}

/**
 * A loop that fits in the cache, interrupted by scan bursts of one-time keys:
 * `rounds` x (`passes` passes over `loop` keys, then `scan` fresh keys).
 */
export function loopScanTrace(loop, passes, scan, rounds) {
  const trace = new Uint32Array(rounds * (passes * loop + scan));
  let t = 0;
  let nextScanKey = loop;
  for (let r = 0; r < rounds; r++) {
    for (let p = 0; p < passes; p++) for (let i = 0; i < loop; i++) trace[t++] = i;
    for (let i = 0; i < scan; i++) trace[t++] = nextScanKey++;
  }
  return trace;
}

/**
 * Read-through replay: get, and set on a miss (with `ttlOf(i)` when given). Time (for
 * ttl traces) advances 1 ms per operation on the caches' manual clocks. Hits are counted
 * after `warm` operations.
 */
function replay(cache, trace, warm, { ttlOf, clock } = {}) {
  let hits = 0;
  for (let i = 0; i < trace.length; i++) {
    if (clock) clock(i + 1);
    const k = trace[i];
    if (cache.get(k) !== undefined) {
      if (i >= warm) hits++;
    } else if (ttlOf) {
      cache.set(k, 1, { ttl: ttlOf(k, i) });
    } else {
      cache.set(k, 1);
    }
  }
  return hits / (trace.length - warm);
}

export async function runHitRatios({ GoCache, log }) {
  const { LRUCache } = await import('lru-cache');
  const manual = Symbol.for('gomap.cache.manualClock');
  const rows = [];
  const compare = (name, trace, capacity, warm, note, ttl) => {
    let now = 1;
    const lru = ttl
      ? new LRUCache({ max: capacity, ttl: 1, ttlResolution: 0, perf: { now: () => now } })
      : new LRUCache({ max: capacity });
    const gc = new GoCache({ max: capacity, key: 'f64', value: 'f64', seed: SEED, ...(ttl ? { ttl: 1 } : {}) });
    const lruRatio = replay(lru, trace, warm, ttl ? { ttlOf: ttl, clock: (t) => (now = t) } : {});
    if (ttl) gc[manual](1);
    const goRatio = replay(gc, trace, warm, ttl ? { ttlOf: ttl, clock: (t) => gc[manual](t) } : {});
    const stats = gc.stats();
    gc.close();
    rows.push({ name, capacity, ops: trace.length, warm, lru: lruRatio, gocache: goRatio, ratio: goRatio / lruRatio, evictions: stats.evictions, expirations: stats.expirations, note });
    log?.(`  hit ratio ${name}: lru-cache ${lruRatio.toFixed(4)}, GoCache ${goRatio.toFixed(4)}`);
  };
  compare('Zipf 0.99, 1M keys', zipfTrace(1_000_000, 5_000_000, 12345), 100_000, 1_000_000, '5M gets (read-through), first 1M not counted');
  compare('loop 80K x5 + scan 100K, x10', loopScanTrace(80_000, 5, 100_000, 10), 100_000, 0, 'a hot loop that fits, flushed by one-time scans');
  // ttl churn: Zipf keys; 1 key in 4 gets a short ttl (20K ms), the rest 500K ms; 1 ms per op.
  const mix = (k) => Math.imul(k, 0x9e3779b1) >>> 0;
  compare('Zipf 0.99 + ttl churn', zipfTrace(1_000_000, 3_000_000, 777), 100_000, 500_000, "ttl 20K (1 key in 4) or 500K ms, 1 ms per op, manual clocks", (k) => (mix(k) % 4 === 0 ? 20_000 : 500_000));
  return rows;
}

// --- bytes per entry and 10M churn (child processes) ---

export async function runCacheMemory({ n, names, log }) {
  const rows = [];
  for (const name of names) {
    try {
      rows.push(await runChild('cache-memory.mjs', { name, n, mode: 'memory' }, { execArgv: ['--expose-gc', '--max-semi-space-size=1'] }));
    } catch (err) {
      rows.push({ name, n, error: String(err?.message ?? err).split('\n')[0] });
    }
    log?.(`  cache memory ${name}: ${rows.at(-1).bytesPerEntry?.toFixed(1) ?? rows.at(-1).error}`);
  }
  return rows;
}

export async function runChurn10M({ log }) {
  const rows = [];
  const runs = [
    ['GoCache f64→f64', 'f64'],
    ['lru-cache', 'f64'],
    ['GoCache string→f64', 'string'],
    ['lru-cache', 'string'],
  ];
  for (const [name, keys] of runs) {
    try {
      rows.push(await runChild('cache-memory.mjs', { name, n: 10_000_000, mode: 'churn', keys }, { execArgv: ['--expose-gc', '--max-old-space-size=8192'], timeoutMs: 1_200_000 }));
    } catch (err) {
      rows.push({ name, keys, n: 10_000_000, error: String(err?.message ?? err).split('\n')[0] });
    }
    log?.(`  10M churn ${name} (${keys} keys): ${rows.at(-1).error ?? `${rows.at(-1).seconds?.toFixed(1)} s, size ${rows.at(-1).size}`}`);
  }
  return rows;
}

const CACHE_WORKER = fileURLToPath(new URL('../children/cache-worker.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** Runs `count` cache-worker jobs from one barrier: all workers' gets per second. */
async function cacheWorkers(data, count) {
  const gate = new SharedArrayBuffer(8);
  const cells = new Int32Array(gate);
  const runs = Array.from({ length: count }, (_, i) =>
    new Promise((resolve, reject) => {
      const w = new Worker(CACHE_WORKER, { workerData: { dist: DIST, ...data, seed: 100 + i, gate } });
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', (code) => code !== 0 && reject(new Error(`cache worker exited with ${code}`)));
    }));
  while (Atomics.load(cells, 0) < count) await new Promise((r) => setTimeout(r, 1));
  Atomics.store(cells, 1, 1);
  Atomics.notify(cells, 1);
  const results = await Promise.all(runs);
  const wallNs = Math.max(...results.map((r) => r.ns));
  const ops = results.reduce((a, r) => a + r.ops, 0);
  return { opsPerSec: ops / (wallNs / 1e9), nsPerOp: median(results.map((r) => r.ns / r.ops)), bad: results.reduce((a, r) => a + r.bad, 0) };
}

/** Get-hit throughput of a shared GoCache from 1 and 2 workers, and of a local one. */
export async function runSharedCache({ GoCache, n, ops, rounds, log }) {
  const cache = new GoCache({ shared: true, max: 2 * n, key: 'f64', value: 'f64', seed: SEED });
  for (let i = 0; i < n; i++) cache.set(i, i + 0.5);
  const handle = cache.handle;
  const sample = async (job, count) => {
    const xs = [];
    for (let r = 0; r < rounds; r++) xs.push(await cacheWorkers({ job, handle, n, ops }, count));
    return { opsPerSec: median(xs.map((x) => x.opsPerSec)), nsPerOp: median(xs.map((x) => x.nsPerOp)), bad: xs.reduce((a, x) => a + x.bad, 0) };
  };
  log?.(`cache: shared GoCache get hit, N = ${fmtN(n)}, ${fmtN(ops)} gets per worker`);
  const local = await sample('local', 1);
  const one = await sample('shared', 1);
  const two = await sample('shared', 2);
  cache.close();
  return { n, ops, local, one, two, scaling: two.opsPerSec / one.opsPerSec };
}

export async function runCacheSection({ options, log }) {
  const GoCache = await loadGoCache();
  const contenders = await jsCaches();
  const sizes = options.quick ? [1e4, 1e5] : [1e5, 1e6];
  const out = {};
  out.throughput = runCacheThroughput({ GoCache, contenders, sizes, rounds: options.rounds, log });
  out.hitRatios = await runHitRatios({ GoCache, log });
  const names = [...contenders.map((c) => c.name), 'GoCache string→f64', 'GoCache string→any'];
  // Over one growth cycle of the table (as the GoMap memory section does): one size alone
  // would be a hash table's best or worst case.
  const memorySizes = options.quick ? [1e5, 1.2e5, 1.4e5, 1.6e5] : [1e6, 1.2e6, 1.4e6, 1.6e6];
  out.memory = [];
  for (const n of memorySizes) out.memory.push(...(await runCacheMemory({ n, names, log })));
  if (!options.quick) out.churn = await runChurn10M({ log });
  out.shared = await runSharedCache({ GoCache, n: options.quick ? 1e4 : 1e5, ops: options.quick ? 200_000 : 2_000_000, rounds: options.rounds, log });
  return out;
}

export function renderCache(cache) {
  const parts = ['## GoCache vs JS LRU caches', ''];
  if (cache.throughput?.length) {
    const base = new Map(cache.throughput.filter((r) => r.name === 'lru-cache').map((r) => [`${r.n}/${r.kind}`, r]));
    const rows = cache.throughput.map((r) => {
      const b = base.get(`${r.n}/${r.kind}`);
      return [fmtN(r.n), r.kind, r.name + (r.ok ? '' : ' ⚠'), fmtNs(r.getHit), fmtNs(r.getMiss), fmtNs(r.setEvict),
        fmtRatio(b.getHit / r.getHit), fmtRatio(b.setEvict / r.setEvict)];
    });
    parts.push('ns per operation (median of rounds); speedup = lru-cache ns / this ns (> 1: faster than lru-cache).', '');
    parts.push(markdownTable(['max', 'keys', 'cache', 'get hit', 'get miss', 'set + evict', 'get speedup', 'set speedup'], rows, 'lllrrrrr'), '');
  }
  if (cache.hitRatios?.length) {
    parts.push('Hit ratios (read-through replay of seeded traces; deterministic):', '');
    parts.push(markdownTable(['trace', 'cache size', 'ops', 'lru-cache (exact LRU)', 'GoCache', 'GoCache / LRU', 'note'],
      cache.hitRatios.map((r) => [r.name, fmtN(r.capacity), fmtN(r.ops), r.lru.toFixed(4), r.gocache.toFixed(4), fmtRatio(r.ratio), r.note]), 'lrrrrrl'), '');
  }
  if (cache.memory?.length) {
    const lruAt = new Map(cache.memory.filter((r) => r.name === 'lru-cache').map((r) => [r.n, r.bytesPerEntry]));
    parts.push('Bytes per entry of a full cache (string keys "user:" + i, number values; JS heap growth + native bytes; fresh process each):', '');
    parts.push(markdownTable(['cache', 'entries', 'JS heap B/entry', 'native B/entry', 'total B/entry', 'vs lru-cache'],
      cache.memory.map((r) => [r.name, fmtN(r.n), fmtBytes(r.heapPerEntry), fmtBytes(r.nativePerEntry), r.error ?? fmtBytes(r.bytesPerEntry), fmtRatio(r.bytesPerEntry / lruAt.get(r.n))]), 'lrrrrr'), '');
    const byName = new Map();
    for (const r of cache.memory) if (!r.error) (byName.get(r.name) ?? byName.set(r.name, []).get(r.name)).push(r.bytesPerEntry);
    const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const lruAvg = avg(byName.get('lru-cache') ?? [NaN]);
    parts.push('Average over the sizes (one growth cycle of the table):', '');
    parts.push(markdownTable(['cache', 'B/entry', 'vs lru-cache'], [...byName].map(([name, xs]) => [name, fmtBytes(avg(xs)), fmtRatio(avg(xs) / lruAvg)]), 'lrr'), '');
  }
  if (cache.shared) {
    const sh = cache.shared;
    const row = (name, x, ratio) => [name + (x.bad ? ' ⚠' : ''), fmtN(sh.n), fmtNs(x.nsPerOp), `${(x.opsPerSec / 1e6).toFixed(2)} M/s`, ratio];
    parts.push('Get hit from worker threads, f64→f64, random keys (shared: one cache for all workers; lock-free reads):', '');
    parts.push(markdownTable(['cache', 'entries', 'ns/op per worker', 'all workers', 'vs 1 worker'], [
      row('single-thread GoCache, one per worker (1 worker)', sh.local, '—'),
      row('shared GoCache, 1 worker', sh.one, '1.00x'),
      row('shared GoCache, 2 workers', sh.two, fmtRatio(sh.scaling)),
    ], 'lrrrr'), '');
  }
  if (cache.churn?.length) {
    parts.push('A cache of max 10,000,000 under churn (15M distinct keys inserted):', '');
    parts.push(markdownTable(['cache', 'keys', 'result', 'size at end', 'seconds'],
      cache.churn.map((r) => [r.name, r.keys ?? 'f64', r.error ?? 'held', r.size ?? '—', r.seconds?.toFixed(1) ?? '—']), 'lllrr'), '');
  }
  return parts.join('\n');
}
