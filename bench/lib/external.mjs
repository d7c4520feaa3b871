// The same workloads outside Node: the C++ core alone (bench/core/core_bench.cc) and Go's
// map (bench/go). Each is built if needed, run, and its JSON parsed into rows
// { source, workload, n, keys: 'int' | 'string', nsPerOp, min, samples }.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CORE_BINARIES = ['build-bench/gomap_core_bench', 'build/core-bench/gomap_core_bench'].map((p) => join(ROOT, p));
const CORE_SOURCE = join(ROOT, 'bench/core/core_bench.cc');
const CORE_DIR = join(ROOT, 'native/core');
const GO_DIR = join(ROOT, 'bench/go');
const TMP = join(os.tmpdir(), 'gomap-bench');

/** Workloads timed at 10M keys by default (what the targets need); --full times all. */
const LARGE_WORKLOADS = 'getHit,getHitBatch';
const LARGE_LOOKUP_REPEATS = 3;

function which(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mtime = (p) => statSync(p).mtimeMs;
function newestSource() {
  const core = readdirSync(CORE_DIR).map((f) => mtime(join(CORE_DIR, f)));
  return Math.max(mtime(CORE_SOURCE), ...core);
}

/** Runs a program, streaming its stderr (progress) to ours, and parses its stdout JSON. */
function runJson(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      if (process.env.BENCH_VERBOSE) process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${cmd} exited with ${code}: ${err.slice(-2000)}`));
      try {
        resolve(JSON.parse(out));
      } catch (e) {
        reject(new Error(`${cmd}: bad JSON output (${e.message})`));
      }
    });
  });
}

/**
 * The core benchmark binary: the one `npm run build:bench` made if it is up to date,
 * else built here with CMake (Release, -O3), else with g++ directly.
 */
function coreBinary(log) {
  const fresh = CORE_BINARIES.find((p) => existsSync(p) && mtime(p) >= newestSource());
  if (fresh) return fresh;
  log('  building the core benchmark (cmake, Release)…');
  try {
    const cmake = (args) => execFileSync('cmake', args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    cmake(['-S', '.', '-B', 'build-bench', '-DCMAKE_BUILD_TYPE=Release', '-DGOMAP_BUILD_TESTS=OFF', '-DGOMAP_SANITIZE=']);
    cmake(['--build', 'build-bench', '--target', 'gomap_core_bench', '--parallel', '2']);
    return CORE_BINARIES[0];
  } catch {
    log('  cmake build failed; compiling with g++ -O3 directly');
  }
  mkdirSync(TMP, { recursive: true });
  const out = join(TMP, 'gomap_core_bench');
  const sources = readdirSync(CORE_DIR).filter((f) => f.endsWith('.cc')).map((f) => join(CORE_DIR, f));
  execFileSync('c++', ['-std=c++17', '-O3', '-DNDEBUG', `-I${join(ROOT, 'native')}`, '-o', out, CORE_SOURCE, ...sources, '-lpthread'], {
    stdio: 'inherit',
  });
  return out;
}

/** Go's build cache and module settings: offline, in a temp dir, standard library only. */
function goEnv() {
  return {
    ...process.env,
    GOCACHE: process.env.GOCACHE ?? join(TMP, 'gocache'),
    GOPATH: process.env.GOPATH ?? join(TMP, 'gopath'),
    GOFLAGS: '',
    GOPROXY: 'off',
    GO111MODULE: 'on',
  };
}

function goBinary() {
  mkdirSync(TMP, { recursive: true });
  const out = join(TMP, 'gomapbench');
  execFileSync('go', ['build', '-o', out, '.'], { cwd: GO_DIR, env: goEnv(), stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

const toRows = (source, json) =>
  json.results.map((r) => ({ source, workload: r.workload, n: r.n, keys: r.keys, nsPerOp: r.nsPerOp, min: r.min, samples: r.samples }));

/** Both runs of one program: small sizes with all workloads, 10M with the lookups. */
async function runBoth(source, bin, style, { nativeSizes, nativeLargeSizes, rounds, full }) {
  const flag = (name, value) => (style === 'go' ? [`-${name}`, String(value)] : [`--${name}=${value}`]);
  const runs = [];
  if (nativeSizes.length) runs.push([...flag('sizes', nativeSizes.join(',')), ...flag('rounds', rounds)]);
  if (nativeLargeSizes.length) {
    runs.push([
      ...flag('sizes', nativeLargeSizes.join(',')),
      ...flag('rounds', 1),
      ...flag('lookup-repeats', Math.max(rounds, LARGE_LOOKUP_REPEATS)),
      ...(full ? [] : flag('workloads', LARGE_WORKLOADS)),
    ]);
  }
  const rows = [];
  let meta = null;
  for (const args of runs) {
    const json = await runJson(bin, args, style === 'go' ? { env: goEnv() } : {});
    rows.push(...toRows(source, json));
    meta ??= { ...json, results: undefined, memory: undefined };
    if (json.memory) (meta.memory ??= []).push(...json.memory);
  }
  return { rows, meta };
}

export async function runCore(options, log) {
  const bin = coreBinary(log);
  log(`  running ${bin}`);
  const { rows, meta } = await runBoth('core', bin, 'core', options);
  return { available: true, binary: bin, rows, ...meta };
}

export async function runGo(options, log) {
  if (!which('go')) return { available: false, note: 'go is not on PATH: Go columns left empty' };
  const bin = goBinary();
  const version = execFileSync('go', ['version'], { encoding: 'utf8' }).trim();
  log(`  running Go benchmark (${version})`);
  const { rows, meta } = await runBoth('go', bin, 'go', options);
  return { available: true, version, rows, ...meta };
}
