/**
 * A shared GoCache across worker_threads: limits hold after every call in every thread
 * while two workers hammer one cache, counters add up, ttl expiry is seen by every
 * thread, and terminated or exited workers leave the cache working.
 *
 * Workers load the façade from the CommonJS bundle of helpers/sync-workers.ts. Nothing
 * here measures time; the ttl test only uses generous real-time margins.
 */
import { expect, it } from 'vitest';
import { GoCache } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';
import { allExited, firstMessage, makeGate, runInWorker, startWorker, WORKER_BARRIER } from './helpers/sync-workers.ts';

const PRELUDE = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { GoCache } = require(workerData.gomap);
  ${WORKER_BARRIER}
`;

/** Workers hammer `set` (and `get`) on one cache; each checks the limits after every call. */
const HAMMER = `${PRELUDE}
  const removed = { evict: 0, expire: 0, delete: 0, set: 0 };
  const cache = GoCache.attach(workerData.handle, { onEvict: (v, k, reason) => { removed[reason]++; } });
  const { max, maxBytes, ops, id } = workerData;
  let violations = 0, gets = 0, x = id * 7919 + 1;
  barrier();
  for (let i = 0; i < ops; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; // xorshift32
    const r = x >>> 0;
    const key = 'k' + (r % 3000);
    if (i % 4 === 3) {
      cache.get(key);
      gets++;
    } else {
      cache.set(key, 'v'.repeat(r % 50) + id);
    }
    const s = cache.stats();
    if (max && (s.size > max || cache.size > max)) violations++;
    if (maxBytes && s.bytes > maxBytes) violations++;
  }
  parentPort.postMessage({ violations, gets, removed });
  cache.close();
`;

interface HammerResult {
  violations: number;
  gets: number;
  removed: { evict: number; expire: number; delete: number; set: number };
}

async function hammer(limits: { max?: number; maxBytes?: number }): Promise<void> {
  const cache = new GoCache<string, string>({ shared: true, key: 'string', value: 'string', ...limits });
  const W = 2;
  const ops = 30000;
  const { gate, openWhen } = makeGate();
  const workers = Array.from({ length: W }, (_, id) =>
    startWorker(HAMMER, { handle: cache.handle, gate, id, ops, max: limits.max ?? 0, maxBytes: limits.maxBytes ?? 0 }),
  );
  const exited = allExited(workers);
  const results = Promise.all(workers.map((w) => firstMessage<HammerResult>(w)));
  await openWhen(W);
  // This thread checks too, between turns of its event loop, while the workers run.
  let mainChecks = 0;
  let mainViolations = 0;
  let done = false;
  void results.then(() => {
    done = true;
  });
  while (!done) {
    const s = cache.stats();
    if (limits.max !== undefined && s.size > limits.max) mainViolations++;
    if (limits.maxBytes !== undefined && s.bytes > limits.maxBytes) mainViolations++;
    mainChecks++;
    await new Promise((r) => setImmediate(r));
  }
  const all = await results;
  await exited;
  expect(mainChecks).toBeGreaterThan(0);
  expect(mainViolations).toBe(0);
  for (const r of all) expect(r.violations).toBe(0);
  const s = cache.stats();
  const sum = (f: (r: HammerResult) => number): number => all.reduce((n, r) => n + f(r), 0);
  expect(s.evictions).toBe(sum((r) => r.removed.evict));
  expect(s.evictions).toBeGreaterThan(0);
  expect(s.expirations).toBe(0);
  expect(s.hits + s.misses).toBe(sum((r) => r.gets));
  expect([...cache.keys()].length).toBe(s.size);
  let bytes = 0;
  for (const [k, v] of cache.entries()) bytes += k.length + v.length;
  expect(bytes).toBe(s.bytes);
  if (limits.max !== undefined) expect(s.size).toBeLessThanOrEqual(limits.max);
  if (limits.maxBytes !== undefined) expect(s.bytes).toBeLessThanOrEqual(limits.maxBytes);
  cache.close();
}

describeEachBackend('GoCache shared: true across worker threads', () => {
  it('2 workers hammering set on one cache with max: size <= max after every call in every thread', async () => {
    await hammer({ max: 500 });
  });

  it('2 workers hammering set on one cache with maxBytes: bytes <= maxBytes after every call in every thread', async () => {
    await hammer({ maxBytes: 20000 });
  });

  it('ttl expiry is seen across workers (real timers, generous margins)', async () => {
    const cache = new GoCache<string, number>({ shared: true, key: 'string', value: 'f64', ttl: 2000 });
    cache.set('short', 1);
    cache.set('long', 2, { ttl: 0 });
    const read = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { GoCache } = require(workerData.gomap);
      const c = GoCache.attach(workerData.handle);
      parentPort.postMessage([c.get('short'), c.get('long'), c.getRemainingTTL('long')]);
      c.close();
    `;
    const before = await runInWorker<unknown[]>(read, { handle: cache.handle });
    // A worker starts in well under the 2 s ttl, even on a loaded machine.
    expect(before).toEqual([1, 2, Infinity]);
    await new Promise((r) => setTimeout(r, 2600));
    const after = await runInWorker<unknown[]>(read, { handle: cache.handle });
    expect(after).toEqual([undefined, 2, Infinity]);
    expect(cache.get('short')).toBeUndefined();
    expect(cache.size).toBe(2); // the expired entry waits for a writer
    cache.purgeStale();
    expect(cache.size).toBe(1);
    expect(cache.stats().expirations).toBe(1);
    cache.close();
  });

  it('a worker terminated mid-hammer leaves the cache working; the cache outlives its creator thread', async () => {
    const cache = new GoCache<number, string>({ shared: true, key: 'f64', value: 'string', max: 100 });
    const busy = startWorker(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      const { GoCache } = require(workerData.gomap);
      const c = GoCache.attach(workerData.handle);
      parentPort.postMessage('running');
      for (let i = 0; ; i++) { c.set(i % 1000, 'x' + i); c.get((i * 7) % 1000); }
    `,
      { handle: cache.handle },
    );
    await firstMessage(busy);
    await busy.terminate();
    cache.set(1, 'one');
    expect(cache.get(1)).toBe('one');
    expect(cache.size).toBeLessThanOrEqual(100);
    cache.close();

    // Created in a worker, closed there, used here.
    const created = startWorker(`
      const { parentPort, workerData } = require('node:worker_threads');
      const { GoCache } = require(workerData.gomap);
      const c = new GoCache({ shared: true, key: 'string', value: 'json', max: 10 });
      c.set('from', { worker: true });
      parentPort.postMessage(c.handle);
      parentPort.once('message', () => { c.close(); parentPort.postMessage('closed'); });
    `);
    const handle = await firstMessage<Parameters<typeof GoCache.attach>[0]>(created);
    const here = GoCache.attach<string, unknown>(handle);
    const closed = firstMessage(created);
    created.postMessage('close');
    await closed;
    await allExited([created]);
    expect(here.get('from')).toEqual({ worker: true });
    here.set('x', [1]);
    expect(here.size).toBe(2);
    here.close();
  });
});
