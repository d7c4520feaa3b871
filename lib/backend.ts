/**
 * Which engine serves this process (API.md "Backends").
 *
 * The native Node-API addon is loaded with `node-gyp-build` from the package root
 * (`prebuilds/<platform>-<arch>/`, else `build/Release`). `GOMAP_BACKEND=native` or
 * `GOMAP_BACKEND=wasm` forces one; without it, a native addon that cannot be loaded (no
 * prebuild for the platform, no compiler, install scripts skipped) falls back to the
 * WebAssembly build of the same core (wasm/gomap.wasm, lib/wasm/), which needs nothing
 * but Node. Forcing an engine that cannot load throws an error that says why.
 *
 * Written to load the same way from the ESM and the CommonJS build (and from the
 * TypeScript sources under vitest): no top-level await, no `import.meta`; the package
 * root is found from `__dirname` (native in CommonJS, shimmed by tsup in ESM).
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { NativeBinding } from './binding.ts';
import { createWasmBinding } from './wasm/binding.ts';

/** The engines gomap can run on. */
export type Backend = 'native' | 'wasm';

declare const __dirname: string | undefined;

/** The directory of gomap's package.json, searched upwards from this module. */
export function packageRoot(): string {
  const starts = [typeof __dirname === 'string' ? __dirname : undefined, process.cwd()];
  for (const start of starts) {
    if (start === undefined) continue;
    for (let dir = start; ; dir = dirname(dir)) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg)) {
        try {
          if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'gomap') return dir;
        } catch {
          // not a readable package.json: keep looking
        }
      }
      if (dirname(dir) === dir) break;
    }
  }
  throw new Error(`gomap: cannot find the gomap package root (searched up from ${String(starts[0] ?? process.cwd())})`);
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function loadNative(): NativeBinding {
  const root = packageRoot();
  const requireFromRoot = createRequire(join(root, 'package.json'));
  const load = requireFromRoot('node-gyp-build') as (dir: string) => unknown;
  const addon = load(root) as Partial<NativeBinding>;
  if (typeof addon.get !== 'function' || typeof addon.iterNext !== 'function') {
    throw new Error('the loaded gomap.node does not export the expected functions (a stale build?)');
  }
  return addon as NativeBinding;
}

/** Where the committed WebAssembly build sits in the package (see scripts/build-wasm.mjs). */
export const WASM_FILE = 'wasm/gomap.wasm';

function loadWasm(): NativeBinding {
  const file = join(packageRoot(), WASM_FILE);
  if (!existsSync(file)) throw new Error(`${file} does not exist (a package without its .wasm?)`);
  return createWasmBinding(file);
}

function selectBackend(): { backend: Backend; binding: NativeBinding; why: string } {
  const requested = process.env.GOMAP_BACKEND;
  if (requested !== undefined && requested !== '' && requested !== 'native' && requested !== 'wasm') {
    throw new Error(`gomap: GOMAP_BACKEND must be 'native' or 'wasm', got '${requested}'`);
  }
  if (requested === 'wasm') {
    try {
      return { backend: 'wasm', binding: loadWasm(), why: 'GOMAP_BACKEND=wasm' };
    } catch (e) {
      throw new Error(`gomap: GOMAP_BACKEND=wasm, but the WebAssembly engine cannot be loaded: ${errorMessage(e)}`, {
        cause: e,
      });
    }
  }
  let nativeError: unknown;
  try {
    return { backend: 'native', binding: loadNative(), why: 'the native addon loaded' };
  } catch (e) {
    if (requested === 'native') {
      throw new Error(`gomap: GOMAP_BACKEND=native, but the native addon cannot be loaded: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    nativeError = e;
  }
  // No native addon (no prebuild for this platform, no compiler, install scripts
  // skipped): the same core compiled to WebAssembly, with the same behaviour.
  try {
    return { backend: 'wasm', binding: loadWasm(), why: `the native addon cannot be loaded: ${errorMessage(nativeError)}` };
  } catch (e) {
    throw new Error(
      `gomap: neither engine can be loaded. Native addon: ${errorMessage(nativeError)}. ` +
        `WebAssembly engine: ${errorMessage(e)}.`,
      { cause: e },
    );
  }
}

const selected = selectBackend();

/** Which engine this process loaded: `'native'` (the Node-API addon) or `'wasm'`. */
export const backend: Backend = selected.backend;

/** The raw functions of the loaded engine (internal). */
export const binding: NativeBinding = selected.binding;
