#!/usr/bin/env node
// gomap's npm "install" script: the native addon if it can be had, else nothing.
//
// Runs node-gyp-build (a prebuild for this platform from prebuilds/, else a build from
// source with node-gyp). When that fails (no prebuild and no C++ compiler or Python),
// the install still succeeds: gomap then runs on its WebAssembly engine (wasm/gomap.wasm,
// shipped in the package), with the same behaviour. GOMAP_BACKEND=native makes that
// case an error at load time, with the reason. Install scripts that are not run at all
// (npm --ignore-scripts, or npm's policy of not running dependencies' scripts) end in the
// same place. Set GOMAP_REQUIRE_NATIVE=1 to make a failed native build fail the install.
'use strict';
const { spawnSync } = require('node:child_process');
const { dirname, join } = require('node:path');

let bin;
try {
  bin = join(dirname(require.resolve('node-gyp-build/package.json')), 'bin.js');
} catch (e) {
  console.warn(`gomap: node-gyp-build is not installed (${e.message}); the WebAssembly engine will be used`);
  process.exit(0);
}
const result = spawnSync(process.execPath, [bin], { cwd: join(__dirname, '..'), stdio: 'inherit' });
if (result.status === 0) process.exit(0);
if (process.env.GOMAP_REQUIRE_NATIVE === '1') process.exit(result.status || 1);
console.warn(
  'gomap: the native addon could not be built (no prebuild for ' +
    `${process.platform}-${process.arch}, and no working C++ toolchain); ` +
    'gomap will run on its WebAssembly engine (same behaviour; see the README, "Engines").',
);
process.exit(0);
