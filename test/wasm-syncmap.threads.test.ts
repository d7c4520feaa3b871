/**
 * Threads of a SyncMap memory that end (WebAssembly engine) give back what they took in
 * the shared memory.
 * - Normally: a worker that attaches, writes and exits releases its views, Thread, buffers
 *   and epoch record at its process 'exit'; its stack (256 KiB, which it runs on until
 *   then) goes when the watcher sees its thread gone (native/wasm/thread_liveness.cc,
 *   markGone). Without that, every worker that ever attached kept 4 pages for good.
 * - Terminated: the watcher gives back the references of its views and iterators from
 *   the list the module keeps per thread (native/wasm/holdings.h). Without that, a map a
 *   terminated worker had viewed was never freed.
 *
 * Runs in the 'wasm' vitest project only (native threads have native stacks).
 */
import { expect, it } from 'vitest';
import { SyncMap } from '../lib/index.ts';
import { syncBinding } from '../lib/sync-binding.ts';
import { allExited, firstMessage, startWorker, until } from './helpers/sync-workers.ts';

const WAVES = 6;
const PER_WAVE = 6;
const STACK_PAGES = 4; // 256 KiB stacks of 64 KiB pages

const WORKER = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { SyncMap } = require(workerData.gomap);
  const m = SyncMap.attach(workerData.handle);
  for (let i = 0; i < 100; i++) m.set('w' + workerData.id + ':' + i, i);
  parentPort.postMessage('written');
`;

it('workers that attach and exit normally give their stacks back: waves of them stop growing the memory', async () => {
  const n = syncBinding!;
  const m = new SyncMap<string, number>({ key: 'string', value: 'f64' });
  const pagesAfter: number[] = [];
  for (let wave = 0; wave < WAVES; wave++) {
    const workers = Array.from({ length: PER_WAVE }, (_, i) => startWorker(WORKER, { handle: m.handle, id: wave * PER_WAVE + i }));
    const exited = allExited(workers);
    await Promise.all(workers.map((w) => firstMessage<string>(w)));
    await exited;
    await new Promise((r) => setTimeout(r, 300)); // the watcher frees a stack when it sees the thread go
    pagesAfter.push(n.syncLiveHandles().heapPages!);
  }
  expect(m.size).toBe(WAVES * PER_WAVE * 100);
  // Each wave reuses the stacks the previous one gave back. (Without that, each wave would
  // add PER_WAVE * STACK_PAGES pages; one late release may cost one wave's worth.)
  expect(pagesAfter[WAVES - 1]! - pagesAfter[1]!).toBeLessThanOrEqual(PER_WAVE * STACK_PAGES);
  m.close();
});

it("a terminated worker's views and iterators are given back: a map or shared GoCache only it viewed is freed, and so is a shared map after the last other view closes", async () => {
  const n = syncBinding!;
  const m = new SyncMap<string, number>({ key: 'string', value: 'f64' });
  for (let i = 0; i < 1000; i++) m.set(`k${i}`, i);
  const before = n.syncLiveHandles().maps; // m, and whatever this file left open
  const w = startWorker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const { GoCache, SyncMap } = require(workerData.gomap);
    const shared = SyncMap.attach(workerData.handle);
    const it = shared.entries();
    it.next(); // an unfinished iterator of the shared map
    const own = new SyncMap({ key: 'string', value: 'f64' }); // in the same memory: this thread's home
    own.set('x', 1);
    own.keys().next(); // and one of its own map
    const cache = new GoCache({ shared: true, key: 'string', value: 'f64', max: 10 }); // a shared cache only it views
    cache.set('c', 1);
    parentPort.postMessage('holding');
    for (;;) {} // until terminated
  `,
    { handle: m.handle },
  );
  await firstMessage<string>(w);
  expect(n.syncLiveHandles().maps).toBe(before + 2); // its own map and cache are there too
  await w.terminate();
  // The watcher releases the dead thread's holdings when it sees the thread gone.
  await until(() => n.syncLiveHandles().maps === before, 5000);
  expect(n.syncLiveHandles().maps).toBe(before); // its own map and cache are freed
  expect(m.get('k5')).toBe(5);
  m.close(); // the last view: the shared map goes too (the dead worker's view and iterator no longer hold it)
  expect(n.syncLiveHandles().maps).toBe(before - 1);
});
