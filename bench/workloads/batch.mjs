// Batch calls: GoMap#getMany / #setMany (one crossing into native code per batch) against
// the loops a Map user writes (`out[i] = map.get(k)`, `map.set(k, v)`), per key.

import { freshProbes, storedKeys, valueAt } from '../lib/keys.mjs';
import { permutation, SEEDS } from '../lib/prng.mjs';
import { specialize } from '../lib/contenders.mjs';
import { fullGc, summarize, timeNs } from '../lib/timer.mjs';

function getLoopToArray(m, probes) {
  const n = probes.length;
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = m.get(probes[i]);
  return out;
}

function getManyCall(m, probes) {
  return m.getMany(probes);
}

function setLoop(m, entries) {
  for (let i = 0; i < entries.length; i++) m.set(entries[i][0], entries[i][1]);
  return m;
}

function setManyCall(m, entries) {
  return m.setMany(entries);
}

const countDefined = (arr) => arr.reduce((c, v) => (v !== undefined ? c + 1 : c), 0);

function fill(m, keys) {
  for (let i = 0; i < keys.length; i++) m.set(keys[i], valueAt(i));
  return m;
}

/**
 * getMany at size n for one key kind: Map.get loop, GoMap.get loop, GoMap.getMany, each
 * on fresh equal keys in random order, interleaved over `rounds`.
 */
export function runGetMany({ kind, n, GoMap, rounds, seed }) {
  const perm = permutation(n, SEEDS.getMany);
  const mapLoop = specialize(getLoopToArray);
  const goLoop = specialize(getLoopToArray);
  const goBatch = specialize(getManyCall);
  const map = fill(new Map(), storedKeys(kind, n));
  const go = fill(new GoMap(null, { key: kind, value: 'f64', seed }), storedKeys(kind, n));
  const variants = [
    { name: 'Map.get loop', run: (p) => mapLoop(map, p) },
    { name: 'GoMap.get loop', run: (p) => goLoop(go, p) },
    { name: 'GoMap.getMany', run: (p) => goBatch(go, p) },
  ];
  const probes = (count) => freshProbes(kind, perm.subarray(0, count));
  const result = measureVariants(variants, rounds, n, probes, (out, count) => countDefined(out) === count);
  go.close();
  return result;
}

/** setMany at size n: Map.set loop, GoMap.set loop, GoMap.setMany, into empty maps. */
export function runSetMany({ kind, n, GoMap, rounds, seed }) {
  const mapLoop = specialize(setLoop);
  const goLoop = specialize(setLoop);
  const goBatch = specialize(setManyCall);
  const entriesFor = (count) => storedKeys(kind, count).map((k, i) => [k, valueAt(i)]);
  const newGo = () => new GoMap(null, { key: kind, value: 'f64', seed });
  const variants = [
    { name: 'Map.set loop', run: (e) => mapLoop(new Map(), e) },
    { name: 'GoMap.set loop', run: (e) => goLoop(newGo(), e) },
    { name: 'GoMap.setMany', run: (e) => goBatch(newGo(), e) },
  ];
  const closeIfGo = (m) => (m.constructor === Map ? undefined : m.close());
  return measureVariants(variants, rounds, n, entriesFor, (m, count) => {
    const ok = m.size === count;
    closeIfGo(m);
    return ok;
  });
}

const WARM_UP_KEYS = 10_000;

/**
 * Times each variant on makeInput(n), interleaved over `rounds` (rotating who goes
 * first), after a warm-up round on WARM_UP_KEYS keys; check(result, count) validates.
 */
function measureVariants(variants, rounds, n, makeInput, check) {
  const samples = Object.fromEntries(variants.map((v) => [v.name, []]));
  const errors = new Set();
  for (let r = -1; r < rounds; r++) {
    const count = r < 0 ? Math.min(n, WARM_UP_KEYS) : n;
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(k + variants.length + r) % variants.length];
      const input = makeInput(count);
      fullGc();
      const { ns, result } = timeNs(() => v.run(input));
      if (!check(result, count)) errors.add(`${v.name}: wrong result`);
      if (r >= 0) samples[v.name].push(ns / count);
    }
  }
  const out = {};
  for (const [name, s] of Object.entries(samples)) out[name] = summarize(s);
  return { n, variants: out, errors: [...errors] };
}
