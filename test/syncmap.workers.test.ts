/**
 * SyncMap across worker_threads: one native map, many threads (API.md "SyncMap").
 *
 * Workers load the façade from a CommonJS bundle (helpers/sync-workers.ts) and the same
 * build/Release/gomap.node as this thread. Threads start their racing parts together on
 * a SharedArrayBuffer barrier; nothing here measures time.
 */
import { expect, it } from 'vitest';
import { SyncMap } from '../lib/index.ts';
import { syncBinding } from '../lib/sync-binding.ts';
import { describeEachBackend } from './helpers/backends.ts';
import { spawnSync } from 'node:child_process';
import { allExited, facadeBundle, firstMessage, makeGate, runInWorker, startWorker, WORKER_BARRIER } from './helpers/sync-workers.ts';

/** Worker prelude: the façade, the handle, and a barrier every thread waits at. */
const PRELUDE = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { SyncMap } = require(workerData.gomap);
  ${WORKER_BARRIER}
`;

describeEachBackend('SyncMap across worker threads', () => {
  it('disjoint writers, then every thread sees every entry', async () => {
    const m = new SyncMap<string, bigint>({ key: 'string', value: 'i64' });
    const W = 4;
    const N = 5000;
    const { gate, openWhen } = makeGate();
    const code = `${PRELUDE}
      const m = SyncMap.attach(workerData.handle);
      barrier();
      for (let i = 0; i < ${N}; i++) m.set('w' + workerData.id + ':' + i, BigInt(i * ${W} + workerData.id));
      parentPort.postMessage('written');
      parentPort.once('message', () => {
        let bad = 0;
        for (let w = 0; w < ${W}; w++) for (let i = 0; i < ${N}; i++) if (m.get('w' + w + ':' + i) !== BigInt(i * ${W} + w)) bad++;
        parentPort.postMessage({ bad, size: m.size });
        m.close();
      });
    `;
    const workers = Array.from({ length: W }, (_, id) => startWorker(code, { handle: m.handle, id, gate }));
    const exited = allExited(workers);
    const written = workers.map((w) => firstMessage<string>(w));
    await openWhen(W);
    await Promise.all(written);
    expect(m.size).toBe(W * N);
    for (let w = 0; w < W; w++) for (let i = 0; i < N; i += 7) expect(m.get(`w${w}:${i}`)).toBe(BigInt(i * W + w));
    const checks = workers.map((w) => firstMessage<{ bad: number; size: number }>(w));
    for (const w of workers) w.postMessage('check');
    for (const c of await Promise.all(checks)) expect(c).toEqual({ bad: 0, size: W * N });
    await exited;
    m.close();
  });

  it('a counter compareAndSwap-incremented 20,000 times per worker adds up exactly', async () => {
    const m = new SyncMap<string, bigint>({ key: 'string', value: 'i64' });
    m.set('counter', 0n);
    const W = 3;
    const { gate, openWhen } = makeGate();
    const code = `${PRELUDE}
      const m = SyncMap.attach(workerData.handle);
      barrier();
      let retries = 0;
      for (let i = 0; i < 20000; i++) {
        for (;;) {
          const cur = m.get('counter');
          if (m.compareAndSwap('counter', cur, cur + 1n)) break;
          retries++;
        }
      }
      parentPort.postMessage(retries);
    `;
    const workers = Array.from({ length: W }, () => startWorker(code, { handle: m.handle, gate }));
    const exited = allExited(workers);
    const done = workers.map((w) => firstMessage<number>(w));
    await openWhen(W);
    await Promise.all(done);
    await exited;
    expect(m.get('counter')).toBe(BigInt(W * 20000));
    m.close();
  });

  it('loadOrStore races have exactly one winner per key, and every worker agrees on it', async () => {
    const m = new SyncMap<number, string>({ key: 'f64', value: 'string' });
    const W = 3;
    const N = 3000;
    const { gate, openWhen } = makeGate();
    const code = `${PRELUDE}
      const m = SyncMap.attach(workerData.handle);
      const values = [];
      const won = [];
      barrier();
      for (let i = 0; i < ${N}; i++) {
        const r = m.loadOrStore(i, 'worker ' + workerData.id + ' wins key ' + i);
        values.push(r.value);
        if (!r.loaded) won.push(i);
      }
      parentPort.postMessage({ values, won });
    `;
    const workers = Array.from({ length: W }, (_, id) => startWorker(code, { handle: m.handle, id, gate }));
    const exited = allExited(workers);
    const results = workers.map((w) => firstMessage<{ values: string[]; won: number[] }>(w));
    await openWhen(W);
    const all = await Promise.all(results);
    await exited;
    const winners = new Map<number, number>();
    all.forEach((r, w) => {
      for (const k of r.won) {
        expect(winners.has(k), `key ${k} won twice`).toBe(false);
        winners.set(k, w);
      }
    });
    expect(winners.size).toBe(N);
    for (let i = 0; i < N; i++) {
      const expected = `worker ${winners.get(i)} wins key ${i}`;
      expect(m.get(i)).toBe(expected);
      for (const r of all) expect(r.values[i]).toBe(expected);
    }
    m.close();
  });

  it('readers racing a writer that grows the table never see a value never written for that key', async () => {
    const m = new SyncMap<string, string>({ key: 'string', value: 'string' });
    const N = 30000;
    const { gate, openWhen } = makeGate();
    // key i is only ever given first(i), then second(i); long values live out of line
    const shared = `
      const key = (i) => (i % 3 ? 'k' + i : 'a key long enough to be boxed #' + i);
      const first = (i) => 'first:' + i + ':' + 'x'.repeat(i % 40);
      const second = (i) => 'second:' + i;
    `;
    const writer = `${PRELUDE}${shared}
      const m = SyncMap.attach(workerData.handle);
      barrier();
      for (let i = 0; i < ${N}; i++) {
        m.set(key(i), first(i));
        if (i % 2) m.set(key(i >> 1), second(i >> 1));
        if (i % 5 === 0) m.delete(key(i >> 2));
      }
      parentPort.postMessage('done');
    `;
    const reader = `${PRELUDE}${shared}
      const m = SyncMap.attach(workerData.handle);
      const flag = new Int32Array(workerData.stop);
      barrier();
      let bad = [], reads = 0, hits = 0, iterations = 0;
      let x = workerData.id * 7919;
      while (Atomics.load(flag, 0) === 0 || reads < 1000) {
        x = (x * 1103515245 + 12345) % 2147483648;
        const i = x % ${N};
        const v = m.get(key(i));
        reads++;
        if (v !== undefined) { hits++; if (v !== first(i) && v !== second(i)) bad.push([i, v]); }
        if (workerData.iterate && reads % 5000 === 0) {
          const seen = new Set();
          for (const [k, val] of m) {
            if (seen.has(k)) bad.push(['twice', k]);
            seen.add(k);
            const j = Number(k.slice(k.lastIndexOf(k.includes('#') ? '#' : 'k') + 1));
            if (key(j) !== k || (val !== first(j) && val !== second(j))) bad.push([k, val]);
          }
          iterations++;
        }
      }
      parentPort.postMessage({ bad: bad.slice(0, 5), nBad: bad.length, reads, hits, iterations });
    `;
    const stop = new SharedArrayBuffer(4);
    const w = startWorker(writer, { handle: m.handle, gate });
    const readers = [0, 1].map((id) => startWorker(reader, { handle: m.handle, gate, stop, id, iterate: id === 1 }));
    const exited = allExited([w, ...readers]);
    const writerDone = firstMessage<string>(w);
    const readerResults = readers.map((r) => firstMessage<{ bad: unknown[]; nBad: number; reads: number; hits: number; iterations: number }>(r));
    await openWhen(3);
    await writerDone;
    Atomics.store(new Int32Array(stop), 0, 1);
    const results = await Promise.all(readerResults);
    await exited;
    for (const r of results) {
      expect(r.bad).toEqual([]);
      expect(r.nBad).toBe(0);
      expect(r.reads).toBeGreaterThanOrEqual(1000);
    }
    expect(m.size).toBeGreaterThan(N / 2);
    expect(m.stats().grows).toBeGreaterThan(5); // the table really grew under the readers
    m.close();
  });

  it('a worker terminated mid-read or mid-iteration leaves the map working; a fresh worker can attach and write', async () => {
    const n = syncBinding!;
    const m = new SyncMap<number, number>({ key: 'f64', value: 'f64' });
    for (let i = 0; i < 20000; i++) m.set(i, i);
    const before = n.syncLiveHandles().maps;
    const busy = `${PRELUDE}
      const m = SyncMap.attach(workerData.handle);
      let sent = false, sum = 0;
      for (let round = 0; ; round++) {
        if (workerData.iterate) {
          const it = m.entries();
          for (let j = 0; j < 5000; j++) { const r = it.next(); if (r.done) break; sum += r.value[1]; }
          // the iterator is left open: terminate() finds it mid-iteration
        } else {
          for (let i = 0; i < 1000; i++) sum += m.get(i) ?? 0;
          m.set(20000 + (round % 1000), round);
        }
        if (!sent && round > 3) { parentPort.postMessage('busy'); sent = true; }
      }
    `;
    for (const iterate of [false, true, false, true]) {
      const w = startWorker(busy, { handle: m.handle, iterate });
      await firstMessage<string>(w);
      await w.terminate();
    }
    // the terminated workers' views were released by their environments' clean-up
    expect(n.syncLiveHandles().maps).toBe(before);
    m.set(-1, -1);
    expect(m.get(-1)).toBe(-1);
    for (let i = 0; i < 20000; i += 97) expect(m.get(i)).toBe(i);
    const fresh = await runInWorker<number>(
      `${PRELUDE}
      const m = SyncMap.attach(workerData.handle);
      for (let i = 0; i < 1000; i++) m.set(100000 + i, i);
      parentPort.postMessage(m.get(-1));
      m.close();
    `,
      { handle: m.handle },
    );
    expect(fresh).toBe(-1);
    for (let i = 0; i < 1000; i++) expect(m.get(100000 + i)).toBe(i);
    // Deletes after the terminations retire memory; the terminated workers' EBR records
    // were unregistered, so reclamation keeps up (a stalled record would keep every one
    // of the 60,000 retired objects).
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20000; i++) m.delete(i);
      for (let i = 0; i < 20000; i++) m.set(i, -i);
    }
    expect(m.get(5)).toBe(-5);
    expect(n.syncLiveHandles().retired).toBeLessThan(20000);
    m.close();
  });

  it('the map outlives the thread that created it (created in a worker, closed there, used here)', async () => {
    const n = syncBinding!;
    const before = n.syncLiveHandles().maps;
    for (const how of ['close', 'exit'] as const) {
      const w = startWorker(
        `${PRELUDE}
        const m = new SyncMap({ key: 'i64', value: 'json' });
        for (let i = 0n; i < 1000n; i++) m.set(i, { i: Number(i), from: 'worker' });
        parentPort.postMessage(m.handle);
        parentPort.once('message', () => {
          if (workerData.how === 'close') m.close(); // else: the worker exits with the view open
          parentPort.postMessage('released');
        });
      `,
        { how },
      );
      const exited = new Promise((r) => w.once('exit', r));
      const handle = await firstMessage<Parameters<typeof SyncMap.attach>[0]>(w);
      const m = SyncMap.attach<bigint, { i: number; from: string }>(handle);
      const released = firstMessage<string>(w);
      w.postMessage('attached');
      await released;
      await exited;
      expect(m.size).toBe(1000);
      expect(m.get(999n)).toEqual({ i: 999, from: 'worker' });
      m.set(5000n, { i: 5000, from: 'main' });
      expect(m.get(5000n)).toEqual({ i: 5000, from: 'main' });
      expect(n.syncLiveHandles().maps).toBe(before + 1);
      m.close();
      expect(n.syncLiveHandles().maps).toBe(before);
      expect(() => SyncMap.attach(handle)).toThrow(expect.objectContaining({ code: 'ERR_GOMAP_CLOSED' }) as Error);
    }
  });

  it('process.exit while workers read, write and iterate a shared map exits cleanly', () => {
    const script = `
      const { Worker } = require('node:worker_threads');
      const { SyncMap } = require(${JSON.stringify(facadeBundle())});
      const m = new SyncMap({ key: 'string', value: 'string' });
      for (let i = 0; i < 10000; i++) m.set('k' + i, 'v' + i);
      const code = \`
        const { parentPort, workerData } = require('node:worker_threads');
        const { SyncMap } = require(workerData.gomap);
        const m = SyncMap.attach(workerData.handle);
        parentPort.postMessage('go');
        for (let i = 0; ; i++) {
          m.get('k' + (i % 10000));
          if (i % 3 === 0) m.set('k' + (i % 20000), 'x' + i);
          if (i % 1000 === 0) for (const e of m) if (e[0] === 'k5') break;
        }
      \`;
      let ready = 0;
      for (let w = 0; w < 3; w++) {
        const worker = new Worker(code, { eval: true, workerData: { gomap: ${JSON.stringify(facadeBundle())}, handle: m.handle } });
        worker.once('message', () => { if (++ready === 3) setImmediate(() => process.exit(3)); });
      }
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.signal).toBeNull();
    expect(r.status).toBe(3);
  });

  it('an iteration held across turns of the event loop, while a worker grows and churns the table, produces every stable entry exactly once', async () => {
    const m = new SyncMap<number, number>({ key: 'f64', value: 'f64' });
    const STABLE = 5000;
    for (let i = 0; i < STABLE; i++) m.set(i, i);
    const stop = new SharedArrayBuffer(8); // [stop flag, writer progress]
    const cells = new Int32Array(stop);
    const w = startWorker(
      `${PRELUDE}
      const m = SyncMap.attach(workerData.handle);
      const cells = new Int32Array(workerData.stop);
      parentPort.postMessage('churning');
      let i = 0;
      while (Atomics.load(cells, 0) === 0 || i < 60000) {
        // a bounded key set (the iteration must be able to catch up): the table grows
        // to ~45,000 entries, then keeps churning
        const k = 1e6 + (i % 40000);
        m.set(k, k * 2);
        if (i % 3 === 0) m.delete(1e6 + ((i * 7919) % 40000));
        if (++i % 64 === 0) Atomics.add(cells, 1, 1);
      }
      parentPort.postMessage(i);
    `,
      { handle: m.handle, stop },
    );
    const exited = new Promise((r) => w.once('exit', r));
    await firstMessage<string>(w);
    const seen = new Map<number, number>();
    const bad: unknown[] = [];
    let n = 0;
    for (const [k, v] of m) {
      seen.set(k, (seen.get(k) ?? 0) + 1);
      if (k < STABLE ? v !== k : v !== k * 2) bad.push([k, v]);
      if (++n % 50 === 0) {
        // the worker writes between every two steps of this iteration
        const progress = Atomics.load(cells, 1);
        while (Atomics.load(cells, 1) === progress) await new Promise((r) => setImmediate(r));
      }
    }
    const done = firstMessage<number>(w);
    Atomics.store(cells, 0, 1);
    const churned = await done;
    await exited;
    expect(bad).toEqual([]);
    for (let i = 0; i < STABLE; i++) if (seen.get(i) !== 1) throw new Error(`stable key ${i} produced ${seen.get(i) ?? 0} times`);
    for (const [k, c] of seen) if (c !== 1) throw new Error(`key ${k} produced ${c} times`);
    expect(churned).toBeGreaterThanOrEqual(60000);
    expect(m.stats().grows).toBeGreaterThan(0);
    m.close();
  });
});
