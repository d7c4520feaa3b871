/**
 * The watcher of a SyncMap shared memory (WebAssembly engine): how the threads of a
 * memory learn that one of them died, since a terminated worker runs no JS afterwards.
 *
 * Why: `worker.terminate()` stops a worker's wasm code at any function entry or loop
 * back-edge, with whatever it holds: a map's write lock, the heap lock, an epoch pin
 * (native/wasm/thread_liveness.cc). The lock words record their owner's id and waiters
 * look, every 20 ms, whether that owner is marked dead (native/core/lock.h); something
 * outside the dead thread must mark it.
 *
 * How: Node closes a MessagePort when the thread that owns it ends, terminated or not,
 * and the peer port gets 'close' in its own thread (verified on Node 20 with a worker
 * terminated while it spins). So every thread of a memory makes a MessageChannel, keeps
 * one end (unref()'d, so it keeps nothing alive) and sends the other to the watcher with
 * its id. The watcher is an internal worker (unref()'d) that instantiates the module
 * over the memory like any thread; on a port's 'close' it calls
 * `gomap_sync_release_dead(id)`: the id is marked dead (its locks are broken: the waiters
 * stop waiting), its EBR record stops pinning, its Thread and stack are freed.
 *
 * One watcher per memory, found through word {@link WATCHER_WORD} of the memory: its
 * threadId (> 0), -1 while a thread starts one, 0 none. Ports reach it with
 * `postMessageToThread` (any thread to any thread). The first thread that finds no
 * watcher starts one. A worker's children die with it, so when the watcher's starter dies
 * the watcher dies too: every surviving thread's kept port then gets 'close', and each
 * of them clears the word and registers again, the first one starting a new watcher.
 * A thread that dies in that gap (or before its registration arrived) is not seen: what
 * it held stays held (limit, documented in README, Engines).
 *
 * @module
 */
import { isMainThread, MessageChannel, type MessagePort, postMessageToThread, receiveMessageOnPort, Worker } from 'node:worker_threads';

/** Int32 index (byte 16) of the memory's watcher word (below the module's data at 1024). */
export const WATCHER_WORD = 4;
/** How long a thread lets another one start the watcher before it takes over. */
const START_WAIT_MS = 5_000;
/** How long a registration may take before it is tried again. */
const SEND_TIMEOUT_MS = 5_000;
/** How long a worker waits for the watcher's answer before its first call (see watch). */
const ACK_WAIT_MS = 2_000;

/** What the watcher needs to know of a thread of a memory. */
export interface WatchedThread {
  readonly memory: { readonly buffer: SharedArrayBuffer };
  readonly module: object;
  readonly stackBytes: number;
  /** The thread's id in the memory (changes when it renews after a trap). */
  self: number;
  /** The kept end of its current registration. */
  port: MessagePort | null;
}

/** The watcher itself: plain JS (a worker with eval), self-contained. */
const WATCHER_SOURCE = `
'use strict';
const { workerData, parentPort, threadId } = require('node:worker_threads');
const { module, memory, stackBytes } = workerData;
const x = new WebAssembly.Instance(module, { env: { memory } }).exports;
const words = new Int32Array(memory.buffer, 0, 1024);
const lock = x.gomap_sync_boot_lock() >>> 2;
const deadline = Date.now() + 10000;
while (Atomics.compareExchange(words, lock, 0, 1) !== 0) {
  if (Date.now() > deadline) throw new Error('SyncMap watcher: the boot lock stayed taken');
  Atomics.wait(words, lock, 1, 50);
}
let top;
try {
  top = x.gomap_sync_stack(stackBytes, 0);
} finally {
  Atomics.store(words, lock, 0);
  Atomics.notify(words, lock, 1);
}
if (top === 0) throw new Error('SyncMap watcher: out of memory');
x.__stack_pointer.value = top;
process.on('workerMessage', (msg) => {
  const { id, port } = msg;
  port.on('close', () => {
    try {
      x.gomap_sync_release_dead(id);
    } catch {
      x.__stack_pointer.value = top; // a trap (EBR's shared list broken): nothing more to do
    }
  });
  port.on('message', () => {});
  port.postMessage('watched');
});
Atomics.store(words, ${WATCHER_WORD}, threadId);
parentPort.postMessage('ready');
setInterval(() => {}, 2 ** 30);
`;

/**
 * Registers thread `t` with its memory's watcher (starting one if there is none). A
 * worker then waits (at most {@link ACK_WAIT_MS}) until the watcher has its port: one
 * terminated before that would not be seen, pinned or holding a lock. (The main thread
 * does not wait: it ends only with the process, and delivering the registration may
 * need its event loop.)
 */
export function watch(t: WatchedThread): void {
  const { port1, port2 } = new MessageChannel();
  t.port = port1;
  const words = new Int32Array(t.memory.buffer, 0, 8);
  port1.on('close', () => {
    if (t.port !== port1) return; // a later registration replaced this one
    // The watcher died (its starter was terminated): clear its word and register anew.
    const tid = Atomics.load(words, WATCHER_WORD);
    if (tid > 0) Atomics.compareExchange(words, WATCHER_WORD, tid, 0);
    watch(t);
  });
  port1.unref();
  // Waits only when the registration left now (not when a watcher is being started:
  // that takes this thread's event loop).
  if (send(t, port1, port2, words, Date.now()) && !isMainThread) awaitAck(port1);
}

function awaitAck(port: MessagePort): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + ACK_WAIT_MS;
  while (receiveMessageOnPort(port) === undefined && Date.now() < deadline) Atomics.wait(sleeper, 0, 0, 2);
}

/** Sends the registration, or tries again later; true when it was posted now. */
function send(t: WatchedThread, kept: MessagePort, port: MessagePort, words: Int32Array, since: number): boolean {
  if (t.port !== kept) return false;
  const tid = Atomics.load(words, WATCHER_WORD);
  if (tid > 0) {
    postMessageToThread(tid, { id: t.self, port }, [port], SEND_TIMEOUT_MS).catch(() => {
      // The watcher is gone (or never answered): clear its word and register anew.
      Atomics.compareExchange(words, WATCHER_WORD, tid, 0);
      if (t.port === kept) watch(t);
    });
    return true;
  }
  if (tid === 0 && Atomics.compareExchange(words, WATCHER_WORD, 0, -1) === 0) {
    start(t, words);
  } else if (tid === -1 && Date.now() - since > START_WAIT_MS) {
    Atomics.compareExchange(words, WATCHER_WORD, -1, 0); // its starter died while starting it
  }
  setTimeout(() => send(t, kept, port, words, since), 10).unref();
  return false;
}

function start(t: WatchedThread, words: Int32Array): void {
  let w: Worker;
  try {
    w = new Worker(WATCHER_SOURCE, { eval: true, workerData: { module: t.module, memory: t.memory, stackBytes: t.stackBytes } });
  } catch {
    Atomics.compareExchange(words, WATCHER_WORD, -1, 0);
    return;
  }
  const tid = w.threadId;
  w.unref();
  w.on('error', () => {
    Atomics.compareExchange(words, WATCHER_WORD, -1, 0);
  });
  w.on('exit', () => {
    Atomics.compareExchange(words, WATCHER_WORD, tid, 0);
  });
}
