// Bytes per entry, each measured in a fresh child process (children/memory.mjs), over
// one growth cycle of both tables (N = 1.0M .. 1.6M): N = 1M alone would be Map's best
// case and a doubling table's worst.

import { runChild } from '../lib/child.mjs';
import { mean } from '../lib/timer.mjs';

// Small semi-spaces keep the young generation from moving RSS by tens of megabytes.
const EXEC_ARGV = ['--expose-gc', '--max-semi-space-size=1'];

/** The comparisons: GoMap key kind vs the Map holding the same JS keys. */
export const MEMORY_CASES = [
  { id: 'string→f64', go: 'string', map: 'string', note: '"user:" + i keys' },
  { id: 'i64→f64', go: 'bigint', map: 'number', note: "GoMap 'i64' (bigint keys) vs Map with integer number keys" },
  { id: 'i64→f64 (Map bigint keys)', go: 'bigint', map: 'bigint', note: 'Map holding the same bigints' },
  { id: 'f64→f64 (integer numbers)', go: 'number', map: 'number', note: "GoMap 'f64' keys" },
];

export async function runMemory({ sizes, standIn, log }) {
  const cache = new Map(); // one child per (map, keys, n)
  const measure = (map, keys, n) => {
    const id = `${map}/${keys}/${n}`;
    if (!cache.has(id)) cache.set(id, runChild('memory.mjs', { map, keys, n, standIn }, { execArgv: EXEC_ARGV }));
    return cache.get(id);
  };
  const cases = [];
  for (const c of MEMORY_CASES) {
    const rows = [];
    for (const n of sizes) {
      const go = await measure('GoMap', c.go, n);
      const map = await measure('Map', c.map, n);
      rows.push({
        n,
        goStats: go.statsBytesPerEntry,
        goRss: go.rssBytesPerEntry,
        goHeap: go.heapBytesPerEntry,
        mapHeap: map.heapBytesPerEntry,
        mapRss: map.rssBytesPerEntry,
        ratioStats: go.statsBytesPerEntry / map.heapBytesPerEntry,
        ratioRss: go.rssBytesPerEntry / map.heapBytesPerEntry,
        goMapStats: go.stats,
      });
    }
    const avg = (f) => mean(rows.map(f));
    cases.push({
      ...c,
      rows,
      average: {
        goStats: avg((r) => r.goStats),
        goRss: avg((r) => r.goRss),
        mapHeap: avg((r) => r.mapHeap),
        ratioStats: avg((r) => r.ratioStats),
        ratioRss: avg((r) => r.ratioRss),
      },
    });
    log?.(`  memory ${c.id}: GoMap ${cases.at(-1).average.goStats.toFixed(1)} B/entry, Map ${cases.at(-1).average.mapHeap.toFixed(1)} B/entry`);
  }
  return cases;
}
