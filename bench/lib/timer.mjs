// Timing helpers: hrtime in nanoseconds, a full GC before a timed section, statistics.

/** Nanoseconds taken by fn(); its result is kept in `sink` so it cannot be optimised out. */
export function timeNs(fn) {
  const t0 = process.hrtime.bigint();
  const result = fn();
  const ns = Number(process.hrtime.bigint() - t0);
  return { ns, result };
}

/** A full, synchronous garbage collection (needs node --expose-gc). */
export function fullGc() {
  if (typeof globalThis.gc !== 'function') {
    throw new Error('run node with --expose-gc (npm run bench does)');
  }
  globalThis.gc();
}

export function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function min(xs) {
  return xs.length ? Math.min(...xs) : NaN;
}

export function mean(xs) {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** The p-th percentile (0..100) by nearest rank. */
export function percentile(xs, p) {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank];
}

/** How many times a workload over n keys is repeated so a sample covers ~1M operations. */
export function passesFor(n, targetOps = 1_000_000) {
  return Math.max(1, Math.round(targetOps / n));
}

/** Summary of samples (ns/op): the median is what the tables print. */
export function summarize(samples) {
  return { median: median(samples), min: min(samples), samples };
}
