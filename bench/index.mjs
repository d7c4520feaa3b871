// gomap's benchmark: `npm run bench` (= npm run build && node --expose-gc bench/index.mjs).
//
// One process runs GoMap and JS Map side by side on the same keys; child processes
// measure memory and GC; the C++ core alone and Go's map run the same workloads, and
// everything lands in one report: bench/results/latest.{md,json}. See bench/README.md.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HELP, parseOptions } from './lib/args.mjs';
import { goMapContender, loadGoMap, mapContender, SEED } from './lib/contenders.mjs';
import { environment } from './lib/env.mjs';
import { runCore, runGo } from './lib/external.mjs';
import { permutationCheck } from './lib/prng.mjs';
import { renderReport } from './lib/report.mjs';
import { fmtN } from './lib/table.mjs';
import { runGetMany, runSetMany } from './workloads/batch.mjs';
import { runGc } from './workloads/gc.mjs';
import { runMemory } from './workloads/memory.mjs';
import { renderEngines, runEngines } from './workloads/engines.mjs';
import { runOpsScenario } from './workloads/ops.mjs';
import { runSync } from './workloads/sync.mjs';
import { renderFlood, runFlood } from './workloads/flood.mjs';
import { renderCache, runCacheSection } from './workloads/cache.mjs';
import { runSyncCore } from './workloads/sync-core.mjs';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const log = (msg) => process.stderr.write(`${msg}\n`);

function runOps(GoMap, options) {
  const scenarios = [];
  for (const n of options.sizes) {
    for (const kind of ['string', 'f64', 'i64']) {
      log(`ops: ${kind} keys, N = ${fmtN(n)}`);
      const contenders = [mapContender(), goMapContender(GoMap, kind, 'any'), goMapContender(GoMap, kind, 'f64')];
      scenarios.push({ kind, n, results: runOpsScenario({ kind, n, contenders, rounds: options.rounds, log }) });
    }
  }
  return scenarios;
}

function runBatch(GoMap, options) {
  const args = { n: options.batchN, GoMap, rounds: options.rounds, seed: SEED };
  const getMany = [];
  const setMany = [];
  for (const kind of ['f64', 'i64', 'string']) {
    log(`batch: getMany/setMany, ${kind} keys, N = ${fmtN(options.batchN)}`);
    getMany.push({ kind, ...runGetMany({ ...args, kind }) });
    setMany.push({ kind, ...runSetMany({ ...args, kind }) });
  }
  return { getMany, setMany };
}

/** Runs one section, recording its failure as a note instead of losing the whole run. */
async function section(results, name, fn) {
  if (!results.options.sections.has(name)) return;
  const t0 = Date.now();
  try {
    results[name] = await fn();
  } catch (err) {
    results.notes.push(`${name}: failed: ${String(err?.message ?? err).split('\n')[0]}`);
    log(`${name}: FAILED\n${err?.stack ?? err}`);
  }
  log(`${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

function checkPermutations(results) {
  const mine = JSON.stringify(permutationCheck());
  for (const src of ['core', 'go']) {
    const theirs = results[src]?.permCheck;
    if (theirs && JSON.stringify(theirs) !== mine) {
      results.notes.push(`${src} shuffles differently from JS (${JSON.stringify(theirs)} vs ${mine}): its rows use other key orders`);
    }
  }
}

async function main() {
  const options = parseOptions();
  if (options.help) return console.log(HELP);
  if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc bench/index.mjs (npm run bench does)');
  const { GoMap, backend, standIn } = await loadGoMap({ standIn: options.standIn });
  // options.sections stays a Set while running; the JSON gets an array.
  const results = { env: environment({ backend }), options: { ...options }, notes: [] };
  if (standIn) results.notes.push('GoMap columns are a STAND-IN (a JS Map wrapper), not gomap: harness test only.');
  log(`gomap bench: backend ${backend}, JS sizes ${options.sizes.map(fmtN).join(', ')}, rounds ${options.rounds}`);

  // Native programs first: they need no warm JS heap, and a cold one does not disturb them.
  await section(results, 'core', () => runCore(options, log));
  await section(results, 'go', async () => {
    const go = await runGo(options, log);
    if (!go.available) {
      log(`go: ${go.note}`);
      results.notes.push(go.note);
    }
    return go;
  });
  await section(results, 'ops', () => runOps(GoMap, options));
  await section(results, 'batch', () => runBatch(GoMap, options));
  await section(results, 'memory', () => runMemory({ sizes: options.memorySizes, standIn, log }));
  await section(results, 'gc', () => runGc({ n: options.gcN, ops: options.gcOps, standIn, log }));
  if (!standIn) await section(results, 'sync', () => runSync({ n: options.syncN, ops: options.syncOps, rounds: options.rounds, log }));
  // Hash flooding: attack keys for one seed vs random keys, in maps with random seeds.
  if (!standIn) await section(results, 'flood', () => runFlood({ GoMap, rounds: options.rounds, log }));
  // Native addon vs WebAssembly engine, one child process per engine (--only=wasm).
  await section(results, 'wasm', async () => {
    const r = await runEngines({ sizes: options.sizes, rounds: options.rounds, log });
    results.notes.push(...r.notes);
    return r;
  });
  if (!standIn) await section(results, 'cache', () => runCacheSection({ options, log }));
  // SyncMap's C++ core on 1 and 2 threads vs Go 1.19's sync.Map and map + RWMutex.
  if (!standIn) await section(results, 'synccore', () => runSyncCore({ n: options.syncN, quick: options.quick, log }));
  checkPermutations(results);

  results.options.sections = [...options.sections];
  let report = renderReport(results);
  if (results.flood) report += `
## Hash flooding (100K keys colliding under one seed)

${renderFlood(results.flood)}
`;
  if (results.wasm) report += `

${renderEngines(results.wasm)}`;
  if (results.cache) report += `\n${renderCache(results.cache)}`;
  if (results.synccore) report += `\n\n${results.synccore.markdown}`;
  mkdirSync(dirname(`${RESULTS_DIR}${options.out}.md`), { recursive: true });
  writeFileSync(`${RESULTS_DIR}${options.out}.md`, report + '\n');
  writeFileSync(`${RESULTS_DIR}${options.out}.json`, JSON.stringify(results, null, 2) + '\n');
  console.log(report);
  log(`wrote bench/results/${options.out}.md and .json`);
}

main().catch((err) => {
  console.error(err?.stack ?? err);
  process.exitCode = 1;
});
