/**
 * GoCache.fetch (API.md): one loader call per key however many callers wait; a rejected
 * load caches nothing and rejects every waiter; deleting the key or clearing the cache
 * aborts the load through its AbortSignal.
 */
import { expect, it } from 'vitest';
import { GoCache } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describeEachBackend('GoCache: fetch', () => {
  it('calls the loader once per key for concurrent callers, then serves from the cache', async () => {
    const calls: string[] = [];
    const gates = new Map<string, Deferred<string>>();
    const c = new GoCache<string, string>({
      max: 100,
      key: 'string',
      value: 'string',
      fetch: (k) => {
        calls.push(k);
        const d = deferred<string>();
        gates.set(k, d);
        return d.promise;
      },
    });
    const waiting = [c.fetch('a'), c.fetch('a'), c.fetch('b'), c.fetch('a')];
    await Promise.resolve();
    expect(calls).toEqual(['a', 'b']);
    gates.get('a')!.resolve('A');
    gates.get('b')!.resolve('B');
    expect(await Promise.all(waiting)).toEqual(['A', 'A', 'B', 'A']);
    expect(c.get('a')).toBe('A');
    expect(await c.fetch('b')).toBe('B');
    expect(calls).toEqual(['a', 'b']);
    c.close();
  });

  it('a rejected load caches nothing and rejects every waiter with the loader error', async () => {
    let calls = 0;
    const failure = new Error('backend down');
    const c = new GoCache<number, string>({
      max: 10,
      key: 'f64',
      value: 'string',
      fetch: async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 5));
        throw failure;
      },
    });
    const results = await Promise.allSettled([c.fetch(1), c.fetch(1), c.fetch(1)]);
    expect(calls).toBe(1);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBe(failure);
    }
    expect(c.has(1)).toBe(false);
    expect(c.size).toBe(0);
    // The next fetch tries again.
    await expect(c.fetch(1)).rejects.toBe(failure);
    expect(calls).toBe(2);
    c.close();
  });

  it('a loader that throws synchronously rejects too', async () => {
    const c = new GoCache<string, string>({
      max: 10,
      key: 'string',
      value: 'string',
      fetch: () => {
        throw new TypeError('sync');
      },
    });
    await expect(c.fetch('x')).rejects.toThrow('sync');
    c.close();
  });

  it('delete aborts a running load; its waiters reject and nothing is cached', async () => {
    const gate = deferred<string>();
    let signal: AbortSignal | undefined;
    const c = new GoCache<string, string>({
      max: 10,
      key: 'string',
      value: 'string',
      fetch: (_k, ctx) => {
        signal = ctx.signal;
        return gate.promise;
      },
    });
    const p = c.fetch('k');
    await Promise.resolve();
    expect(signal?.aborted).toBe(false);
    c.delete('k');
    expect(signal?.aborted).toBe(true);
    gate.resolve('late');
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(c.has('k')).toBe(false);
    c.close();
  });

  it('clear aborts every running load', async () => {
    const signals: AbortSignal[] = [];
    const c = new GoCache<number, number>({
      max: 10,
      key: 'f64',
      value: 'f64',
      fetch: (_k, { signal }) => {
        signals.push(signal);
        return new Promise<number>((_res, rej) => signal.addEventListener('abort', () => rej(signal.reason)));
      },
    });
    const ps = [c.fetch(1), c.fetch(2)];
    await Promise.resolve();
    c.clear();
    expect(signals.every((s) => s.aborted)).toBe(true);
    for (const r of await Promise.allSettled(ps)) expect(r.status).toBe('rejected');
    c.close();
  });

  it('bytes keys share a load by content; without a loader fetch is get', async () => {
    let calls = 0;
    const c = new GoCache<Uint8Array, number>({
      max: 10,
      key: 'bytes',
      value: 'f64',
      fetch: async () => {
        calls++;
        return 42;
      },
    });
    const [a, b] = await Promise.all([c.fetch(new Uint8Array([1, 2])), c.fetch(Buffer.from([1, 2]))]);
    expect([a, b, calls]).toEqual([42, 42, 1]);
    c.close();
    const plain = new GoCache<string, string>({ max: 1, key: 'string', value: 'string' });
    plain.set('a', 'b');
    expect(await plain.fetch('a')).toBe('b');
    expect(await plain.fetch('z')).toBeUndefined();
    plain.close();
  });

  it('fetch with a key of the wrong kind rejects with TypeError', async () => {
    const c = new GoCache<string, string>({ max: 1, key: 'string', value: 'string', fetch: async () => 'x' });
    await expect(c.fetch(1 as never)).rejects.toThrow(TypeError);
    c.close();
  });
});
