/**
 * The threads module's lock (native/core/lock.h, a futex word in shared memory) under
 * contention: this thread and three workers each take one map's write lock 50,000 times
 * and add one to a plain counter only that lock guards, through a testing hook
 * (GOMAP_TESTING=1). Two threads inside at once shows up as a collision or a lost
 * increment. In Node 20, V8's baseline compiler (Liftoff) made exactly that happen (a few
 * runs in six); lib/wasm/v8-workarounds.ts turns it off, and with
 * GOMAP_TESTING_KEEP_LIFTOFF=1 this test fails again.
 *
 * Runs in the 'wasm' vitest project only (natively the lock is std::mutex).
 */
import { expect, it } from 'vitest';

process.env.GOMAP_TESTING = '1';
const { SyncMap } = await import('../lib/index.ts');
const { syncBinding } = await import('../lib/sync-binding.ts');
const { firstMessage, startWorker, syncBindingBundle, WORKER_BARRIER, makeGate } = await import('./helpers/sync-workers.ts');

const ROUNDS = 50_000;
const WORKERS = 3;

const STRESS = `
  const { workerData, parentPort } = require('node:worker_threads');
  const { syncBinding } = require(workerData.binding);
  ${WORKER_BARRIER}
  const h = workerData.handle;
  const v = syncBinding.syncAttach(h.id, h.key, h.value, h.memory);
  barrier();
  parentPort.postMessage(syncBinding.syncTestingLockStress(v, ${ROUNDS}));
  syncBinding.syncClose(v);
`;

it('four threads taking one write lock 50,000 times each are never inside together', async () => {
  const n = syncBinding!;
  expect(typeof n.syncTestingLockStress).toBe('function');
  const m = new SyncMap<string, string>({ key: 'string', value: 'string' });
  const h = m.handle as unknown as { id: number; key: 'string'; value: 'string'; memory: unknown };
  const view = n.syncAttach(h.id, h.key, h.value, h.memory);
  const before = n.syncTestingLockCount!(view);
  const { gate, openWhen } = makeGate();
  const workers = Array.from({ length: WORKERS }, () => startWorker(STRESS, { handle: m.handle, binding: syncBindingBundle(), gate }));
  const collisions = workers.map((w) => firstMessage<number>(w));
  await openWhen(WORKERS);
  const mine = n.syncTestingLockStress!(view, ROUNDS);
  expect([mine, ...(await Promise.all(collisions))]).toEqual([0, 0, 0, 0]);
  expect(n.syncTestingLockCount!(view) - before).toBe((WORKERS + 1) * ROUNDS);
  n.syncClose(view);
  // the map still works after its lock was hammered
  m.set('after', 'ok');
  expect(m.get('after')).toBe('ok');
  m.close();
});
