// Child process for bench/workloads/cache.mjs, alone in a fresh process.
// args: { name, n, mode }
//   mode 'memory': bytes per entry of a cache of max n filled with n "user:" + i keys and
//                  number values: JS heap growth after full GCs, plus the native bytes of
//                  a GoCache (stats().nativeBytes).
//   mode 'churn':  a cache of max n under churn (1.5 n distinct keys, numbers or
//                  "user:" + i strings with keys: 'string'): did it hold,
//                  its size at the end, seconds taken (or the error it threw).

import { childMain } from '../lib/child.mjs';
import { loadGoMap, SEED } from '../lib/contenders.mjs';
import { valueAt } from '../lib/keys.mjs';
import { jsCaches } from '../workloads/cache.mjs';

function settle() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage();
}

async function factory(name) {
  if (name.startsWith('GoCache')) {
    const { GoCache } = await import(new URL('../../dist/index.js', import.meta.url).href);
    const [keyKind, valueKind] = name.slice('GoCache '.length).split('→');
    return (n) => new GoCache({ max: n, key: keyKind, value: valueKind, seed: SEED });
  }
  const c = (await jsCaches()).find((x) => x.name === name);
  if (!c) throw new Error(`unknown cache ${name}`);
  return c.create;
}

childMain(async ({ name, n, mode, keys = 'f64' }) => {
  await loadGoMap();
  const create = await factory(name);
  if (mode === 'churn') {
    const c = create(n);
    const t0 = process.hrtime.bigint();
    try {
      if (keys === 'string') for (let i = 0; i < 1.5 * n; i++) c.set('user:' + i, i + 0.5);
      else for (let i = 0; i < 1.5 * n; i++) c.set(i, i + 0.5);
    } catch (err) {
      return { name, n, error: `${err?.name}: ${err?.message}` };
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { name, n, keys, size: c.size, seconds };
  }
  create(16).set('warm', 1); // load and initialise everything before the baseline
  const before = settle();
  const c = create(n);
  for (let i = 0; i < n; i++) c.set('user:' + i, valueAt(i));
  const after = settle();
  const heapPerEntry = (after.heapUsed - before.heapUsed) / n;
  const nativePerEntry = name.startsWith('GoCache') ? c.stats().nativeBytes / n : 0;
  return { name, n, size: c.size, heapPerEntry, nativePerEntry, bytesPerEntry: heapPerEntry + nativePerEntry };
});
