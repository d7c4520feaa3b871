// One engine's rows of the engine comparison (bench/workloads/engines.mjs): every GoMap
// single-key operation and batch call, for f64 / i64 / string keys and f64 values,
// GoCache's get hit and set with eviction (max = N, key kind → f64), and SyncMap's insert
// and get hit on one thread (key kind → f64), in a process whose GOMAP_BACKEND the parent
// set (a process loads one engine). The SyncMap rows run last: on the WebAssembly engine
// loading SyncMap turns V8's baseline compiler off for the process
// (lib/wasm/v8-workarounds.ts), which must not touch the GoMap rows.
//
//   GOMAP_BACKEND=wasm node --expose-gc bench/children/engine.mjs '{"sizes":[1000],"rounds":1}'

import { childMain } from '../lib/child.mjs';
import { goMapContender, loadGoMap, SEED, specialize } from '../lib/contenders.mjs';
import { freshProbes, storedKeys } from '../lib/keys.mjs';
import { permutation, SEEDS } from '../lib/prng.mjs';
import { fullGc, passesFor, summarize, timeNs } from '../lib/timer.mjs';
import { runGetMany, runSetMany } from '../workloads/batch.mjs';
import { loadGoCache, runThroughputOne } from '../workloads/cache.mjs';
import { runOpsScenario } from '../workloads/ops.mjs';

function hasLoop(m, probes, n) {
  let found = 0;
  for (let i = 0; i < n; i++) if (m.has(probes[i])) found++;
  return found;
}

/** `has` of every stored key (fresh equal keys, random order), ns/op samples. */
function runHas(GoMap, kind, n, rounds) {
  const loop = specialize(hasLoop);
  const m = new GoMap(null, { key: kind, value: 'f64', seed: SEED });
  const stored = storedKeys(kind, n);
  for (let i = 0; i < n; i++) m.set(stored[i], i + 0.5);
  const probes = freshProbes(kind, permutation(n, SEEDS.getHit));
  const passes = passesFor(n);
  loop(m, probes, Math.min(n, 10_000));
  const samples = [];
  const errors = [];
  for (let r = 0; r < rounds; r++) {
    fullGc();
    let ns = 0;
    for (let p = 0; p < passes; p++) {
      const t = timeNs(() => loop(m, probes, n));
      ns += t.ns;
      if (t.result !== n) errors.push(`has: got ${t.result}, expected ${n}`);
    }
    samples.push(ns / (passes * n));
  }
  m.close();
  return { ...summarize(samples), errors };
}

/**
 * GoCache at max n (key kind → f64 values), as the cache section measures it: get hit
 * (fresh equal keys, random order) and set with eviction (n new keys into the full cache),
 * ns/op samples over `rounds` passes after a warm-up.
 */
function runCache(GoCache, kind, n, rounds) {
  const contender = { name: `GoCache ${kind}→f64`, create: (max) => new GoCache({ max, key: kind, value: 'f64', seed: SEED }) };
  const warmN = Math.min(n, 10_000);
  for (let w = 0; w < 3; w++) runThroughputOne(contender, kind, warmN, permutation(warmN, 11));
  const perm = permutation(n, 11);
  const getHit = [];
  const setEvict = [];
  const errors = [];
  for (let r = 0; r < rounds; r++) {
    const m = runThroughputOne(contender, kind, n, perm);
    getHit.push(m.getHit);
    setEvict.push(m.setEvict);
    if (!m.ok) errors.push(`GoCache ${kind} max ${n}: wrong hit / miss counts`);
  }
  return { getHit: { ...summarize(getHit), errors }, setEvict: { ...summarize(setEvict), errors } };
}

function syncInsertLoop(m, keys, n) {
  for (let i = 0; i < n; i++) m.set(keys[i], i + 0.5);
  return m.size;
}

function syncGetLoop(m, probes, n) {
  let found = 0;
  for (let i = 0; i < n; i++) if (m.get(probes[i]) !== undefined) found++;
  return found;
}

/**
 * SyncMap (key kind → f64) on this thread: insert of n new keys into an empty map, and
 * get hit (fresh equal keys, random order), ns/op samples over `rounds` rounds.
 */
function runSync(SyncMap, kind, n, rounds) {
  const insert = specialize(syncInsertLoop);
  const get = specialize(syncGetLoop);
  const stored = storedKeys(kind, n);
  const probes = freshProbes(kind, permutation(n, SEEDS.getHit));
  const warm = new SyncMap({ key: kind, value: 'f64' });
  insert(warm, stored, Math.min(n, 10_000));
  get(warm, probes, Math.min(n, 10_000));
  warm.close();
  const inserts = [];
  const gets = [];
  const errors = [];
  const passes = passesFor(n);
  for (let r = 0; r < rounds; r++) {
    fullGc();
    const m = new SyncMap({ key: kind, value: 'f64' });
    const t = timeNs(() => insert(m, stored, n));
    inserts.push(t.ns / n);
    if (t.result !== n) errors.push(`SyncMap insert: size ${t.result}, expected ${n}`);
    let ns = 0;
    for (let p = 0; p < passes; p++) {
      const g = timeNs(() => get(m, probes, n));
      ns += g.ns;
      if (g.result !== n) errors.push(`SyncMap get: found ${g.result}, expected ${n}`);
    }
    gets.push(ns / (passes * n));
    m.close();
  }
  return { insert: { ...summarize(inserts), errors }, getHit: { ...summarize(gets), errors } };
}

childMain(async ({ sizes = [1e3, 1e6], kinds = ['f64', 'i64', 'string'], rounds = 3, batch = true, gomap = true, cache = true, sync = true }) => {
  const { GoMap, backend } = await loadGoMap();
  const GoCache = cache ? await loadGoCache() : null;
  const rows = [];
  const add = (op, kind, n, r) => rows.push({ op, kind, n, ns: r.median, min: r.min, errors: r.errors ?? [] });
  for (const n of sizes) {
    for (const kind of kinds) {
      process.stderr.write(`  engine ${backend}: ${kind} keys, n = ${n}\n`);
      if (GoCache !== null) {
        const c = runCache(GoCache, kind, n, rounds);
        add('cacheGetHit', kind, n, c.getHit);
        add('cacheSetEvict', kind, n, c.setEvict);
      }
      if (!gomap) continue;
      const ops = runOpsScenario({ kind, n, contenders: [goMapContender(GoMap, kind, 'f64')], rounds });
      for (const [id, byName] of Object.entries(ops)) add(id, kind, n, byName['GoMap:f64']);
      add('has', kind, n, runHas(GoMap, kind, n, rounds));
      if (batch) {
        const g = runGetMany({ kind, n, GoMap, rounds, seed: SEED });
        add('getMany', kind, n, { ...g.variants['GoMap.getMany'], errors: g.errors });
        const s = runSetMany({ kind, n, GoMap, rounds, seed: SEED });
        add('setMany', kind, n, { ...s.variants['GoMap.setMany'], errors: s.errors });
      }
    }
  }
  if (sync) {
    const { SyncMap } = await loadGoMap();
    for (const n of sizes) {
      for (const kind of kinds) {
        process.stderr.write(`  engine ${backend}: SyncMap, ${kind} keys, n = ${n}\n`);
        const r = runSync(SyncMap, kind, n, rounds);
        add('syncInsert', kind, n, r.insert);
        add('syncGetHit', kind, n, r.getHit);
      }
    }
  }
  return { backend, rows };
});
