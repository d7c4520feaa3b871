/**
 * worker_threads for the SyncMap tests.
 *
 * A worker cannot import the TypeScript sources (Node 20 has no type stripping, and
 * vitest's transform only runs in the test's own thread), so the façade is bundled once
 * per test process with esbuild into build/vitest/gomap-<pid>.cjs. The bundle finds the
 * package root (and so build/Release/gomap.node) the same way the published package
 * does. Worker code is CommonJS text: `require(workerData.gomap)` gives the public API.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let bundlePath: string | undefined;

/** The path of a CommonJS bundle of lib/index.ts that workers can require. */
export function facadeBundle(): string {
  bundlePath ??= bundle('index.ts', 'gomap');
  return bundlePath;
}

let bindingPath: string | undefined;
/**
 * A CommonJS bundle of the raw SyncMap binding (lib/sync-binding.ts), for workers that
 * call its testing hooks (GOMAP_TESTING=1 in the environment when it loads).
 */
export function syncBindingBundle(): string {
  bindingPath ??= bundle('sync-binding.ts', 'sync-binding');
  return bindingPath;
}

/** Bundles lib/`entry` into build/vitest (removed when this process exits). */
function bundle(entry: string, name: string): string {
  const out = join(ROOT, 'build', 'vitest', `${name}-${process.pid}.cjs`);
  mkdirSync(dirname(out), { recursive: true });
  buildSync({
    entryPoints: [join(ROOT, 'lib', entry)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: out,
    logLevel: 'error',
  });
  process.once('exit', () => rmSync(out, { force: true }));
  return out;
}

/** A worker running CommonJS `code`, with `workerData.gomap` the façade bundle's path. */
export function startWorker(code: string, data: Record<string, unknown> = {}): Worker {
  return new Worker(code, { eval: true, workerData: { ...data, gomap: facadeBundle() } });
}

/** The first message of a worker (rejects on an error or an exit before it). */
export function firstMessage<T>(w: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number): void => reject(new Error(`worker exited with code ${code} before replying`));
    w.once('message', (m: T) => {
      w.off('exit', onExit);
      resolve(m);
    });
    w.once('error', reject);
    w.once('exit', onExit);
  });
}

/** Runs `code` in a worker and returns the message it posts (then waits for its exit). */
export async function runInWorker<T>(code: string, data: Record<string, unknown> = {}): Promise<T> {
  const w = startWorker(code, data);
  const exited = new Promise((resolve) => w.once('exit', resolve));
  const result = await firstMessage<T>(w);
  await exited;
  return result;
}

/** Resolves when every worker has exited (their environments' clean-up has run). */
export function allExited(workers: readonly Worker[]): Promise<unknown> {
  return Promise.all(workers.map((w) => (w.threadId === -1 ? Promise.resolve() : new Promise((r) => w.once('exit', r)))));
}

/**
 * Worker code (CommonJS text, after `workerData` is in scope) defining `barrier()`: the
 * worker checks in at the gate `workerData.gate` (from {@link makeGate}) and waits until
 * the test opens it. Without a gate, barrier() returns at once.
 */
export const WORKER_BARRIER = `
  const gate = workerData.gate ? new Int32Array(workerData.gate) : null;
  function barrier() {
    if (!gate) return;
    Atomics.add(gate, 0, 1);
    Atomics.notify(gate, 0);
    while (Atomics.load(gate, 1) === 0) Atomics.wait(gate, 1, 0, 50);
  }
`;

/** A barrier for `n` workers (pass `gate` as workerData.gate): they wait until this thread opens it. */
export function makeGate(): { gate: SharedArrayBuffer; openWhen: (n: number) => Promise<void> } {
  const gate = new SharedArrayBuffer(8);
  const cells = new Int32Array(gate);
  return {
    gate,
    async openWhen(n: number) {
      while (Atomics.load(cells, 0) < n) await new Promise((r) => setTimeout(r, 1));
      Atomics.store(cells, 1, 1);
      Atomics.notify(cells, 1);
    },
  };
}

/** Polls `cond` (between event-loop turns) until it holds or `ms` pass; whether it held. */
export async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
