#!/usr/bin/env node
// Builds the C++ benchmark of the core alone (bench/core/core_bench.cc) with -O3 into
// build-bench/gomap_core_bench, so bench/index.mjs can run it beside the JS numbers.
// Does nothing (successfully) when bench/core/core_bench.cc does not exist.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
if (!existsSync(join(root, 'bench', 'core', 'core_bench.cc'))) {
  console.error('[build-core-bench] bench/core/core_bench.cc not found: nothing to build');
  process.exit(0);
}
function run(args) {
  console.error(`[build-core-bench] $ cmake ${args.join(' ')}`);
  const r = spawnSync('cmake', args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}
run(['-S', '.', '-B', 'build-bench', '-DCMAKE_BUILD_TYPE=Release', '-DGOMAP_BUILD_TESTS=OFF', '-DGOMAP_SANITIZE=']);
run(['--build', 'build-bench', '--target', 'gomap_core_bench', '--parallel', process.env.JOBS ?? '2']);
console.error('[build-core-bench] built build-bench/gomap_core_bench');
// The concurrent map benchmark (bench/core/sync_bench.cc), for bench/sync-compare.mjs.
if (existsSync(join(root, 'bench', 'core', 'sync_bench.cc'))) {
  run(['--build', 'build-bench', '--target', 'gomap_sync_bench', '--parallel', process.env.JOBS ?? '2']);
  console.error('[build-core-bench] built build-bench/gomap_sync_bench');
}
// The key generator of the hash-flooding bench (bench/workloads/flood.mjs).
run(['--build', 'build-bench', '--target', 'gomap_flood_keys', '--parallel', process.env.JOBS ?? '2']);
console.error('[build-core-bench] built build-bench/gomap_flood_keys');
