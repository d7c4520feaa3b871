/**
 * A shared GoCache on the WebAssembly engine and `worker.terminate()`: a worker that dies
 * holding the cache's write lock (native/core/shared_cache.h, "WebAssembly threads
 * build"). The worker takes the lock through a testing hook (GOMAP_TESTING=1) and spins
 * until it is terminated, as in wasm-syncmap.terminate. Afterwards:
 * - the next writer takes the lock over and repairs the map and the cache (bytes
 *   recounted, a new expiry index); when the repair cannot allocate it throws
 *   ERR_GOMAP_POISONED and a later writer repairs;
 * - reads go on meanwhile and see every completed write;
 * - after the repair the limits still hold, bytes match the entries, and expired entries
 *   are still found and purged (the rebuilt expiry index).
 *
 * Runs in the 'wasm' vitest project only (vitest.config.ts WASM_ONLY).
 */
import { expect, it } from 'vitest';

process.env.GOMAP_TESTING = '1';
const { GoCache } = await import('../lib/index.ts');
const { syncBinding } = await import('../lib/sync-binding.ts');
const { ERR_GOMAP_POISONED } = await import('../lib/errors.ts');
const { startWorker, syncBindingBundle, until } = await import('./helpers/sync-workers.ts');
const { MEMORY_CLOCK_INDEX } = await import('../lib/wasm/sync-layout.ts');
const { WATCHER_WORD } = await import('../lib/wasm/sync-watcher.ts');

/** The flag word (Int32 index into the shared memory; bytes 28..31 are unused). */
const FLAG = 7;
const kManualClock = Symbol.for('gomap.cache.manualClock');

const HOLDER = `
  const { workerData, parentPort } = require('node:worker_threads');
  const { syncBinding } = require(workerData.binding);
  const h = workerData.handle;
  const [v] = syncBinding.scacheAttach(h.id, h.key, h.value, h.memory);
  parentPort.postMessage('attached');
  syncBinding.scacheTestingHoldWriteLock(v, ${FLAG});
`;

it("the memory's clock origin shares no byte with the other words below 1024", () => {
  const clock = [MEMORY_CLOCK_INDEX * 8, MEMORY_CLOCK_INDEX * 8 + 8];
  const others = [
    [0, 16], // magic and memory id
    [WATCHER_WORD * 4, WATCHER_WORD * 4 + 4],
    [24, 32], // the terminate tests' flag words (wasm-syncmap.terminate: 6, here: 7)
  ];
  for (const [from, to] of others) expect(clock[1]! <= from! || clock[0]! >= to!, `bytes ${from}..${to}`).toBe(true);
  expect(clock[1]).toBeLessThanOrEqual(1024);
  expect(FLAG * 4).toBeGreaterThanOrEqual(24);
});

it('a worker terminated holding a shared cache write lock: the next writer repairs the cache (or, out of memory, gets ERR_GOMAP_POISONED)', async () => {
  const n = syncBinding!;
  const c = new GoCache<string, string>({ shared: true, key: 'string', value: 'string', max: 50 });
  (c as unknown as Record<symbol, (ms: number) => void>)[kManualClock]!(1000);
  for (let i = 0; i < 40; i++) c.set(`k${i}`, `v${i}`, i % 2 === 0 ? { ttl: 500 } : { ttl: 0 });
  const bytesBefore = c.stats().bytes;
  const handle = c.handle as unknown as { memory: { buffer: SharedArrayBuffer } };
  const flags = new Int32Array(handle.memory.buffer, 0, 16);
  Atomics.store(flags, FLAG, 0);

  const holder = startWorker(HOLDER, { handle: c.handle, binding: syncBindingBundle() });
  const errors: Error[] = [];
  holder.on('error', (e: Error) => errors.push(e));
  expect(await until(() => Atomics.load(flags, FLAG) === 1, 20_000)).toBe(true);
  await holder.terminate();
  expect(errors).toEqual([]);

  // 1: the new entry (made before the lock), 2: the map repair's table.
  n.syncTestingFailNthAllocation!(2);
  let thrown: unknown;
  try {
    c.set('k1', 'x');
  } catch (e) {
    thrown = e;
  }
  n.syncTestingFailNthAllocation!(0);
  expect((thrown as { code?: string }).code).toBe(ERR_GOMAP_POISONED);
  // Reads go on and see every completed write.
  expect(c.size).toBe(40);
  expect(c.get('k1')).toBe('v1');
  expect(c.stats().bytes).toBe(bytesBefore);

  // With memory, the cache recovers: writes work, limits and accounting hold.
  c.set('k1', 'x');
  expect(c.get('k1')).toBe('x');
  expect(c.delete('k3')).toBe(true);
  for (let i = 100; i < 130; i++) c.set(`k${i}`, `w${i}`, { ttl: 0 });
  const s = c.stats();
  expect(s.size).toBe(50);
  expect(c.size).toBe(50);
  let bytes = 0;
  for (const [k, v] of c.entries()) bytes += k.length + v.length;
  expect(s.bytes).toBe(bytes);
  // The entries with a ttl that survived eviction expire, and purgeStale finds them all.
  (c as unknown as Record<symbol, (ms: number) => void>)[kManualClock]!(2000);
  const live = [...c.keys()].length;
  c.purgeStale();
  expect(c.size).toBe(live);
  for (const k of c.keys()) expect(Number(k.slice(1)) % 2 === 1 || Number(k.slice(1)) >= 100).toBe(true);
  c.close();
});
