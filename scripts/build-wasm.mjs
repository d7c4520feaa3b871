#!/usr/bin/env node
// Builds wasm/gomap.wasm: native/core + native/wasm compiled for WebAssembly with the
// Debian toolchain (clang-14 --target=wasm32-wasi, wasi-libc for malloc/memcpy, lld),
// and writes the hash of its sources beside it (wasm/gomap.wasm.sources-sha256).
// Then wasm/gomap-threads.wasm, the SyncMap engine (see "The threads module" below).
//
//   npm run build:wasm            # build (apt-get install clang-14 lld-14 wasi-libc)
//   node scripts/build-wasm.mjs --check   # exit 1 when a .wasm is stale
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
import {
  THREADS_WASM_FILE,
  THREADS_WASM_HASH_FILE,
  THREADS_WASM_SOURCES,
  WASM_EXCLUDED_SOURCES,
  WASM_FILE,
  WASM_HASH_FILE,
  wasmSourceFiles,
  wasmSourcesHash,
} from './wasm-sources.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outDir = 'build-wasm';

if (process.argv.includes('--check')) {
  const want = wasmSourcesHash(root);
  let stale = false;
  for (const [file, hashFile] of [
    [WASM_FILE, WASM_HASH_FILE],
    [THREADS_WASM_FILE, THREADS_WASM_HASH_FILE],
  ]) {
    let have = '';
    try {
      have = readFileSync(join(root, hashFile), 'utf8').trim();
    } catch {
      // missing: stale
    }
    if (have !== want) {
      console.error(`${file} is stale (sources ${want.slice(0, 12)}, built from ${have.slice(0, 12) || 'nothing'}): run \`npm run build:wasm\``);
      stale = true;
    } else {
      console.log(`${file} is up to date with its sources`);
    }
  }
  process.exit(stale ? 1 : 0);
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

// ---- The threads module (wasm/gomap-threads.wasm) ----------------------------------------
//
// SyncMap on the WebAssembly engine: one shared WebAssembly.Memory that every thread
// instantiates this module over (lib/wasm/sync-binding.ts, native/wasm/sync_exports.cc).
// Compiled with atomics and bulk memory (-DGOMAP_WASM_THREADS: core/lock.h's futex lock),
// linked with --shared-memory --import-memory, so lld makes the data segments passive and
// initialises them once (__wasm_init_memory, guarded by an atomic flag), whichever
// instance starts first. Freestanding (-nostdlib): wasi-libc's prebuilt objects are not
// compiled with atomics (lld refuses them with shared memory) and its malloc is not
// thread-safe; native/wasm/threads_heap.cc has the allocator and the mem* functions.
// libc++'s headers (std::atomic is header-only) are used, its library is not
// (_LIBCPP_DISABLE_EXTERN_TEMPLATE: std::sort is instantiated here, not taken from it). The one
// system archive linked is compiler-rt's builtins (128-bit multiply of the hash).
// __stack_pointer is exported: every thread points it at a stack of its own.
// THREADS_MAX_PAGES is the memory's maximum (4 GiB); JS creates the memory with it.
const THREADS_INITIAL_PAGES = 64;
const threadsCompile = [...COMPILE_FLAGS, '-matomics', '-mbulk-memory', '-mmutable-globals', '-DGOMAP_WASM_THREADS', '-D_LIBCPP_DISABLE_EXTERN_TEMPLATE'];
const THREADS_BUILTINS = '/usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi/libclang_rt.builtins-wasm32.a';
const threadsLink = [
  '--target=wasm32-wasi',
  '-nostdlib',
  '-Wl,--no-entry',
  '-Wl,--shared-memory',
  '-Wl,--import-memory',
  '-Wl,--max-memory=4294967296',
  `-Wl,--initial-memory=${THREADS_INITIAL_PAGES * 65536}`,
  '-Wl,-z,stack-size=65536',
  '-Wl,--export=__stack_pointer',
  '-Wl,--strip-all',
];
const threadsStarted = Date.now();
const threadsObjects = THREADS_WASM_SOURCES.map((src) => `${outDir}/threads_${src.replaceAll('/', '_').replace(/\.cc$/, '.o')}`);
const threadsQueue = THREADS_WASM_SOURCES.map((src, i) => () => run([...threadsCompile, '-c', src, '-o', threadsObjects[i]]));
await Promise.all(
  [0, 1].map(async () => {
    for (let job = threadsQueue.shift(); job !== undefined; job = threadsQueue.shift()) await job();
  }),
);
await run([...threadsLink, ...threadsObjects, THREADS_BUILTINS, '-o', THREADS_WASM_FILE]);
const threadsWasm = readFileSync(join(root, THREADS_WASM_FILE));
const threadsModule = new WebAssembly.Module(threadsWasm);
const threadsImports = WebAssembly.Module.imports(threadsModule).map((i) => `${i.module}.${i.name}:${i.kind}`);
if (threadsImports.join() !== 'env.memory:memory') {
  throw new Error(`${THREADS_WASM_FILE} must import only env.memory, but imports ${threadsImports.join(', ')}`);
}
// It must instantiate over the memory JS makes (lib/wasm/sync-binding.ts: same numbers).
new WebAssembly.Instance(threadsModule, {
  env: { memory: new WebAssembly.Memory({ initial: THREADS_INITIAL_PAGES, maximum: 65536, shared: true }) },
});
writeFileSync(join(root, THREADS_WASM_HASH_FILE), `${wasmSourcesHash(root)}\n`);
console.log(`built ${THREADS_WASM_FILE} (${threadsWasm.length} bytes) in ${Date.now() - threadsStarted} ms`);
