// The shared pseudo-random generator of every benchmark in bench/ (JS, Go, C++).
//
// mulberry32: a 32-bit state, one add, two multiplies and a few shifts per draw.
// It is written identically in bench/go/main.go and bench/core/core_bench.cc, so that
// the three programs shuffle the same key sets into the same order. `permutationCheck`
// is printed by all three and compared by bench/index.mjs.

/** Returns a function that yields the next uint32 of the mulberry32 stream. */
export function mulberry32(seed) {
  let state = seed | 0;
  return function next() {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t = (t + Math.imul(t ^ (t >>> 7), t | 61)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * A random permutation of 0..n-1 (Fisher–Yates, from the top down): for i = n-1 .. 1,
 * j = next() % (i + 1), swap(p[i], p[j]). Same algorithm in Go and C++.
 */
export function permutation(n, seed) {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const next = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = next() % (i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Seeds of the permutations, one per workload (shared with Go and C++). */
export const SEEDS = Object.freeze({ getHit: 1, overwrite: 2, delete: 3, getMiss: 4, getMany: 5, gc: 7 });

/** First eight entries of permutation(1000, 1): equal in JS, Go and C++ when they agree. */
export function permutationCheck() {
  return Array.from(permutation(1000, SEEDS.getHit).subarray(0, 8));
}
