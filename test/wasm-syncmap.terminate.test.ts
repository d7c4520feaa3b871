/**
 * SyncMap on the WebAssembly engine and `worker.terminate()` (issue 5): a worker that dies
 * holding a map's write lock and an epoch pin (lib/wasm/sync-watcher.ts,
 * native/wasm/thread_liveness.cc, core/lock.h).
 *
 * The worker takes the lock through a testing hook (GOMAP_TESTING=1) that pins the epoch,
 * locks, raises a flag word in the shared memory and spins until it is terminated: a
 * death inside the critical section on purpose, not by chance. Afterwards:
 * - writers of that map do not hang: the next one takes the lock over and repairs the
 *   table; when that cannot allocate, it throws ERR_GOMAP_POISONED and a later one repairs;
 * - reads of that map go on and see every completed write, before and after;
 * - other maps of the same memory stay writable, from this thread and from a new worker;
 * - the dead thread's pin stops holding reclamation back: retired objects drain to 0.
 *
 * Runs in the 'wasm' vitest project only (the native engine cannot be stopped
 * inside native code, and has no such hook).
 */
import { expect, it } from 'vitest';

process.env.GOMAP_TESTING = '1';
const { SyncMap } = await import('../lib/index.ts');
const { syncBinding } = await import('../lib/sync-binding.ts');
const { ERR_GOMAP_POISONED } = await import('../lib/errors.ts');
const { startWorker, runInWorker, syncBindingBundle, until } = await import('./helpers/sync-workers.ts');
const { checkStatsInvariants } = await import('./helpers/kinds.ts');

/** The flag word (Int32 index into the shared memory; bytes 24..27 are unused). */
const FLAG = 6;

const HOLDER = `
  const { workerData, parentPort } = require('node:worker_threads');
  const { syncBinding } = require(workerData.binding);
  const h = workerData.handle;
  const v = syncBinding.syncAttach(h.id, h.key, h.value, h.memory);
  parentPort.postMessage('attached');
  syncBinding.syncTestingHoldWriteLock(v, ${FLAG});
`;

it('a worker terminated holding a write lock: the next writer repairs the map (or, out of memory, gets ERR_GOMAP_POISONED), and its epoch pin is released', async () => {
  const n = syncBinding!;
  expect(typeof n.syncTestingHoldWriteLock).toBe('function');
  const m = new SyncMap<string, string>({ key: 'string', value: 'string' });
  const other = new SyncMap<string, string>({ key: 'string', value: 'string' }); // same memory: this thread's
  for (let i = 0; i < 200; i++) m.set(`k${i}`, `v${i}`);
  const handle = m.handle as unknown as { memory: { buffer: SharedArrayBuffer } };
  const flags = new Int32Array(handle.memory.buffer, 0, 16);
  Atomics.store(flags, FLAG, 0);

  const holder = startWorker(HOLDER, { handle: m.handle, binding: syncBindingBundle() });
  const errors: Error[] = [];
  holder.on('error', (e: Error) => errors.push(e));
  expect(await until(() => Atomics.load(flags, FLAG) === 1, 20_000)).toBe(true);

  // While it is alive it pins the epoch: what this thread retires stays pending.
  for (let round = 0; round < 5; round++) for (let i = 0; i < 100; i++) other.set(`o${i}`, `w${round}`);
  expect(n.syncTestingCollect!()).toBeGreaterThan(0);

  await holder.terminate();
  expect(errors).toEqual([]);

  // The next writer takes the lock over and rebuilds the table from what readers see
  // (ConcurrentMap::repairAfterDeadWriter), unless it has no memory for that: then the
  // write throws ERR_GOMAP_POISONED (and the next one tries again).
  n.syncTestingFailNthAllocation!(2); // 1: the new entry (before the lock), 2: the repair's table
  let thrown: unknown;
  try {
    m.set('k1', 'x');
  } catch (e) {
    thrown = e;
  }
  n.syncTestingFailNthAllocation!(0);
  expect(thrown).toBeInstanceOf(Error);
  expect((thrown as { code?: string }).code).toBe(ERR_GOMAP_POISONED);
  expect((thrown as Error).message).toMatch(/poisoned/);
  // Reads go on meanwhile, and see every completed write.
  expect(m.size).toBe(200);
  expect(m.get('k1')).toBe('v1');
  expect([...m.keys()].length).toBe(200);
  // With memory, the map recovers: every write works again, nothing was lost.
  expect(m.set('k1', 'x')).toBe(m);
  m.delete('k2');
  m.setMany([['a', 'b']]);
  expect(m.swap('k3', 'y')).toEqual({ previous: 'v3', loaded: true });
  expect(m.size).toBe(200);
  expect(m.get('k1')).toBe('x');
  expect(m.has('k2')).toBe(false);
  expect(m.get('a')).toBe('b');
  for (let i = 4; i < 200; i++) expect(m.get(`k${i}`)).toBe(`v${i}`);
  expect([...m.keys()].length).toBe(200);
  checkStatsInvariants(m.stats(), 200);
  // The other map of the memory, from this thread and from a new worker.
  other.set('after', 'yes');
  expect(other.get('after')).toBe('yes');
  expect(
    await runInWorker<string>(
      `const { parentPort, workerData } = require('node:worker_threads');
       const { SyncMap } = require(workerData.gomap);
       const v = SyncMap.attach(workerData.handle);
       v.set('from-worker', 'ok');
       const w = SyncMap.attach(workerData.repaired);
       w.set('k5', 'from-worker');
       parentPort.postMessage(v.get('from-worker') + ' ' + w.get('k5'));`,
      { handle: other.handle, repaired: m.handle },
    ),
  ).toBe('ok from-worker');
  expect(m.get('k5')).toBe('from-worker');

  // The dead thread no longer pins: reclamation drains.
  expect(await until(() => n.syncTestingCollect!() === 0, 10_000)).toBe(true);
  m.close();
  other.close();
});
