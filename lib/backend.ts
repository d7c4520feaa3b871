/**
 * Which engine serves this process (API.md "Backends").
 *
 * The native Node-API addon is loaded with `node-gyp-build` from the package root
 * (`prebuilds/<platform>-<arch>/`, else `build/Release`). `GOMAP_BACKEND=native` or
 * `GOMAP_BACKEND=wasm` forces one. The WebAssembly engine is not part of this build yet:
 * asking for it, or falling back to it, throws an error that says so.
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

/** The engines gomap can run on. */
export type Backend = 'native' | 'wasm';

declare const __dirname: string | undefined;

/** The directory of gomap's package.json, searched upwards from this module. */
function packageRoot(): string {
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

const WASM_MISSING = 'the WebAssembly engine is not available in this build of gomap';

function selectBackend(): { backend: Backend; binding: NativeBinding } {
  const requested = process.env.GOMAP_BACKEND;
  if (requested === 'wasm') {
    throw new Error(`gomap: GOMAP_BACKEND=wasm, but ${WASM_MISSING} (use GOMAP_BACKEND=native or leave it unset)`);
  }
  if (requested !== undefined && requested !== '' && requested !== 'native') {
    throw new Error(`gomap: GOMAP_BACKEND must be 'native' or 'wasm', got '${requested}'`);
  }
  try {
    return { backend: 'native', binding: loadNative() };
  } catch (e) {
    if (requested === 'native') {
      throw new Error(`gomap: GOMAP_BACKEND=native, but the native addon cannot be loaded: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    throw new Error(
      `gomap: the native addon cannot be loaded (${errorMessage(e)}), and ${WASM_MISSING}. ` +
        'Build it with `npm run build:native` (needs a C++ compiler).',
      { cause: e },
    );
  }
}

const selected = selectBackend();

/** Which engine this process loaded: `'native'` (the Node-API addon) or `'wasm'`. */
export const backend: Backend = selected.backend;

/** The raw functions of the loaded engine (internal). */
export const binding: NativeBinding = selected.binding;
