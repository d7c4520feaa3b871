// The maps being compared: JS `Map` and GoMap (from ../dist, built by `npm run build`).

import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const SEED = 42n;
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/**
 * Loads GoMap from dist/. With `standIn`, a Map-backed imitation is used instead, to
 * exercise the harness before the addon exists; its rows are labelled as such.
 */
export async function loadGoMap({ standIn = false } = {}) {
  if (standIn) return { GoMap: StandInGoMap, backend: 'STAND-IN (Map)', standIn: true };
  if (!existsSync(DIST)) {
    throw new Error(`${DIST} is missing: run \`npm run build\` first (npm run bench does)`);
  }
  const mod = await import(pathToFileURL(DIST).href);
  return { GoMap: mod.GoMap, SyncMap: mod.SyncMap, backend: mod.backend ?? 'unknown', standIn: false };
}

/** A contender: a name for the table and a factory for empty maps of one key/value kind. */
export function mapContender() {
  return {
    name: 'Map',
    valueKind: null, // Map holds any value; one measurement serves both value kinds
    create: () => new Map(),
    dispose: () => {},
  };
}

export function goMapContender(GoMap, keyKind, valueKind) {
  return {
    name: `GoMap:${valueKind}`,
    valueKind,
    create: (hint) => new GoMap(null, { key: keyKind, value: valueKind, seed: SEED, ...(hint ? { hint } : {}) }),
    dispose: (m) => m.close(),
  };
}

/**
 * A copy of `fn` with its own inline caches: V8 keeps type feedback per function, so one
 * shared loop calling both `Map#get` and `GoMap#get` would go megamorphic and slow both.
 * `fn` must use nothing but its parameters (it is recompiled from its source text).
 */
export function specialize(fn) {
  return new Function(`return (${fn.toString()})`)();
}

/** Imitates the GoMap API on top of Map, for testing the harness only. */
class StandInGoMap extends Map {
  constructor(entries, options = {}) {
    super(entries ?? undefined);
    this.options = options;
  }
  getMany(keys) {
    const out = [];
    for (const k of keys) out.push(super.get(k));
    return out;
  }
  setMany(entries) {
    for (const [k, v] of entries) super.set(k, v);
    return this;
  }
  stats() {
    return { count: this.size, bytes: 0 };
  }
  close() {
    this.clear();
  }
}
