#!/usr/bin/env node
// SyncMap core vs Go: runs build-bench/gomap_sync_bench (ConcurrentMap, the C++ core of
// SyncMap) and bench/go/sync (Go's sync.Map and map+sync.RWMutex) with the same loads,
// and prints ops/s side by side with ratios (gomap / contender; > 1 means gomap is
// faster). Builds the C++ benchmark if it is missing (`npm run build:bench` does too).
//
//   node bench/sync-compare.mjs --size=1000000 --threads=1,2 --reads=100,90,50 --seconds=2
//
// Targets (DESIGN.md): 90% reads on 2 threads >= 1.0x sync.Map; 100% reads on 2 threads
// >= 1.8x one thread.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const core = join(root, 'build-bench', 'gomap_sync_bench');

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}
const rows = (text) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

if (!existsSync(core)) run('node', ['scripts/build-core-bench.mjs'], { stdio: 'inherit' });
const results = [...rows(run(core, args))];
try {
  results.push(...rows(run('go', ['run', './sync', ...args], { cwd: join(root, 'bench', 'go') })));
} catch (e) {
  console.error(`Go side skipped: ${e.message.split('\n')[0]}`);
}

const key = (r) => `${r.reads}/${r.threads}`;
const byImpl = new Map();
for (const r of results) {
  if (!byImpl.has(r.impl)) byImpl.set(r.impl, new Map());
  byImpl.get(r.impl).set(key(r), r.opsPerSec);
}
const gomap = byImpl.get('gomap ConcurrentMap') ?? new Map();
const fmt = (n) => (n === undefined ? '-' : `${(n / 1e6).toFixed(2)}M`);
const ratio = (a, b) => (a === undefined || b === undefined ? '-' : `${(a / b).toFixed(2)}x`);
const impls = [...byImpl.keys()].filter((i) => i !== 'gomap ConcurrentMap');
const header = ['reads %', 'threads', 'gomap ops/s', ...impls.flatMap((i) => [`${i} ops/s`, `vs ${i}`])];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const k of gomap.keys()) {
  const [reads, threads] = k.split('/');
  const g = gomap.get(k);
  const cells = impls.flatMap((i) => [fmt(byImpl.get(i).get(k)), ratio(g, byImpl.get(i).get(k))]);
  console.log(`| ${reads} | ${threads} | ${fmt(g)} | ${cells.join(' | ')} |`);
}
const scaling = ratio(gomap.get('100/2'), gomap.get('100/1'));
console.log(`\ngomap read scaling, 2 threads vs 1 (100% reads): ${scaling}`);
