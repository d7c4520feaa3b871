#!/usr/bin/env node
// Builds the native addon (build/Release/gomap.node) before the tests when it is
// missing or older than its sources (native/core, native/addon, CMakeLists.txt).
//
// `npm ci` already builds it through node-gyp (the "install" script runs
// node-gyp-build); this covers a checkout where install scripts were skipped and a
// developer who edited the C++ since. It builds with cmake-js (incremental) when
// cmake is on PATH, else with node-gyp (which only needs Node and a C++ compiler).
// Set GOMAP_SKIP_NATIVE_BUILD=1 to skip this step.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const addon = join(root, 'build', 'Release', 'gomap.node');
const log = (msg) => console.error(`[ensure-native] ${msg}`);

if (process.env.GOMAP_SKIP_NATIVE_BUILD === '1') {
  log('GOMAP_SKIP_NATIVE_BUILD=1: not building the addon');
  process.exit(0);
}
if (!existsSync(join(root, 'native', 'addon'))) {
  log('native/addon/ does not exist yet: nothing to build');
  process.exit(0);
}

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

const inputs = ['native/core', 'native/addon', 'CMakeLists.txt'].map((p) => join(root, p));
const sourcesTime = Math.max(...inputs.map(newestMtime));
const addonTime = existsSync(addon) ? statSync(addon).mtimeMs : 0;
if (addonTime !== 0 && addonTime >= sourcesTime) process.exit(0);

log(addonTime === 0 ? 'build/Release/gomap.node is missing: building it' : 'native sources changed: rebuilding build/Release/gomap.node');

function run(cmd, args) {
  log(`$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

const hasCmake = spawnSync('cmake', ['--version'], { stdio: 'ignore' }).status === 0;
const require = createRequire(import.meta.url);
let status;
if (hasCmake) {
  const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  status = run(process.execPath, [cmakeJs, 'compile', '--out', 'build-cmake', '--parallel', '2']);
} else {
  let nodeGyp;
  try {
    const pkgPath = require.resolve('node-gyp/package.json');
    const pkg = require(pkgPath);
    nodeGyp = [process.execPath, join(dirname(pkgPath), typeof pkg.bin === 'string' ? pkg.bin : pkg.bin['node-gyp'])];
  } catch {
    nodeGyp = ['node-gyp']; // npm puts its bundled node-gyp on PATH for scripts
  }
  status = run(nodeGyp[0], [...nodeGyp.slice(1), 'rebuild', '--jobs', '2']);
}
if (status !== 0 || !existsSync(addon)) {
  log(`building the native addon failed (exit ${status})`);
  process.exit(status || 1);
}
const now = new Date();
utimesSync(addon, now, now); // an up-to-date build that relinked nothing still counts as fresh
