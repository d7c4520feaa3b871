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
  return {
    n,
    ops,
    results: out,
    ratios: {
      totalPause: ratio((r) => r.pauses.totalMs),
      p99Pause: ratio((r) => r.pauses.p99Ms),
      fullGc: ratio((r) => r.fullGcMs.median),
    },
  };
}
