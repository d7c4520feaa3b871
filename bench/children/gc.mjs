// Child process: GC cost of a big live map. With n "user:" + i → f64 entries live, runs
// `ops` operations, 90% get / 10% set of random existing keys (keys built anew, as from
// requests), and records every GC pause (perf_hooks 'gc' entries), then times forced
// full collections.
// args: { map: 'Map' | 'GoMap' | 'none', n, ops, standIn }
// 'none' runs the same workload against a stub that stores nothing: the GC cost of the
// workload's own garbage (key strings built per request, boxed doubles), the floor any map
// pays on top of.

import { PerformanceObserver, constants } from 'node:perf_hooks';
import { childMain } from '../lib/child.mjs';
import { loadGoMap, SEED } from '../lib/contenders.mjs';
import { valueAt } from '../lib/keys.mjs';
import { mulberry32, SEEDS } from '../lib/prng.mjs';
import { median, percentile, timeNs } from '../lib/timer.mjs';

const KIND_NAMES = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
const FORCED_GCS = 5;

function mixedWorkload(m, n, ops, seed) {
  const next = mulberry32(seed);
  let found = 0;
  for (let i = 0; i < ops; i++) {
    const key = 'user:' + (next() % n);
    if (next() % 10 === 0) {
      m.set(key, i + 0.75);
    } else if (m.get(key) !== undefined) {
      found++;
    }
  }
  return found;
}

// 'gc' entries are delivered asynchronously, after the GC, on a later turn of the loop.
const ENTRY_DELIVERY_MS = 200;

/** Collects 'gc' performance entries until stopped. */
function recordGcPauses() {
  const entries = [];
  const obs = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  return async () => {
    await new Promise((resolve) => setTimeout(resolve, ENTRY_DELIVERY_MS));
    obs.disconnect();
    return entries.map((e) => ({ ms: e.duration, kind: KIND_NAMES[e.detail?.kind ?? e.kind] ?? 'other' }));
  };
}

function summarizePauses(pauses) {
  const ms = pauses.map((p) => p.ms);
  const byKind = {};
  for (const p of pauses) {
    const k = (byKind[p.kind] ??= { count: 0, ms: 0 });
    k.count++;
    k.ms += p.ms;
  }
  return {
    count: ms.length,
    totalMs: ms.reduce((a, b) => a + b, 0),
    p99Ms: percentile(ms, 99),
    maxMs: ms.length ? Math.max(...ms) : 0,
    byKind,
  };
}

/** Answers like a full map without holding anything. */
class NoMap {
  size = 0;
  get(key) {
    return key.length + 0.5;
  }
  set() {
    return this;
  }
}

async function createMap(map, standIn) {
  if (map === 'Map') return new Map();
  if (map === 'none') return new NoMap();
  const { GoMap } = await loadGoMap({ standIn });
  return new GoMap(null, { key: 'string', value: 'f64', seed: SEED });
}

childMain(async ({ map, n, ops, standIn }) => {
  const m = await createMap(map, standIn);
  for (let i = 0; i < n; i++) m.set('user:' + i, valueAt(i));
  globalThis.gc();

  const stop = recordGcPauses();
  const run = timeNs(() => mixedWorkload(m, n, ops, SEEDS.gc));
  const pauses = summarizePauses(await stop());

  const forced = [];
  for (let i = 0; i < FORCED_GCS; i++) forced.push(timeNs(() => globalThis.gc()).ns / 1e6);
  return {
    map,
    n,
    ops,
    size: m.size,
    found: run.result,
    nsPerOp: run.ns / ops,
    pauses,
    fullGcMs: { median: median(forced), samples: forced },
    heapUsedMB: process.memoryUsage().heapUsed / 2 ** 20,
  };
});
