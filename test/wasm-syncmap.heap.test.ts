/**
 * The threads module's allocator (native/wasm/threads_heap.cc) under contention: this
 * thread and three workers run random malloc / realloc / free calls at the same time in
 * one shared memory, each block checked against a pattern of its own, through a testing
 * hook (GOMAP_TESTING=1). A lost lock, a block handed out twice or a realloc that loses
 * bytes shows up as a changed pattern or a failed call.
 *
 * Runs in the 'wasm' vitest project only (the native engine uses the C library's
 * allocator).
 */
import { expect, it } from 'vitest';

process.env.GOMAP_TESTING = '1';
const { SyncMap } = await import('../lib/index.ts');
const { syncBinding } = await import('../lib/sync-binding.ts');
const { firstMessage, runInWorker, startWorker, syncBindingBundle, WORKER_BARRIER, makeGate } = await import('./helpers/sync-workers.ts');

const ROUNDS = 20_000;

const STRESS = `
  const { workerData, parentPort } = require('node:worker_threads');
  const { syncBinding } = require(workerData.binding);
  ${WORKER_BARRIER}
  const h = workerData.handle;
  const v = syncBinding.syncAttach(h.id, h.key, h.value, h.memory);
  barrier();
  parentPort.postMessage(syncBinding.syncTestingHeapStress(v, workerData.seed, ${ROUNDS}));
  syncBinding.syncClose(v);
`;

it('four threads calling malloc / realloc / free at once in one memory never see a block change under them', async () => {
  const n = syncBinding!;
  expect(typeof n.syncTestingHeapStress).toBe('function');
  const m = new SyncMap<string, string>({ key: 'string', value: 'string' });
  const h = m.handle as unknown as { id: number; key: 'string'; value: 'string'; memory: unknown };
  const view = n.syncAttach(h.id, h.key, h.value, h.memory); // a raw view of this thread
  expect(n.syncTestingHeapStress!(view, 0, 100)).toBe(0); // the hook works alone
  const { gate, openWhen } = makeGate();
  const workers = [1, 2, 3].map((seed) => startWorker(STRESS, { handle: m.handle, binding: syncBindingBundle(), gate, seed }));
  const results = workers.map((w) => firstMessage<number>(w));
  await openWhen(3);
  const mine = n.syncTestingHeapStress!(view, 4, ROUNDS);
  n.syncClose(view);
  expect([mine, ...(await Promise.all(results))]).toEqual([0, 0, 0, 0]);
  // the memory is still sound for the map: a worker writes, this thread reads
  await runInWorker(
    `const { workerData } = require('node:worker_threads');
     const { SyncMap } = require(workerData.gomap);
     const m = SyncMap.attach(workerData.handle);
     for (let i = 0; i < 1000; i++) m.set('k' + i, 'v' + i);
     m.close();
     require('node:worker_threads').parentPort.postMessage('written');`,
    { handle: m.handle },
  );
  expect(m.size).toBe(1000);
  for (let i = 0; i < 1000; i += 37) expect(m.get(`k${i}`)).toBe(`v${i}`);
  m.close();
});
