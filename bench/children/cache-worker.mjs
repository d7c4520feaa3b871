// A worker thread of the shared GoCache benchmark (workloads/cache.mjs, runSharedCache):
// runs `ops` get hits over a random order of the keys 0..n-1 (f64 keys and values), from
// a barrier so that the workers of one run start together, and posts { ns, ops, bad }.
//
// Jobs:
//   shared   attaches the shared cache named by workerData.handle (GoCache.attach)
//   local    builds its own single-thread GoCache of the same keys (the baseline: what a
//            cache per worker costs per get, without sharing anything)

import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { permutation } from '../lib/prng.mjs';

const { GoCache } = await import(pathToFileURL(workerData.dist).href);

function barrier(gate) {
  Atomics.add(gate, 0, 1);
  Atomics.notify(gate, 0);
  while (Atomics.load(gate, 1) === 0) Atomics.wait(gate, 1, 0, 20);
}

const { job, handle, n, ops, seed, gate } = workerData;
let cache;
if (job === 'shared') {
  cache = GoCache.attach(handle);
} else {
  cache = new GoCache({ max: 2 * n, key: 'f64', value: 'f64', seed: 42n });
  for (let i = 0; i < n; i++) cache.set(i, i + 0.5);
}
const order = Float64Array.from(permutation(n, seed));
let sink = 0;
for (let i = 0; i < Math.min(ops, 200_000); i++) sink += cache.get(order[i % n]) ?? 0; // warm-up
barrier(new Int32Array(gate));
let bad = 0;
const t0 = process.hrtime.bigint();
for (let i = 0; i < ops; i++) {
  const v = cache.get(order[i % n]);
  if (v === undefined) bad++;
  else sink += v;
}
const ns = Number(process.hrtime.bigint() - t0);
cache.close();
parentPort.postMessage({ ns, ops, bad, sink: sink > 0 });
