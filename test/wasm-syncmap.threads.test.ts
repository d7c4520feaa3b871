/**
 * Threads of a SyncMap memory that end normally (WebAssembly engine): a worker that
 * attaches, writes and exits gives back everything it took in the shared memory. Its
 * Thread, buffers and epoch record go at its process 'exit'; its stack (256 KiB, which it
 * runs on until then) goes when the watcher sees its thread gone
 * (native/wasm/thread_liveness.cc, markGone). Without that, every worker that ever
 * attached would keep 4 pages of the memory for good.
 *
 * Runs in the 'wasm' vitest project only (native threads have native stacks).
 */
import { expect, it } from 'vitest';
import { SyncMap } from '../lib/index.ts';
import { syncBinding } from '../lib/sync-binding.ts';
import { allExited, firstMessage, startWorker } from './helpers/sync-workers.ts';

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
