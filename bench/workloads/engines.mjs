// The engine comparison (`npm run bench -- --only=wasm`, and part of the default run):
// every GoMap single-key row (insert, get hit, get miss, has, overwrite, delete, iterate)
// and batch row (getMany, setMany), GoCache's get hit and set with eviction (max = N), and
// SyncMap's insert and get hit on one thread, measured on the native addon and on the WebAssembly engine, with the wasm/native ratio
// per operation, for f64, i64 and string keys.
//
// A process loads one engine, so each engine runs in its own child process
// (bench/children/engine.mjs) with GOMAP_BACKEND set; the two run one after the other,
// on the same keys and seeds, in the same run of the benchmark.

import { runChild } from '../lib/child.mjs';
import { fmtN } from '../lib/table.mjs';

export const ENGINES = ['native', 'wasm'];

const LABELS = {
  insert: 'insert (set, new keys)',
  getHit: 'get hit',
  getHitSame: 'get hit, same key objects',
  getMiss: 'get miss',
  has: 'has (hit)',
  overwrite: 'set (overwrite)',
  delete: 'delete',
  iterate: 'iterate (per entry)',
  getMany: 'getMany (per key)',
  setMany: 'setMany (per key, into an empty map)',
  cacheGetHit: 'GoCache get hit (max = N)',
  cacheSetEvict: 'GoCache set with eviction (full cache)',
  syncInsert: 'SyncMap insert (one thread)',
  syncGetHit: 'SyncMap get hit (one thread)',
};

/** Runs both engines' children; returns { engines: { native: rows, wasm: rows }, notes }. */
export async function runEngines({ sizes, rounds, log }) {
  const engines = {};
  const notes = [];
  for (const backend of ENGINES) {
    log(`engines: ${backend}, N = ${sizes.map(fmtN).join(', ')}`);
    try {
      const r = await runChild('engine.mjs', { sizes, rounds }, { env: { ...process.env, GOMAP_BACKEND: backend }, timeoutMs: 1_800_000 });
      if (r.backend !== backend) throw new Error(`asked for ${backend}, the child loaded ${r.backend}`);
      engines[backend] = r.rows;
    } catch (err) {
      notes.push(`engines: ${backend} failed: ${String(err?.message ?? err).split('\n')[0]}`);
    }
  }
  return { engines, notes };
}

/** Rows of both engines side by side: { op, kind, n, native, wasm, ratio }. */
export function pairRows(result) {
  const native = result.engines.native ?? [];
  const wasm = result.engines.wasm ?? [];
  const key = (r) => `${r.op}|${r.kind}|${r.n}`;
  const byKey = new Map(wasm.map((r) => [key(r), r]));
  return native
    .filter((r) => byKey.has(key(r)))
    .map((r) => {
      const w = byKey.get(key(r));
      return { op: r.op, kind: r.kind, n: r.n, native: r.ns, wasm: w.ns, ratio: w.ns / r.ns, errors: [...r.errors, ...w.errors] };
    });
}

/**
 * The faster engine for single gets per key kind, from the `get hit` rows at the largest
 * size measured (what a per-key-kind default would pick).
 */
export function fasterForGet(pairs) {
  const out = {};
  for (const kind of ['f64', 'i64', 'string']) {
    const rows = pairs.filter((p) => p.op === 'getHit' && p.kind === kind).sort((a, b) => b.n - a.n);
    if (rows.length > 0) out[kind] = rows[0].ratio < 1 ? 'wasm' : 'native';
  }
  return out;
}

/** The Markdown section of the report. */
export function renderEngines(result) {
  const pairs = pairRows(result);
  const lines = ['## Engines: native addon vs WebAssembly', ''];
  if (pairs.length === 0) {
    lines.push('Not measured (see the notes).', '');
    return lines.join('\n');
  }
  lines.push(
    'ns per operation (median of the rounds), GoMap, GoCache and SyncMap with f64 values, the same keys and',
    'seeds on both engines, each engine in its own process. Ratio = wasm / native: below 1.00x the',
    'WebAssembly engine is faster.',
    '',
  );
  const sizes = [...new Set(pairs.map((p) => p.n))].sort((a, b) => a - b);
  for (const kind of ['f64', 'i64', 'string']) {
    for (const n of sizes) {
      const rows = pairs.filter((p) => p.kind === kind && p.n === n);
      if (rows.length === 0) continue;
      lines.push(`### ${kind} keys, N = ${fmtN(n)}`, '', '| operation | native ns/op | wasm ns/op | wasm / native |', '|---|---:|---:|---:|');
      for (const r of rows) {
        const flag = r.errors.length > 0 ? ' ⚠' : '';
        lines.push(`| ${LABELS[r.op] ?? r.op}${flag} | ${r.native.toFixed(1)} | ${r.wasm.toFixed(1)} | ${r.ratio.toFixed(2)}x |`);
      }
      lines.push('');
    }
  }
  const faster = fasterForGet(pairs);
  lines.push(
    `Faster engine for single gets (largest N): ${Object.entries(faster).map(([k, e]) => `${k} keys → ${e}`).join(', ')}.`,
    '',
  );
  return lines.join('\n');
}
