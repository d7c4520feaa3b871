#!/usr/bin/env node
// Rewrites the explicit source lists of CMakeLists.txt (GOMAP_CORE_SOURCES,
// GOMAP_ADDON_SOURCES, GOMAP_TEST_SOURCES) and binding.gyp (gomap_core_sources,
// gomap_addon_sources) from the .cc files now in native/core, native/addon and
// native/test. Keeps the order of files already listed and appends new ones sorted.
// native/wasm is not listed here: it belongs to the WebAssembly build only, which
// compiles every .cc of native/core and native/wasm (scripts/build-wasm.mjs).
//   node scripts/sync-sources.mjs          # rewrite the lists
//   node scripts/sync-sources.mjs --check  # exit 1 if a list is out of date
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const check = process.argv.includes('--check');

function ccFiles(dir) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((f) => f.endsWith('.cc'))
    .sort()
    .map((f) => `${dir}/${f}`);
}
function merge(current, found) {
  const kept = current.filter((f) => found.includes(f));
  return [...kept, ...found.filter((f) => !kept.includes(f))];
}

let stale = false;
function update(file, text, pattern, render, dir) {
  const m = pattern.exec(text);
  if (!m) throw new Error(`${file}: list for ${dir} not found`);
  const current = [...m[2].matchAll(/[\w./-]+\.cc/g)].map((x) => x[0]);
  const next = merge(current, ccFiles(dir));
  if (next.join() !== current.join()) {
    stale = true;
    console.log(`${file}: ${dir}: ${current.length} -> ${next.length} files`);
  }
  return text.replace(pattern, (_all, head, _body, tail) => head + render(next) + tail);
}

const cmakePath = join(root, 'CMakeLists.txt');
let cmake = readFileSync(cmakePath, 'utf8');
const cmakeList = (name) => new RegExp(`(set\\(${name}\\n)([\\s\\S]*?)(\\))`);
const renderCmake = (files) => files.map((f) => `  ${f}\n`).join('');
cmake = update('CMakeLists.txt', cmake, cmakeList('GOMAP_CORE_SOURCES'), renderCmake, 'native/core');
cmake = update('CMakeLists.txt', cmake, cmakeList('GOMAP_ADDON_SOURCES'), renderCmake, 'native/addon');
cmake = update('CMakeLists.txt', cmake, cmakeList('GOMAP_TEST_SOURCES'), renderCmake, 'native/test');

const gypPath = join(root, 'binding.gyp');
let gyp = readFileSync(gypPath, 'utf8');
const gypList = (name) => new RegExp(`('${name}': \\[\\n)([\\s\\S]*?)(    \\],)`);
const renderGyp = (files) => files.map((f) => `      '${f}',\n`).join('');
gyp = update('binding.gyp', gyp, gypList('gomap_core_sources'), renderGyp, 'native/core');
gyp = update('binding.gyp', gyp, gypList('gomap_addon_sources'), renderGyp, 'native/addon');

if (check) {
  if (stale) {
    console.log('source lists are out of date: run `npm run sources:sync`');
    process.exit(1);
  }
  console.log('source lists are up to date');
} else {
  writeFileSync(cmakePath, cmake);
  writeFileSync(gypPath, gyp);
  if (!stale) console.log('source lists are up to date');
}
