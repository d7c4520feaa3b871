/**
 * SyncMap views report the shared map's native bytes to V8 (napi_adjust_external_memory),
 * as GoMap does, so a dropped view of a big map is collected promptly. V8's count (of the
 * calling thread's isolate) is read through the addon's testing hook (GOMAP_TESTING=1,
 * set before the addon loads: vitest runs each file in its own process); Node 20's
 * `process.memoryUsage().external` does not include it. Reports move in 1 MiB steps; the
 * checks allow two steps of slack.
 */
import * as v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import * as vm from 'node:vm';
import { expect, it } from 'vitest';

process.env.GOMAP_TESTING = '1';
const { SyncMap } = await import('../lib/index.ts');
const { syncBinding } = await import('../lib/sync-binding.ts');
const { describeEachBackend } = await import('./helpers/backends.ts');
const { firstMessage, startWorker } = await import('./helpers/sync-workers.ts');
type SyncMapT<K, V> = InstanceType<typeof SyncMap<K, V>>;

v8.setFlagsFromString('--expose-gc');
const gcNow = vm.runInNewContext('gc') as () => void;

const STEP = 1 << 20;
const ADDON = fileURLToPath(new URL('../build/Release/gomap.node', import.meta.url));
const external = (): number => syncBinding!.syncTestingExternalMemory!();

async function collect(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    gcNow();
    await new Promise((r) => setImmediate(r));
  }
}

/** A map of about 6 MB of native memory. */
function bigMap(): SyncMapT<number, string> {
  const m = new SyncMap<number, string>({ key: 'f64', value: 'string' });
  const pairs: [number, string][] = [];
  for (let i = 0; i < 20000; i++) pairs.push([i, `value ${i} `.padEnd(250, '.')]);
  m.setMany(pairs);
  return m;
}

function expectNear(actual: number, expected: number, what: string): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(2 * STEP);
}

describeEachBackend('SyncMap native memory reported to V8', () => {
  it('each view reports the map once; close takes it back exactly once', () => {
    const base = external();
    const m = bigMap();
    const bytes = m.stats().bytes;
    expect(bytes).toBeGreaterThan(5 * STEP);
    expectNear(external() - base, bytes, 'one view');
    const other = SyncMap.attach<number, string>(m.handle); // keeps the whole map alive too
    expectNear(external() - base, 2 * bytes, 'two views');
    other.close();
    expectNear(external() - base, bytes, 'second view closed');
    other.close(); // closed already: nothing taken back twice
    expectNear(external() - base, bytes, 'closed twice');
    m.clear();
    m.set(1, 'x');
    expectNear(external() - base, 0, 'cleared');
    expect(external() - base).toBeGreaterThan(-2 * STEP);
    m.close();
    expectNear(external() - base, 0, 'closed');
  });

  it('a dropped view of a big map is collected and its report taken back', async () => {
    const base = external();
    (() => {
      bigMap();
    })();
    expect(external() - base).toBeGreaterThan(4 * STEP);
    await collect();
    expectNear(external() - base, 0, 'collected');
  });

  it('a worker reports in its own isolate, and its termination calls nothing after its env is gone', async () => {
    const m = bigMap();
    const bytes = m.stats().bytes;
    const w = startWorker(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      const { SyncMap } = require(workerData.gomap);
      const n = require(workerData.addon); // the addon the façade loaded (require's cache)
      const before = n.syncTestingExternalMemory();
      const v = SyncMap.attach(workerData.handle);
      parentPort.postMessage(n.syncTestingExternalMemory() - before);
      setInterval(() => v.set(Math.random(), 'y'), 1);
    `,
      { handle: m.handle, addon: ADDON },
    );
    const reported = await firstMessage<number>(w);
    expectNear(reported, bytes, 'worker view');
    await w.terminate();
    m.set(-1, 'still works');
    expect(m.get(-1)).toBe('still works');
    m.close();
  });
});
