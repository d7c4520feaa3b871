// The single-operation workloads, run on every contender with the same keys:
// insert, get hit (new equal keys / same key objects), get miss, overwrite, iterate,
// delete. One "pass" is the life of one map: built by insert, emptied by delete.

import { freshProbes, hasObjectIdentity, missProbes, sameProbes, storedKeys } from '../lib/keys.mjs';
import { permutation, SEEDS } from '../lib/prng.mjs';
import { specialize } from '../lib/contenders.mjs';
import { fullGc, passesFor, summarize, timeNs } from '../lib/timer.mjs';

/** Workload ids in table order, with the label printed for each (shared with Go and C++). */
export const OPS = [
  { id: 'insert', label: 'insert (new keys, no hint)' },
  { id: 'getHit', label: 'get hit, random order, equal new keys' },
  { id: 'getHitSame', label: 'get hit, random order, same key objects' },
  { id: 'getMiss', label: 'get miss' },
  { id: 'overwrite', label: 'overwrite existing, random order' },
  { id: 'iterate', label: 'iterate all entries (for…of)' },
  { id: 'delete', label: 'delete all, random order' },
];

// --- the timed loops: self-contained, they are recompiled per contender (specialize) ---

function insertLoop(m, keys, n) {
  for (let i = 0; i < n; i++) m.set(keys[i], i + 0.5);
  return m.size;
}

function getLoop(m, probes, n) {
  let found = 0;
  for (let i = 0; i < n; i++) {
    if (m.get(probes[i]) !== undefined) found++;
  }
  return found;
}

function overwriteLoop(m, probes, n) {
  for (let i = 0; i < n; i++) m.set(probes[i], i + 0.25);
  return m.size;
}

function iterateLoop(m) {
  let count = 0;
  let sum = 0;
  for (const [, v] of m) {
    count++;
    sum += v;
  }
  return sum > 0 ? count : -1;
}

function deleteLoop(m, probes, n) {
  let deleted = 0;
  for (let i = 0; i < n; i++) {
    if (m.delete(probes[i])) deleted++;
  }
  return deleted;
}

function loopsFor() {
  return {
    insert: specialize(insertLoop),
    get: specialize(getLoop),
    overwrite: specialize(overwriteLoop),
    iterate: specialize(iterateLoop),
    delete: specialize(deleteLoop),
  };
}

/** The permutations of one key set, shared with the Go and C++ programs. */
function permutationsFor(n) {
  return {
    getHit: permutation(n, SEEDS.getHit),
    getMiss: permutation(n, SEEDS.getMiss),
    overwrite: permutation(n, SEEDS.overwrite),
    delete: permutation(n, SEEDS.delete),
  };
}

/**
 * One pass: each step builds its inputs untimed, optionally collects garbage, then times
 * the loop and checks its result. Adds ns and ops into `acc[id]`.
 */
function runPass(kind, n, perms, contender, loops, acc, gcEachStep) {
  const step = (id, prepare, run, expected) => {
    const input = prepare();
    if (gcEachStep) fullGc();
    const { ns, result } = timeNs(() => run(input));
    const a = (acc[id] ??= { ns: 0, ops: 0, errors: new Set() });
    a.ns += ns;
    a.ops += n;
    if (result !== expected) a.errors.add(`${id}: got ${result}, expected ${expected}`);
  };
  const stored = storedKeys(kind, n);
  const m = contender.create();
  step('insert', () => stored, (keys) => loops.insert(m, keys, n), n);
  step('getHit', () => freshProbes(kind, perms.getHit), (p) => loops.get(m, p, n), n);
  if (hasObjectIdentity(kind)) {
    step('getHitSame', () => sameProbes(stored, perms.getHit), (p) => loops.get(m, p, n), n);
  }
  step('getMiss', () => missProbes(kind, perms.getMiss), (p) => loops.get(m, p, n), 0);
  step('overwrite', () => freshProbes(kind, perms.overwrite), (p) => loops.overwrite(m, p, n), n);
  step('iterate', () => null, () => loops.iterate(m), n);
  step('delete', () => freshProbes(kind, perms.delete), (p) => loops.delete(m, p, n), n);
  contender.dispose(m);
}

function runSample(kind, n, perms, contender, loops, passes) {
  const acc = {};
  const gcEachStep = n >= 100_000;
  if (!gcEachStep) fullGc();
  for (let p = 0; p < passes; p++) runPass(kind, n, perms, contender, loops, acc, gcEachStep);
  return acc;
}

/**
 * Runs every workload for one key kind and size on all contenders, interleaved: each
 * round runs each contender once (rotating who goes first). Returns, per workload id and
 * contender name, the ns/op samples and any wrong results.
 */
export function runOpsScenario({ kind, n, contenders, rounds, log }) {
  const perms = permutationsFor(n);
  const loops = new Map(contenders.map((c) => [c, loopsFor()]));
  const warmN = Math.min(n, 10_000);
  const warmPerms = permutationsFor(warmN);
  for (const c of contenders) runSample(kind, warmN, warmPerms, c, loops.get(c), 2);

  const samples = {}; // id -> name -> { samples: [], errors: Set }
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(k + r) % contenders.length];
      const acc = runSample(kind, n, perms, c, loops.get(c), passesFor(n));
      for (const [id, a] of Object.entries(acc)) {
        const s = ((samples[id] ??= {})[c.name] ??= { samples: [], errors: new Set() });
        s.samples.push(a.ns / a.ops);
        for (const e of a.errors) s.errors.add(e);
      }
    }
    log?.(`  ${kind} n=${n}: round ${r + 1}/${rounds} done`);
  }
  const out = {};
  for (const [id, byName] of Object.entries(samples)) {
    out[id] = {};
    for (const [name, s] of Object.entries(byName)) {
      out[id][name] = { ...summarize(s.samples), errors: [...s.errors] };
    }
  }
  return out;
}
