// GC cost with a big live map: each contender in its own child process (children/gc.mjs),
// plus the same workload on a stub that stores nothing (the floor set by the workload's
// own garbage).

import { runChild } from '../lib/child.mjs';

export async function runGc({ n, ops, standIn, log }) {
  const out = {};
  for (const map of ['Map', 'GoMap', 'none']) {
    out[map] = await runChild('gc.mjs', { map, n, ops, standIn });
    log?.(`  gc ${map}: total pause ${out[map].pauses.totalMs.toFixed(1)} ms, full gc ${out[map].fullGcMs.median.toFixed(1)} ms`);
  }
  const ratio = (f) => f(out.GoMap) / f(out.Map);
  // What the map itself adds: both maps' figures less the floor (the stub's), so the
  // workload's own garbage (which no map can remove) does not dilute the comparison.
  const netRatio = (f) => Math.max(0, f(out.GoMap) - f(out.none)) / Math.max(Number.EPSILON, f(out.Map) - f(out.none));
  return {
    n,
    ops,
    results: out,
    ratios: {
      totalPause: ratio((r) => r.pauses.totalMs),
      p99Pause: ratio((r) => r.pauses.p99Ms),
      fullGc: ratio((r) => r.fullGcMs.median),
      totalPauseNet: netRatio((r) => r.pauses.totalMs),
      p99PauseNet: netRatio((r) => r.pauses.p99Ms),
    },
  };
}
