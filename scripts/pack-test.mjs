#!/usr/bin/env node
// The package as users get it: `npm pack`, then an offline install of the tarball into a
// fresh project, and three consumers there (ESM, CommonJS, TypeScript `tsc --noEmit`),
// in each install situation of the README:
//
//   prebuild     the tarball carries prebuilds/linux-x64 (prebuildify --napi --strip):
//                nothing is compiled at install, backend === 'native'
//   source       no prebuild, a C++ toolchain: node-gyp builds the addon at install,
//                backend === 'native'
//   no-compiler  no prebuild, the compiler fails: the install still succeeds and
//                backend === 'wasm'
//   no-scripts   no prebuild, install scripts not run (npm --ignore-scripts, as npm
//                may do for dependencies by default): backend === 'wasm'
//
// and the loader's GOMAP_BACKEND: wasm forced where native loads; native forced where it
// cannot load (an error that says why); an unknown value (an error).
//
// Offline: the dependencies (node-addon-api, node-gyp-build) come from the local npm
// cache, which `npm ci` in this checkout filled. Node's headers come from
// npm_config_nodedir (set here to /usr when Node's headers are in /usr/include/node, as
// .ci/run does), so node-gyp downloads nothing.
//
//   npm run test:pack              # all situations (about 3 minutes on 2 cores)
//   node scripts/pack-test.mjs no-scripts source   # some of them
// Prints `pack: N passed, N failed` last; exits 1 when a situation fails.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const ALL = ['prebuild', 'source', 'no-compiler', 'no-scripts'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const situations = wanted.length > 0 ? wanted : ALL;
for (const s of situations) if (!ALL.includes(s)) throw new Error(`unknown situation '${s}' (one of ${ALL.join(', ')})`);

const work = mkdtempSync(join(tmpdir(), 'gomap-pack-'));
const started = Date.now();
const log = (msg) => console.log(`[pack ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${msg}`);

const env = { ...process.env, JOBS: process.env.JOBS ?? '2', npm_config_audit: 'false', npm_config_fund: 'false' };
delete env.GOMAP_BACKEND; // the consumers must get the engine the install situation gives
for (const k of Object.keys(env)) if (k.startsWith('npm_lifecycle') || k === 'npm_package_json') delete env[k];
if (!env.npm_config_nodedir && existsSync('/usr/include/node/node_api.h') && process.execPath === '/usr/bin/node') {
  env.npm_config_nodedir = '/usr';
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? root, env: opts.env ?? env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}
const npm = (args, opts) => run('npm', args, opts);

/** Packs the package into `dest`, with or without prebuilds/; returns the tarball path. */
function pack(dest, withPrebuilds) {
  mkdirSync(dest, { recursive: true });
  const prebuilds = join(root, 'prebuilds');
  const aside = join(work, 'prebuilds-aside');
  const hide = !withPrebuilds && existsSync(prebuilds);
  if (hide) renameSync(prebuilds, aside);
  try {
    const r = npm(['pack', '--silent', '--pack-destination', dest]);
    const name = r.stdout.trim().split('\n').pop();
    return join(dest, name);
  } finally {
    if (hide) renameSync(aside, prebuilds);
  }
}

const CONSUMER_ESM = `
import { Worker } from 'node:worker_threads';
import { GoMap, SyncMap, backend } from 'gomap';
const m = new GoMap(null, { key: 'string', value: 'f64' });
m.set('answer', 42).set('pi', 3.14);
if (m.get('answer') !== 42 || m.size !== 2) throw new Error('ESM consumer: wrong contents');
const big = new GoMap([[1n, 'one']], { key: 'i64', value: 'string' });
if (big.get(1n) !== 'one') throw new Error('ESM consumer: wrong i64 contents');
m.close();
big.close();
// A SyncMap shared with a worker (on either engine: the wasm one ships a second module).
const s = new SyncMap({ key: 'string', value: 'f64' });
s.set('from-main', 1);
const worker = new Worker(
  "const { SyncMap } = require('gomap'); const { workerData, parentPort } = require('node:worker_threads');" +
    "const v = SyncMap.attach(workerData); v.set('from-worker', v.get('from-main') + 1); v.close(); parentPort.postMessage('done');",
  { eval: true, workerData: s.handle },
);
await new Promise((resolve, reject) => {
  worker.once('message', resolve);
  worker.once('error', reject);
});
if (s.get('from-worker') !== 2) throw new Error('ESM consumer: the worker did not write into the SyncMap');
s.close();
console.log(JSON.stringify({ consumer: 'esm', backend }));
`;
const CONSUMER_CJS = `
const { GoMap, backend } = require('gomap');
const m = new GoMap([['a', { nested: [1, 2] }]], { key: 'string', value: 'json' });
if (m.get('a').nested[1] !== 2) throw new Error('CommonJS consumer: wrong contents');
m.close();
console.log(JSON.stringify({ consumer: 'cjs', backend }));
`;
const CONSUMER_TS = `
import { GoMap, backend, type Backend, type MapStats } from 'gomap';
const m: GoMap<string, number> = new GoMap<string, number>(null, { key: 'string', value: 'f64', hint: 8 });
m.set('a', 1);
const v: number | undefined = m.get('a');
const [found, ok]: [number | undefined, boolean] = m.lookup('b');
const stats: MapStats = m.stats();
const engine: Backend = backend;
const asMap: Map<string, number> = m;
export const summary = { v, found, ok, buckets: stats.buckets, engine, size: asMap.size };
`;
const CONSUMER_CTS = `
import gomap = require('gomap');
const m = new gomap.GoMap<bigint, string>(null, { key: 'i64', value: 'string' });
const engine: gomap.Backend = gomap.backend;
export = { m, engine };
`;

/** A fresh project with the tarball installed; returns its directory. */
function install(name, tarball, { ignoreScripts = false, foreground = false, extraEnv = {} } = {}) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, version: '1.0.0' }, null, 2));
  const args = ['install', '--offline', '--no-package-lock', '--loglevel=warn', tarball];
  if (ignoreScripts) args.push('--ignore-scripts');
  if (foreground) args.push('--foreground-scripts'); // npm hides a dependency's script output otherwise
  const r = npm(args, { cwd: dir, env: { ...env, ...extraEnv } });
  return { dir, output: `${r.stdout}${r.stderr}` };
}

/** Runs the three consumers in `dir`; returns the backend each reported. */
function consume(dir) {
  writeFileSync(join(dir, 'esm.mjs'), CONSUMER_ESM);
  writeFileSync(join(dir, 'cjs.cjs'), CONSUMER_CJS);
  writeFileSync(join(dir, 'consumer.mts'), CONSUMER_TS);
  writeFileSync(join(dir, 'consumer.cts'), CONSUMER_CTS);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2023', 'ESNext.Disposable'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
        },
        files: ['consumer.mts', 'consumer.cts'],
      },
      null,
      2,
    ),
  );
  const backends = {};
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const r = run(process.execPath, [file], { cwd: dir });
    const line = JSON.parse(r.stdout.trim().split('\n').pop());
    backends[line.consumer] = line.backend;
  }
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: dir });
  return backends;
}

/** The ESM consumer of `dir` under GOMAP_BACKEND=`forced`: its backend, or the error it died with. */
function forced(dir, forcedBackend) {
  const r = run(process.execPath, ['esm.mjs'], { cwd: dir, env: { ...env, GOMAP_BACKEND: forcedBackend }, allowFail: true });
  if (r.status === 0) return { backend: JSON.parse(r.stdout.trim().split('\n').pop()).backend };
  return { error: r.stderr };
}

const results = [];
function situation(name, fn) {
  if (!situations.includes(name)) return;
  log(`${name}: start`);
  try {
    fn();
    results.push([name, true]);
    log(`${name}: ok`);
  } catch (e) {
    results.push([name, false]);
    log(`${name}: FAILED\n${e instanceof Error ? e.message : String(e)}`);
  }
}

function expectEqual(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

try {
  log(`work dir ${work}`);
  npm(['run', 'build:ts', '--silent']);
  let bare;
  const needBare = situations.some((s) => s !== 'prebuild');
  if (needBare) bare = pack(join(work, 'bare'), false);

  situation('prebuild', () => {
    // prebuildify builds with node-gyp in build/: keep the developer's build/ as it was.
    const build = join(root, 'build');
    const saved = join(work, 'build-saved');
    if (existsSync(build)) cpSync(build, saved, { recursive: true });
    const prebuilds = join(root, 'prebuilds');
    const hadPrebuilds = existsSync(prebuilds);
    try {
      run(process.execPath, [join(root, 'node_modules', 'prebuildify', 'bin.js'), '--napi', '--strip']);
      const dir = join(prebuilds, `${process.platform}-${process.arch}`);
      const files = existsSync(dir) ? readdirSync(dir) : [];
      if (!files.some((f) => f.endsWith('.node'))) throw new Error(`prebuildify made no .node in ${dir}`);
      log(`prebuild: ${dir}: ${files.join(', ')}`);
      const tarball = pack(join(work, 'with-prebuild'), true);
      const { dir: project } = install('prebuild', tarball, { extraEnv: { GOMAP_REQUIRE_NATIVE: '1' } });
      const installed = join(project, 'node_modules', 'gomap');
      if (existsSync(join(installed, 'build'))) throw new Error('the addon was compiled although a prebuild was there');
      expectEqual(consume(project), { esm: 'native', cjs: 'native' }, 'prebuild backends');
      // GOMAP_BACKEND=wasm forces the WebAssembly engine where the native one loads.
      expectEqual(forced(project, 'wasm'), { backend: 'wasm' }, 'GOMAP_BACKEND=wasm with a prebuild');
    } finally {
      if (!hadPrebuilds) rmSync(prebuilds, { recursive: true, force: true });
      if (existsSync(saved)) {
        rmSync(build, { recursive: true, force: true });
        cpSync(saved, build, { recursive: true });
      }
    }
  });

  situation('source', () => {
    const { dir: project } = install('source', bare, { extraEnv: { GOMAP_REQUIRE_NATIVE: '1' } });
    const addon = join(project, 'node_modules', 'gomap', 'build', 'Release', 'gomap.node');
    if (!existsSync(addon)) throw new Error(`no ${addon} after a source build`);
    expectEqual(consume(project), { esm: 'native', cjs: 'native' }, 'source-build backends');
  });

  situation('no-compiler', () => {
    // A toolchain that does not work: node-gyp fails, the install must not.
    const { dir: project, output } = install('no-compiler', bare, {
      foreground: true,
      extraEnv: { CC: '/bin/false', CXX: '/bin/false' },
    });
    if (!/WebAssembly engine/.test(output)) throw new Error(`the install did not say it falls back:\n${output}`);
    if (existsSync(join(project, 'node_modules', 'gomap', 'build', 'Release', 'gomap.node'))) {
      throw new Error('an addon was built with a failing compiler?');
    }
    expectEqual(consume(project), { esm: 'wasm', cjs: 'wasm' }, 'no-compiler backends');
  });

  situation('no-scripts', () => {
    const { dir: project } = install('no-scripts', bare, { ignoreScripts: true });
    expectEqual(consume(project), { esm: 'wasm', cjs: 'wasm' }, 'no-scripts backends');
    // Forcing the native engine where it cannot load is an error that says why.
    const native = forced(project, 'native');
    if (!/GOMAP_BACKEND=native, but the native addon cannot be loaded: .+/.test(native.error ?? '')) {
      throw new Error(`GOMAP_BACKEND=native without an addon: expected an error saying why, got ${JSON.stringify(native)}`);
    }
    const bogus = forced(project, 'fast');
    if (!/GOMAP_BACKEND must be 'native' or 'wasm', got 'fast'/.test(bogus.error ?? '')) {
      throw new Error(`GOMAP_BACKEND=fast: expected an error, got ${JSON.stringify(bogus)}`);
    }
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}

const passed = results.filter(([, ok]) => ok).length;
const failed = results.length - passed;
log(`done: ${results.map(([n, ok]) => `${n} ${ok ? 'ok' : 'FAILED'}`).join(', ')}`);
console.log(`pack: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && results.length > 0 ? 0 : 1);
