// SyncMap's C++ core (ConcurrentMap) with 1 and 2 threads against Go 1.19's sync.Map and
// map + sync.RWMutex on the same int64 keys and read/write mixes: runs
// bench/sync-compare.mjs (which runs build-bench/gomap_sync_bench and bench/go/sync) and
// keeps its markdown table for the report.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../sync-compare.mjs', import.meta.url));

export async function runSyncCore({ n, quick, log }) {
  const args = [`--size=${n}`, '--threads=1,2', '--reads=100,90,50', `--seconds=${quick ? 0.3 : 2}`];
  log?.(`  synccore: node bench/sync-compare.mjs ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`sync-compare failed (${r.status ?? r.signal}): ${r.stderr}`);
  const table = r.stdout.trim();
  const markdown = [
    `## SyncMap's C++ core vs Go 1.19 (${n.toLocaleString('en-US')} int64 keys, ops/s of all threads; ratio > 1: gomap faster)`,
    '',
    table,
  ].join('\n');
  return { n, args, table, markdown };
}
