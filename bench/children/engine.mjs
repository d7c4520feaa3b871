// One engine's rows of the engine comparison (bench/workloads/engines.mjs): every GoMap
// single-key operation and batch call, for f64 / i64 / string keys and f64 values, in a
// process whose GOMAP_BACKEND the parent set (a process loads one engine).
//
//   GOMAP_BACKEND=wasm node --expose-gc bench/children/engine.mjs '{"sizes":[1000],"rounds":1}'

import { childMain } from '../lib/child.mjs';
import { goMapContender, loadGoMap, SEED, specialize } from '../lib/contenders.mjs';
import { freshProbes, storedKeys } from '../lib/keys.mjs';
import { permutation, SEEDS } from '../lib/prng.mjs';
import { fullGc, passesFor, summarize, timeNs } from '../lib/timer.mjs';
import { runGetMany, runSetMany } from '../workloads/batch.mjs';
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

childMain(async ({ sizes = [1e3, 1e6], kinds = ['f64', 'i64', 'string'], rounds = 3, batch = true }) => {
  const { GoMap, backend } = await loadGoMap();
  const rows = [];
  const add = (op, kind, n, r) => rows.push({ op, kind, n, ns: r.median, min: r.min, errors: r.errors ?? [] });
  for (const n of sizes) {
    for (const kind of kinds) {
      process.stderr.write(`  engine ${backend}: ${kind} keys, n = ${n}\n`);
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
  return { backend, rows };
});
