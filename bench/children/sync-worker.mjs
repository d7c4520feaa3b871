// A worker thread of the SyncMap benchmark (workloads/sync.mjs): attaches the shared map
// named by workerData.handle and runs one job, then posts its measurement.
//
// Jobs:
//   ops        `ops` operations over a random order of the keys 0..n-1, a write every
//              `writeEvery` operations (0: reads only); starts at the barrier so that
//              every worker runs at the same time. -> { ns, ops, bad }
//   spin       the same barrier and `ops` iterations of a pure-JS arithmetic loop: the
//              control row, how well this machine runs two threads at all -> { ns, ops }
//   latency    `rounds` single gets from the SyncMap, then `rounds` round trips to the main
//              thread's Map over `port` (postMessage, reply) -> { syncNs, roundTripNs }
//   copy       the heap a structured-clone copy of the main thread's Map costs in this
//              worker (received over `port`), and the heap a SyncMap view costs -> bytes

import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { permutation } from '../lib/prng.mjs';

const { SyncMap } = await import(pathToFileURL(workerData.dist).href);

function barrier(gate) {
  Atomics.add(gate, 0, 1);
  Atomics.notify(gate, 0);
  while (Atomics.load(gate, 1) === 0) Atomics.wait(gate, 1, 0, 20);
}

function heapUsed() {
  globalThis.gc?.();
  globalThis.gc?.();
  return getHeapStatistics().used_heap_size;
}

async function opsJob({ handle, n, ops, writeEvery, seed, gate }) {
  const m = SyncMap.attach(handle);
  const order = Float64Array.from(permutation(n, seed));
  // warm-up: the same loop, shorter
  let sink = 0;
  for (let i = 0; i < Math.min(ops, 200_000); i++) sink += m.get(order[i % n]) ?? 0;
  barrier(new Int32Array(gate));
  let bad = 0;
  const t0 = process.hrtime.bigint();
  if (writeEvery === 0) {
    for (let i = 0; i < ops; i++) {
      const v = m.get(order[i % n]);
      if (v === undefined) bad++;
      else sink += v;
    }
  } else {
    for (let i = 0; i < ops; i++) {
      const k = order[i % n];
      if (i % writeEvery === 0) m.set(k, k + 0.5);
      else {
        const v = m.get(k);
        if (v === undefined) bad++;
        else sink += v;
      }
    }
  }
  const ns = Number(process.hrtime.bigint() - t0);
  m.close();
  return { ns, ops, bad, sink: sink > 0 };
}

// The spin job runs one small function, already optimized before the barrier, in chunks:
// an on-stack-replaced loop measured from cold would time V8's tier-up, whose compiler
// threads compete for the cores with the other worker (that made this control read 0.4x).
function spinChunk(x, n) {
  for (let i = 0; i < n; i++) x = (x + i * 7) | 0;
  return x;
}

const SPIN_CHUNK = 100_000;

async function spinJob({ ops, gate }) {
  let x = 0;
  for (let k = 0; k < 200; k++) x = spinChunk(x, SPIN_CHUNK);
  barrier(new Int32Array(gate));
  const chunks = Math.max(1, Math.ceil((ops * 200) / SPIN_CHUNK));
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < chunks; k++) x = spinChunk(x, SPIN_CHUNK);
  return { ns: Number(process.hrtime.bigint() - t0), ops: chunks * SPIN_CHUNK, bad: 0, sink: x !== 0.5 };
}

async function latencyJob({ handle, n, rounds, port }) {
  const m = SyncMap.attach(handle);
  const order = permutation(n, 11);
  let sink = 0;
  for (let i = 0; i < rounds; i++) sink += m.get(order[i % n]) ?? 0; // warm-up
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) sink += m.get(order[i % n]) ?? 0;
  const syncNs = Number(process.hrtime.bigint() - t0) / rounds;
  const ask = (k) =>
    new Promise((resolve) => {
      port.once('message', resolve);
      port.postMessage(k);
    });
  const trips = Math.max(100, Math.min(rounds, 20_000));
  for (let i = 0; i < 200; i++) sink += (await ask(order[i % n])) ?? 0; // warm-up
  t0 = process.hrtime.bigint();
  for (let i = 0; i < trips; i++) sink += (await ask(order[i % n])) ?? 0;
  const roundTripNs = Number(process.hrtime.bigint() - t0) / trips;
  port.close();
  m.close();
  return { syncNs, roundTripNs, sink: sink > 0 };
}

async function copyJob({ handle, port }) {
  const before = heapUsed();
  const map = await new Promise((resolve) => port.once('message', resolve));
  const withCopy = heapUsed();
  const copyBytes = withCopy - before;
  const size = map.size;
  const m = SyncMap.attach(handle);
  const withView = heapUsed();
  const ok = m.get(0) === map.get(0);
  port.close();
  m.close();
  return { copyBytes, viewBytes: withView - withCopy, size, ok };
}

const jobs = { ops: opsJob, spin: spinJob, latency: latencyJob, copy: copyJob };
parentPort.postMessage(await jobs[workerData.job](workerData));
