// Child process: bytes per entry of one map, alone in a fresh process.
// args: { map: 'Map' | 'GoMap', keys: 'string' | 'number' | 'bigint', n, standIn }
// Map: JS heap growth after full GCs (key strings, bigints and boxed doubles included).
// GoMap: stats().bytes (native bytes it holds) and the process RSS growth.

import { childMain } from '../lib/child.mjs';
import { loadGoMap, SEED } from '../lib/contenders.mjs';
import { valueAt } from '../lib/keys.mjs';

const KEY_OF = {
  string: (i) => 'user:' + i,
  number: (i) => i,
  bigint: (i) => BigInt(i),
};
const GOMAP_KIND = { string: 'string', number: 'f64', bigint: 'i64' };

function settle() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage();
}

childMain(async ({ map, keys, n, standIn }) => {
  const keyOf = KEY_OF[keys];
  const { GoMap } = await loadGoMap({ standIn });
  const create = () =>
    map === 'Map' ? new Map() : new GoMap(null, { key: GOMAP_KIND[keys], value: 'f64', seed: SEED });
  create(); // load and initialise everything a map needs before the baseline
  const before = settle();
  const m = create();
  for (let i = 0; i < n; i++) m.set(keyOf(i), valueAt(i));
  const after = settle();
  const stats = map === 'GoMap' ? m.stats() : null;
  const perEntry = (bytes) => bytes / n;
  return {
    map,
    keys,
    n,
    size: m.size,
    heapBytesPerEntry: perEntry(after.heapUsed - before.heapUsed),
    rssBytesPerEntry: perEntry(after.rss - before.rss),
    externalBytesPerEntry: perEntry(after.external - before.external),
    statsBytesPerEntry: stats ? perEntry(stats.bytes) : null,
    stats,
  };
});
