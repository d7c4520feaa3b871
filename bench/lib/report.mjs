// Turns the results of a run into the markdown report (bench/results/<name>.md), which is
// also what the console shows.

import { OPS } from '../workloads/ops.mjs';
import { MEMORY_CASES } from '../workloads/memory.mjs';
import { renderSync, renderSyncTargets } from '../workloads/sync.mjs';
import { fmtBytes, fmtMs, fmtN, fmtNs, fmtRatio, markdownTable } from './table.mjs';

const VALUE_KINDS = ['any', 'f64'];
const KEY_KINDS = ['string', 'f64', 'i64'];
const keyClass = (kind) => (kind === 'string' ? 'string' : 'int');
const LABEL = Object.fromEntries(OPS.map((o) => [o.id, o.label]));
LABEL.getHitBatch = 'get hit, random order, batched (core getMany)';

/** Looks a C++ core or Go number up: ns/op median for (workload, n, key class). */
function nativeLookup(rows) {
  const index = new Map((rows ?? []).map((r) => [`${r.workload}/${r.n}/${r.keys}`, r]));
  return (workload, n, keys) => index.get(`${workload}/${n}/${keys}`)?.nsPerOp;
}

function opsTable(results) {
  const core = nativeLookup(results.core?.rows);
  const go = nativeLookup(results.go?.rows);
  const rows = [];
  const warnings = [];
  const jsSizes = new Set();
  for (const sc of results.ops ?? []) {
    jsSizes.add(sc.n);
    for (const { id } of OPS) {
      const byName = sc.results[id];
      if (!byName) continue;
      for (const vk of VALUE_KINDS) {
        const m = byName.Map;
        const g = byName[`GoMap:${vk}`];
        if (!m && !g) continue;
        for (const e of [...(m?.errors ?? []), ...(g?.errors ?? [])]) warnings.push(`${fmtN(sc.n)} ${sc.kind}→${vk}: ${e}`);
        const bad = g?.errors?.length ? ' ⚠' : '';
        rows.push([LABEL[id], fmtN(sc.n), sc.kind, vk, fmtNs(m?.median), fmtNs(g?.median) + bad,
          fmtRatio(g?.median / m?.median), fmtNs(core(id, sc.n, keyClass(sc.kind))), fmtNs(go(id, sc.n, keyClass(sc.kind)))]);
      }
      if (id === 'getHit' && core('getHitBatch', sc.n, keyClass(sc.kind)) != null) {
        rows.push([LABEL.getHitBatch, fmtN(sc.n), sc.kind, '', '—', '—', '—', fmtNs(core('getHitBatch', sc.n, keyClass(sc.kind))), '—']);
      }
    }
  }
  // Sizes only the C++ core and Go ran (by default 10M).
  const nativeRows = [...(results.core?.rows ?? []), ...(results.go?.rows ?? [])];
  const nativeOnly = [...new Set(nativeRows.map((r) => r.n))].filter((n) => !jsSizes.has(n)).sort((a, b) => a - b);
  for (const n of nativeOnly) {
    for (const keys of ['string', 'int']) {
      for (const id of [...OPS.map((o) => o.id).flatMap((x) => (x === 'getHit' ? [x, 'getHitBatch'] : [x]))]) {
        const c = core(id, n, keys);
        const g = go(id, n, keys);
        if (c == null && g == null) continue;
        rows.push([LABEL[id], fmtN(n), keys, 'f64', '—', '—', '—', fmtNs(c), fmtNs(g)]);
      }
    }
  }
  const header = ['Workload', 'N', 'Keys', 'Values', 'Map ns/op', 'GoMap ns/op', 'GoMap/Map', 'C++ core ns/op', 'Go ns/op'];
  return { table: markdownTable(header, rows, 'llllrrrrr'), warnings };
}

function coreVsGo(results) {
  const core = nativeLookup(results.core?.rows);
  const go = nativeLookup(results.go?.rows);
  const sizes = [...new Set((results.core?.rows ?? []).map((r) => r.n))].sort((a, b) => a - b);
  const rows = [];
  for (const n of sizes) {
    for (const keys of ['int', 'string']) {
      const c = core('getHit', n, keys);
      const b = core('getHitBatch', n, keys);
      const g = go('getHit', n, keys);
      rows.push([fmtN(n), keys, fmtNs(c), fmtNs(b), fmtNs(g), fmtRatio(c / g), fmtRatio(b / g)]);
    }
  }
  return markdownTable(['N', 'Keys', 'core get', 'core getMany', 'Go m[k]', 'core get / Go', 'core getMany / Go'], rows, 'llrrrrr');
}

function coreShapeTable(memory) {
  const rows = (memory ?? []).map((m) => [fmtN(m.n), m.keys, String(m.B), String(m.overflowBuckets ?? '—'),
    m.growing == null ? '—' : m.growing ? 'yes' : 'no', String(m.grows ?? '—'), String(m.sameSizeGrows ?? '—'), fmtBytes(m.bytesPerEntry)]);
  return markdownTable(['N', 'Keys', 'B', 'overflow buckets', 'growing', 'grows', 'same-size grows', 'bytes/entry'], rows, 'llrrlrrr');
}

function batchTable(batch) {
  const rows = [];
  for (const r of [...(batch?.getMany ?? []), ...(batch?.setMany ?? [])]) {
    const names = Object.keys(r.variants);
    const base = r.variants[names[0]].median;
    for (const name of names) {
      const v = r.variants[name].median;
      rows.push([name, fmtN(r.n), r.kind, fmtNs(v), name === names[0] ? '1.00x' : fmtRatio(v / base)]);
    }
    for (const e of r.errors ?? []) rows.push([`⚠ ${e}`, '', '', '', '']);
  }
  return markdownTable(['Per key', 'N', 'Keys', 'ns/key', 'vs Map loop'], rows, 'lllrr');
}

function memoryTable(memory) {
  const rows = [];
  for (const c of memory ?? []) {
    for (const r of c.rows) {
      rows.push([c.id, fmtN(r.n), fmtBytes(r.goStats), fmtBytes(r.goRss), fmtBytes(r.mapHeap), fmtRatio(r.ratioStats), fmtRatio(r.ratioRss)]);
    }
    const a = c.average;
    rows.push([`**${c.id} average**`, '', fmtBytes(a.goStats), fmtBytes(a.goRss), fmtBytes(a.mapHeap), `**${fmtRatio(a.ratioStats)}**`, fmtRatio(a.ratioRss)]);
  }
  const header = ['Keys → values', 'N', 'GoMap stats().bytes', 'GoMap RSS Δ', 'Map heap Δ', 'ratio (stats)', 'ratio (RSS)'];
  return markdownTable(header, rows, 'llrrrrr');
}

function gcTable(gc) {
  const { Map: m, GoMap: g, none } = gc.results;
  const row = (label, f, fmt) => [label, fmt(f(m)), fmt(f(g)), fmtRatio(f(g) / f(m)), none ? fmt(f(none)) : '—'];
  return markdownTable(
    ['With ' + fmtN(gc.n) + ' string→f64 entries live', 'Map', 'GoMap', 'GoMap/Map', 'no map (floor)'],
    [
      row('total GC pause during the workload (ms)', (r) => r.pauses.totalMs, fmtMs),
      row('p99 GC pause (ms)', (r) => r.pauses.p99Ms, fmtMs),
      row('max GC pause (ms)', (r) => r.pauses.maxMs, fmtMs),
      row('GC pauses (count)', (r) => r.pauses.count, String),
      row('forced full gc() (ms, median of 5)', (r) => r.fullGcMs.median, fmtMs),
      row('workload ns/op (90% get / 10% set)', (r) => r.nsPerOp, fmtNs),
      row('JS heap used after (MB)', (r) => r.heapUsedMB, fmtMs),
    ],
    'lrrrr',
  );
}

/** The section 5 targets of issue 2, with what this run measured. */
export function targets(results) {
  const out = [];
  const add = (metric, value, target, fmt = fmtRatio) =>
    out.push({ metric, value, target, met: value == null || !Number.isFinite(value) ? null : value <= target, fmt });
  const core = nativeLookup(results.core?.rows);
  const go = nativeLookup(results.go?.rows);
  for (const n of [1e6, 1e7]) {
    for (const keys of ['int', 'string']) {
      add(`core get hit ${fmtN(n)} ${keys} keys / Go`, core('getHit', n, keys) / go('getHit', n, keys), 0.8);
      add(`core getMany ${fmtN(n)} ${keys} keys / Go (batched)`, core('getHitBatch', n, keys) / go('getHit', n, keys), 0.8);
    }
  }
  const mem = (id) => results.memory?.find((c) => c.id === id)?.average.ratioStats;
  add('bytes/entry string→f64 vs Map (avg 1.0–1.6M)', mem('string→f64'), 0.5);
  add('bytes/entry i64→f64 vs Map with integer keys (avg 1.0–1.6M)', mem('i64→f64'), 0.6);
  const gm = (kind) => results.batch?.getMany?.find((r) => r.kind === kind);
  const gmRatio = (kind) => gm(kind) && gm(kind).variants['GoMap.getMany'].median / gm(kind).variants['Map.get loop'].median;
  add(`getMany ${fmtN(results.options?.batchN ?? 1e6)} integer (f64) keys / Map.get loop`, gmRatio('f64'), 0.35);
  add(`getMany ${fmtN(results.options?.batchN ?? 1e6)} string keys / Map.get loop`, gmRatio('string'), 0.8);
  if (results.gc) {
    add('GC total pause, GoMap / Map', results.gc.ratios.totalPause, 0.1);
    add('GC p99 pause, GoMap / Map', results.gc.ratios.p99Pause, 0.1);
    add('forced full gc(), GoMap / Map', results.gc.ratios.fullGc, 0.1);
    if (results.gc.ratios.totalPauseNet != null) {
      add('GC total pause net of the no-map floor, (GoMap − floor) / (Map − floor)', results.gc.ratios.totalPauseNet, 0.1);
      add('GC p99 pause net of the no-map floor, (GoMap − floor) / (Map − floor)', results.gc.ratios.p99PauseNet, 0.1);
    }
  }
  const js = (n, kind, id) => results.ops?.find((s) => s.n === n && s.kind === kind)?.results[id];
  const jsRatio = (n, kind, id, vk = 'f64') => {
    const r = js(n, kind, id);
    return r && r[`GoMap:${vk}`]?.median / r.Map?.median;
  };
  add('get hit 1M from JS, string keys / Map', jsRatio(1e6, 'string', 'getHit'), 1.0);
  add("get hit 1M from JS, integer keys ('f64') / Map", jsRatio(1e6, 'f64', 'getHit'), 2.0);
  add("get hit 1M from JS, integer keys ('i64' bigint) / Map", jsRatio(1e6, 'i64', 'getHit'), 2.0);
  add('insert 1M string keys / Map', jsRatio(1e6, 'string', 'insert'), 1.0);
  add('(report) get hit 1K from JS, string keys / Map', jsRatio(1e3, 'string', 'getHit'), Infinity);
  add("(report) get hit 1K from JS, integer keys ('f64') / Map", jsRatio(1e3, 'f64', 'getHit'), Infinity);
  return out;
}

function targetsTable(list) {
  const verdict = (t) => (t.met == null ? 'not measured' : t.target === Infinity ? '—' : t.met ? 'met' : '**not met**');
  return markdownTable(
    ['Target (issue 2, section 5)', 'measured', 'target', ''],
    list.map((t) => [t.metric, t.fmt(t.value), t.target === Infinity ? 'report' : `≤ ${t.target}x`, verdict(t)]),
    'lrrl',
  );
}

function environmentSection(env, results) {
  const lines = [
    `- date: ${env.date}`,
    `- node ${env.node} (V8 ${env.v8}), gomap backend: ${env.gomapBackend}`,
    `- CPU: ${env.cpu}, ${env.cores} cores, ${env.memoryGiB} GiB; ${env.platform}; load average at start ${env.loadAverage.join(' ')}`,
    `- C++: ${env.cxx ?? 'unknown'}${results.core?.available ? ` (core bench: ${results.core.binary})` : ''}`,
    `- Go: ${results.go?.available ? results.go.version : results.go?.note ?? 'not run'}`,
    `- git: ${env.gitCommit ?? 'no commit yet'}; rounds: ${results.options.rounds} (tables show medians)`,
  ];
  return lines.join('\n');
}

export function renderReport(results) {
  const { env } = results;
  const parts = [`# gomap benchmark${results.options.standIn ? ' — STAND-IN GoMap (a JS Map), NOT REAL NUMBERS' : ''}`, ''];
  parts.push(environmentSection(env, results), '');
  parts.push('Method: bench/README.md. ns per operation, median of the rounds; GoMap/Map < 1 means GoMap is faster.', '');
  const tlist = targets(results);
  if (tlist.some((t) => t.met != null)) parts.push('## Targets', '', targetsTable(tlist), '');
  if (results.ops?.length || results.core?.rows?.length || results.go?.rows?.length) {
    const { table, warnings } = opsTable(results);
    parts.push('## Single operations', '', table, '');
    if (warnings.length) parts.push('Wrong results (these rows are not valid):', '', ...warnings.map((w) => `- ${w}`), '');
  }
  if (results.core?.rows?.length) {
    parts.push('## C++ core vs Go 1.19, get hit (fresh equal keys, random order)', '', coreVsGo(results), '');
    parts.push("`core get` is one `get()` per key (Go's `m[k]` does the same); `core getMany` is one batched call over all keys that hashes ahead and prefetches buckets: Go has no such call.", '');
    if (results.core.memory?.length) {
      parts.push('C++ core: the table right after the timed insert', '', coreShapeTable(results.core.memory), '');
    }
  }
  if (results.batch) parts.push('## Batch calls (fresh equal keys, random order)', '', batchTable(results.batch), '');
  if (results.memory) {
    parts.push('## Bytes per entry (each in a fresh process)', '', memoryTable(results.memory), '');
    parts.push(MEMORY_CASES.map((c) => `- ${c.id}: ${c.note}`).join('\n'), '');
  }
  if (results.gc) {
    parts.push('## GC with a big live map (each in a fresh process)', '', gcTable(results.gc), '');
    parts.push("`no map (floor)`: the same workload on a stub that stores nothing — the GC cost of the workload's own garbage (key strings built per operation, boxed doubles), which any map pays on top of. The gross GoMap/Map ratios cannot go below floor/Map (a map that stored nothing would score that); the net rows of the targets table, (GoMap − floor) / (Map − floor), are what the map itself adds.", '');
  }
  if (results.sync) {
    parts.push('## SyncMap across worker threads', '', renderSyncTargets(results.sync), '', renderSync(results.sync), '');
  }
  if (results.notes?.length) parts.push('## Notes', '', ...results.notes.map((n) => `- ${n}`), '');
  return parts.join('\n');
}
