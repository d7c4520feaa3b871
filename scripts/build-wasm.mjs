#!/usr/bin/env node
// Builds wasm/gomap.wasm: native/core + native/wasm compiled for WebAssembly with the
// Debian toolchain (clang-14 --target=wasm32-wasi, wasi-libc for malloc/memcpy, lld),
// and writes the hash of its sources beside it (wasm/gomap.wasm.sources-sha256).
//
//   npm run build:wasm            # build (apt-get install clang-14 lld-14 wasi-libc)
//   node scripts/build-wasm.mjs --check   # exit 1 when the .wasm is stale
//
// The .wasm is committed and ships in the package: users and CI never need this
// toolchain; test/wasm-build.test.ts fails when the sources changed without a rebuild.
//
// Deterministic: fixed flags, relative paths, sorted inputs, no debug info, stripped, so
// the same sources give the same bytes. The module imports nothing (no WASI calls: the
// C++ runtime it needs is native/wasm/runtime.cc, not libc++) and runs with a plain
// `new WebAssembly.Instance(module)`. Objects are compiled with `-c -O2` and linked
// without -O: clang runs wasm-opt at link time when -O is passed, if one is installed.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASM_EXCLUDED_SOURCES, WASM_FILE, WASM_HASH_FILE, wasmSourceFiles, wasmSourcesHash } from './wasm-sources.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outDir = 'build-wasm';

if (process.argv.includes('--check')) {
  const want = wasmSourcesHash(root);
  let have = '';
  try {
    have = readFileSync(join(root, WASM_HASH_FILE), 'utf8').trim();
  } catch {
    // missing: stale
  }
  if (have !== want) {
    console.error(`${WASM_FILE} is stale (sources ${want.slice(0, 12)}, built from ${have.slice(0, 12) || 'nothing'}): run \`npm run build:wasm\``);
    process.exit(1);
  }
  console.log(`${WASM_FILE} is up to date with its sources`);
  process.exit(0);
}

const CXX = process.env.GOMAP_WASM_CXX ?? 'clang++-14';
const COMPILE_FLAGS = [
  '--target=wasm32-wasi',
  '--sysroot=/usr',
  '-std=c++17',
  '-O2',
  '-fno-exceptions',
  '-fno-rtti',
  '-Wall',
  '-Wextra',
  '-DNDEBUG',
  '-Inative',
];
const LINK_FLAGS = [
  '--target=wasm32-wasi',
  '--sysroot=/usr',
  '-nostartfiles', // a library module: no main, no _start
  '-nostdlib++', // native/wasm/runtime.cc stands in for libc++ / libc++abi
  '-Wl,--no-entry',
  '-Wl,--max-memory=4294967296', // wasm32's 4 GiB; memory.grow fails cleanly beyond
  '-Wl,-z,stack-size=262144',
  '-Wl,--strip-all',
];

function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(CXX, args, { cwd: root, stdio: 'inherit' });
    child.on('error', (e) => reject(new Error(`${CXX}: ${e.message} (apt-get install clang-14 lld-14 wasi-libc)`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${CXX} ${args.join(' ')} exited ${code}`))));
  });
}

const sources = wasmSourceFiles(root).filter((f) => f.endsWith('.cc') && !WASM_EXCLUDED_SOURCES.includes(f));
mkdirSync(join(root, outDir), { recursive: true });
mkdirSync(join(root, dirname(WASM_FILE)), { recursive: true });
const objects = sources.map((src) => `${outDir}/${src.replaceAll('/', '_').replace(/\.cc$/, '.o')}`);

const started = Date.now();
// Two compilers at a time (the machines have 2 cores).
const queue = sources.map((src, i) => () => run([...COMPILE_FLAGS, '-c', src, '-o', objects[i]]));
await Promise.all(
  [0, 1].map(async () => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) await job();
  }),
);
await run([...LINK_FLAGS, ...objects, '-o', WASM_FILE]);

const wasm = readFileSync(join(root, WASM_FILE));
const module = new WebAssembly.Module(wasm);
const imports = WebAssembly.Module.imports(module);
if (imports.length !== 0) {
  throw new Error(`${WASM_FILE} must import nothing, but imports ${imports.map((i) => `${i.module}.${i.name}`).join(', ')}`);
}
writeFileSync(join(root, WASM_HASH_FILE), `${wasmSourcesHash(root)}\n`);
console.log(`built ${WASM_FILE} (${wasm.length} bytes, ${sources.map((s) => basename(s)).join(' ')}) in ${Date.now() - started} ms`);
