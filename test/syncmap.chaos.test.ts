/**
 * Worker chaos (issue 6): rounds of 2–3 workers attached to one SyncMap doing mixed
 * operations (set/get/delete/loadOrStore/swap/compareAndSwap/compareAndDelete/
 * loadAndDelete/setMany/getMany/iteration/range with deletes), `terminate()`d at random
 * moments. Afterwards the map must be consistent, usable by a fresh worker, give back
 * every entry's bytes, and epoch reclamation must drain to nothing.
 *
 * Random choices come from a seeded PRNG; the seed is printed (rerun one with
 * GOMAP_CHAOS_SEED=<seed>). Values encode their writer and key ("r<round>w<worker>:<key>:<n>"),
 * so any value read can be checked against the key it was read for. The EBR count is read
 * through the addon's testing hook (GOMAP_TESTING=1, set before the addon loads).
 */
import { expect, it } from 'vitest';

process.env.GOMAP_TESTING = '1';
const { SyncMap, backend } = await import('../lib/index.ts');
const { syncBinding } = await import('../lib/sync-binding.ts');
const { describeEachBackend } = await import('./helpers/backends.ts');
const { checkStatsInvariants } = await import('./helpers/kinds.ts');
const { runInWorker, startWorker } = await import('./helpers/sync-workers.ts');

const ROUNDS = 100;
const KEYS = 160;
const SEED = Number(process.env.GOMAP_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded PRNG, the same in the workers. */
const PRNG_SOURCE = `function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}`;
const prng = new Function(`${PRNG_SOURCE}; return prng;`)() as (seed: number) => () => number;

/** A value is good for `key` when it is "<writer>:<key>:<n>" with a writer of this test. */
const VALUE_SOURCE = `function goodValue(key, v) {
  if (typeof v !== 'string') return false;
  const parts = v.split(':');
  return parts.length === 3 && /^(r\\d+w\\d|main|fresh)$/.test(parts[0]) && parts[1] === key && /^\\d+$/.test(parts[2]);
}`;
const goodValue = new Function(`${VALUE_SOURCE}; return goodValue;`)() as (key: string, v: unknown) => boolean;

/**
 * One worker: attaches, then runs random operations until it is terminated. It reports
 * a bad value (which would fail the test) with postMessage; it never ends by itself.
 */
const WORKER = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { SyncMap } = require(workerData.gomap);
  ${PRNG_SOURCE}
  ${VALUE_SOURCE}
  const rnd = prng(workerData.seed);
  const me = workerData.name;
  const KEYS = ${KEYS};
  let n = 0;
  const key = () => 'k' + Math.floor(rnd() * KEYS);
  const fresh = (k) => me + ':' + k + ':' + (n++);
  const bad = (what, k, v) => parentPort.postMessage({ bad: what + ' ' + k + ' -> ' + String(v) });
  let m = SyncMap.attach(workerData.handle);
  parentPort.postMessage({ attached: true });
  for (;;) {
    const op = Math.floor(rnd() * 14);
    const k = key();
    switch (op) {
      case 0: case 1: m.set(k, fresh(k)); break;
      case 2: { const v = m.get(k); if (v !== undefined && !goodValue(k, v)) bad('get', k, v); break; }
      case 3: m.delete(k); break;
      case 4: { const r = m.loadOrStore(k, fresh(k)); if (!goodValue(k, r.value)) bad('loadOrStore', k, r.value); break; }
      case 5: { const v = m.get(k); if (v !== undefined) m.compareAndSwap(k, v, fresh(k)); break; }
      case 6: { const r = m.swap(k, fresh(k)); if (r.loaded && !goodValue(k, r.previous)) bad('swap', k, r.previous); break; }
      case 7: { const r = m.loadAndDelete(k); if (r.loaded && !goodValue(k, r.value)) bad('loadAndDelete', k, r.value); break; }
      case 8: { const v = m.get(k); if (v !== undefined) m.compareAndDelete(k, v); break; }
      case 9: {
        const pairs = [];
        for (let i = 0; i < 1 + rnd() * 20; i++) { const kk = key(); pairs.push([kk, fresh(kk)]); }
        m.setMany(pairs);
        break;
      }
      case 10: {
        const ks = [];
        for (let i = 0; i < 1 + rnd() * 20; i++) ks.push(key());
        m.getMany(ks).forEach((v, i) => { if (v !== undefined && !goodValue(ks[i], v)) bad('getMany', ks[i], v); });
        break;
      }
      case 11: {
        const stopAfter = Math.floor(rnd() * 200);
        let seen = 0;
        for (const [kk, v] of m) {
          if (!goodValue(kk, v)) bad('iteration', kk, v);
          if (++seen >= stopAfter) break; // an iterator abandoned midway
        }
        break;
      }
      case 12: {
        const deleteEvery = 2 + Math.floor(rnd() * 5);
        let i = 0;
        m.range((v, kk) => {
          if (!goodValue(kk, v)) bad('range', kk, v);
          if (++i % deleteEvery === 0) m.delete(kk);
          return rnd() < 0.98;
        });
        break;
      }
      case 13:
        if (rnd() < 0.1) { m.close(); m = SyncMap.attach(workerData.handle); } // views come and go
        else if (rnd() < 0.1) m.stats();
        break;
    }
  }
`;

describeEachBackend('SyncMap worker chaos', () => {
  it(`${ROUNDS} rounds of workers terminated at random moments leave a consistent map`, async () => {
    console.log(`syncmap chaos: seed ${SEED} (rerun with GOMAP_CHAOS_SEED=${SEED})`);
    const n = syncBinding!;
    expect(typeof n.syncTestingCollect).toBe('function');
    const rnd = prng(SEED);
    const m = new SyncMap<string, string>({ key: 'string', value: 'string' });
    const bad: string[] = [];
    let workersStarted = 0;
    let terminatedWorking = 0; // after it attached: in the middle of its operations
    let terminatedEarly = 0; // at any moment, often while it starts or loads the addon
    let mainWrites = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const count = 2 + Math.floor(rnd() * 2);
      const workers = Array.from({ length: count }, (_, w) => {
        const worker = startWorker(WORKER, {
          handle: m.handle,
          name: `r${round}w${w}`,
          seed: Math.floor(rnd() * 2 ** 31),
        });
        const attached = new Promise<void>((resolve) => {
          worker.on('message', (msg: { bad?: string; attached?: boolean }) => {
            if (msg.bad !== undefined) bad.push(`round ${round}: ${msg.bad}`);
            if (msg.attached === true) resolve();
          });
          worker.on('exit', () => resolve());
        });
        worker.on('error', (e: Error) => bad.push(`round ${round}: worker error ${e.message}`));
        return { worker, attached };
      });
      workersStarted += count;
      // Terminate them one by one at random moments; the main thread writes meanwhile.
      for (const { worker, attached } of workers) {
        const whileWorking = rnd() < 0.75;
        if (whileWorking) await attached;
        const turns = Math.floor(rnd() * 12);
        for (let t = 0; t < turns; t++) {
          await new Promise((r) => setTimeout(r, Math.floor(rnd() * 4)));
          const k = `k${Math.floor(rnd() * KEYS)}`;
          m.set(k, `main:${k}:${mainWrites++}`);
        }
        await worker.terminate();
        if (whileWorking) terminatedWorking++;
        else terminatedEarly++;
      }
    }
    console.log(
      `syncmap chaos: ${ROUNDS} rounds, ${workersStarted} workers terminated (${terminatedWorking} while ` +
        `working, ${terminatedEarly} at any moment), ${mainWrites} main-thread writes`,
    );
    expect(bad).toEqual([]);
    expect(terminatedWorking + terminatedEarly).toBe(workersStarted);
    expect(terminatedWorking).toBeGreaterThan(ROUNDS);

    // Consistent: every value was written for its key by a writer of this test; iteration
    // produces each key once and as many as size; the stats agree.
    const seen = new Map<string, string>();
    for (const [k, v] of m) {
      expect(seen.has(k), `key ${k} produced twice`).toBe(false);
      seen.set(k, v);
      expect(goodValue(k, v), `${k} -> ${v}`).toBe(true);
      expect(m.get(k)).toBe(v);
    }
    expect(seen.size).toBe(m.size);
    expect(seen.size).toBeGreaterThan(0);
    checkStatsInvariants(m.stats(), m.size);

    // A fresh worker attaches and writes.
    const fresh = await runInWorker<string | undefined>(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      const { SyncMap } = require(workerData.gomap);
      const v = SyncMap.attach(workerData.handle);
      v.set('fresh', 'fresh:fresh:1');
      parentPort.postMessage(v.get('k0') === undefined || v.get('k0').includes(':k0:') ? v.get('fresh') : 'bad');
      v.close();
    `,
      { handle: m.handle },
    );
    expect(fresh).toBe('fresh:fresh:1');
    expect(m.get('fresh')).toBe('fresh:fresh:1');

    // Deleting every entry gives back every entry's bytes: what remains is the table and
    // its overflow buckets (once no grow is running), exactly.
    for (const k of [...m.keys()]) expect(m.delete(k)).toBe(true);
    expect(m.size).toBe(0);
    for (let i = 0; m.stats().growing; i++) {
      m.set(`g${i}`, `main:g${i}:0`);
      m.delete(`g${i}`);
    }
    const s = m.stats();
    const TABLE_HEADER = 64;
    // A bucket: the tophash word, 8 slot pointers and the overflow pointer: 80 bytes
    // natively, 48 on the WebAssembly engine (wasm32 pointers are 4 bytes; 44 rounded to 8).
    const BUCKET = backend === 'wasm' ? 48 : 80;
    const baseline = TABLE_HEADER + (s.buckets + s.overflowBuckets) * BUCKET;
    console.log(`syncmap chaos: bytes after deleting everything ${s.bytes} (baseline ${baseline}, B=${s.B})`);
    expect(s.bytes).toBe(baseline);

    // Every worker is gone: epoch reclamation drains (their leftovers included).
    expect(n.syncLiveHandles().views).toBe(1);
    expect(n.syncTestingCollect!()).toBe(0);
    m.close();
    expect(n.syncTestingCollect!()).toBe(0);
  });
});
