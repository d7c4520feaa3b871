/**
 * SyncMap under wrong input (API.md "Errors"): only TypeError, RangeError or
 * ERR_GOMAP_CLOSED, never a crash, and the map unchanged after every throw; forged,
 * stale and foreign handles refused, also by the raw binding.
 */
import { Buffer } from 'node:buffer';
import { expect, it } from 'vitest';
import { SyncMap } from '../lib/index.ts';
import { syncBinding } from '../lib/sync-binding.ts';
import { describeEachBackend, loadedBackend } from './helpers/backends.ts';
import {
  errorCode,
  expectClosed,
  expectRangeError,
  expectTypeError,
  I64_MAX,
  I64_MIN,
  isAllowedError,
  thrown,
} from './helpers/kinds.ts';

type Loose = SyncMap<unknown, unknown>;
const construct = (options: unknown): Loose => new SyncMap<unknown, unknown>(options as never);
const attachRaw = (handle: unknown): Loose => SyncMap.attach(handle as never);

const GOOD_KEY: Record<string, unknown> = { string: 'k', f64: 1, i64: 1n, bytes: Buffer.from([1]) };
const GOOD_VALUE: Record<string, unknown> = { string: 'v', f64: 1, i64: 1n, bytes: Buffer.from([1]), json: { a: 1 }, v8: new Map([[1, 2]]) };
const WRONG: unknown[] = [undefined, null, true, 'str', 1, 1n, Symbol('s'), {}, [], () => 1, new Float64Array(1), new Date(0)];

/** Whether `v` is of the kind (a value the map accepts). */
function fits(kind: string, v: unknown): boolean {
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'f64':
      return typeof v === 'number';
    case 'i64':
      return typeof v === 'bigint';
    case 'bytes':
      return v instanceof Uint8Array;
    case 'json':
      return v !== undefined && typeof v !== 'symbol' && typeof v !== 'function' && typeof v !== 'bigint';
    default:
      return typeof v !== 'symbol' && typeof v !== 'function';
  }
}

function snapshot(m: Loose): string {
  return JSON.stringify(
    [...m.entries()].map(([k, v]) => [String(k), Buffer.isBuffer(v) ? v.toString('hex') : String(v)]).sort(),
  );
}

describeEachBackend('SyncMap: bad input', () => {
  it('invalid options throw TypeError / RangeError', () => {
    for (const o of [undefined, null, 1, 'string', {}, { key: 'string' }, { value: 'f64' }]) expectTypeError(() => construct(o));
    expectTypeError(() => construct({ key: 'any', value: 'f64' }), /cannot be shared/);
    expectTypeError(() => construct({ key: 'string', value: 'any' }), /cannot be shared/);
    expectTypeError(() => construct({ key: 'json', value: 'f64' }));
    expectTypeError(() => construct({ key: 'string', value: 'f64', extra: 1 }), /no option 'extra'/);
    expectTypeError(() => construct({ key: 'string', value: 'f64', hint: '1' }));
    expectRangeError(() => construct({ key: 'string', value: 'f64', hint: -1 }));
    expectRangeError(() => construct({ key: 'string', value: 'f64', hint: 1.5 }));
    expectTypeError(() => construct({ key: 'string', value: 'f64', seed: 1 }));
    expectRangeError(() => construct({ key: 'string', value: 'f64', seed: 2n ** 64n }));
    const e = thrown(() => construct({ key: 'string', value: 'f64', hint: 2 ** 53 - 1 }));
    expect(e).toBeInstanceOf(RangeError);
  });

  for (const keyKind of Object.keys(GOOD_KEY)) {
    for (const valueKind of Object.keys(GOOD_VALUE)) {
      it(`${keyKind} keys, ${valueKind} values: wrong keys and values throw, the map is unchanged`, () => {
        const m = construct({ key: keyKind, value: valueKind });
        m.set(GOOD_KEY[keyKind], GOOD_VALUE[valueKind]);
        const before = snapshot(m);
        const calls: [string, (m: Loose, k: unknown, v: unknown) => unknown][] = [
          ['get', (x, k) => x.get(k)],
          ['has', (x, k) => x.has(k)],
          ['lookup', (x, k) => x.lookup(k)],
          ['set', (x, k, v) => x.set(k, v)],
          ['delete', (x, k) => x.delete(k)],
          ['loadOrStore', (x, k, v) => x.loadOrStore(k, v)],
          ['loadAndDelete', (x, k) => x.loadAndDelete(k)],
          ['swap', (x, k, v) => x.swap(k, v)],
          ['compareAndSwap', (x, k, v) => x.compareAndSwap(k, v, v)],
          ['compareAndDelete', (x, k, v) => x.compareAndDelete(k, v)],
          ['getMany', (x, k) => x.getMany([GOOD_KEY[keyKind], k])],
          ['setMany', (x, k, v) => x.setMany([[GOOD_KEY[keyKind], GOOD_VALUE[valueKind]], [k, v]])],
        ];
        for (const bad of WRONG) {
          for (const [name, call] of calls) {
            if (!fits(keyKind, bad)) {
              const e = thrown(() => call(m, bad, GOOD_VALUE[valueKind]));
              expect(e, `${name}(bad key ${String(typeof bad)})`).toBeInstanceOf(TypeError);
            }
            const usesValue = ['set', 'loadOrStore', 'swap', 'compareAndSwap', 'compareAndDelete', 'setMany'].includes(name);
            if (usesValue && !fits(valueKind, bad)) {
              const e = thrown(() => call(m, GOOD_KEY[keyKind], bad));
              expect(isAllowedError(e), `${name}(bad value ${typeof bad}): ${String(e)}`).toBe(true);
            }
          }
          expect(snapshot(m)).toBe(before);
        }
        m.close();
      });
    }
  }

  it('errors name SyncMap, the expected kind and what was received', () => {
    const m = construct({ key: 'string', value: 'f64' });
    expectTypeError(() => m.set(1, 1), /^SyncMap key must be a string for key kind 'string', got number$/);
    expectTypeError(() => m.set('k', 'x'), /^SyncMap value must be a number for value kind 'f64', got string$/);
    expectTypeError(() => m.get(null), /^SyncMap key must be a string .* got null$/);
    expect(errorCode(thrown(() => m.has(1n)))).toBe('ERR_INVALID_ARG_TYPE');
    m.close();
    const i = construct({ key: 'i64', value: 'bytes' });
    const e = expectRangeError(() => i.get(2n ** 64n));
    expect(e.message).toMatch(/^SyncMap key is outside the signed 64-bit range/);
    expect(errorCode(e)).toBe('ERR_OUT_OF_RANGE');
    expectTypeError(() => i.set(1n, 'str'), /^SyncMap value must be a Uint8Array or Buffer for value kind 'bytes', got string$/);
    i.close();
  });

  it('i64 keys and values outside the signed 64-bit range throw RangeError', () => {
    const m = construct({ key: 'i64', value: 'i64' });
    expectRangeError(() => m.set(I64_MAX + 1n, 1n));
    expectRangeError(() => m.set(I64_MIN - 1n, 1n));
    expectRangeError(() => m.set(1n, I64_MAX + 1n));
    expect(m.size).toBe(0);
    m.close();
  });

  it('setMany checks every pair first: one bad pair stores none', () => {
    const m = construct({ key: 'string', value: 'f64' });
    expectTypeError(() => m.setMany([['a', 1], ['b', 'x']]));
    expectTypeError(() => m.setMany([['a', 1], 5] as never));
    expectTypeError(() => m.setMany(5 as never));
    expectTypeError(() => m.getMany(5 as never));
    expect(m.size).toBe(0);
    m.close();
  });

  it('callbacks must be functions', () => {
    const m = construct({ key: 'string', value: 'f64' });
    expectTypeError(() => m.range(1 as never));
    expectTypeError(() => m.forEach(null as never));
    m.close();
  });

  it('every method of a closed view throws ERR_GOMAP_CLOSED', () => {
    const m = construct({ key: 'string', value: 'json' });
    m.set('a', 1);
    const it = m.entries();
    m.close();
    const calls: (() => unknown)[] = [
      () => m.size,
      () => m.get('a'),
      () => m.has('a'),
      () => m.lookup('a'),
      () => m.set('a', 1),
      () => m.delete('a'),
      () => m.clear(),
      () => m.getMany(['a']),
      () => m.setMany([['a', 1]]),
      () => m.loadOrStore('a', 1),
      () => m.loadAndDelete('a'),
      () => m.swap('a', 1),
      () => m.compareAndSwap('a', 1, 2),
      () => m.compareAndDelete('a', 1),
      () => m.range(() => true),
      () => m.forEach(() => undefined),
      () => m.keys(),
      () => m.values(),
      () => m.entries(),
      () => m.stats(),
      () => m.handle,
      () => it.next(),
    ];
    for (const call of calls) {
      expectClosed(call);
      expect((thrown(call) as Error).message).toMatch(/^SyncMap is closed/);
    }
  });
});

describeEachBackend('SyncMap: forged, stale and foreign handles', () => {
  it('attach refuses what is not a handle with a TypeError', () => {
    const real = construct({ key: 'string', value: 'f64' });
    const h = real.handle;
    for (const bad of [undefined, null, 1, 'h', [], {}, { ...h, type: 'other' }, { ...h, id: 'x' }, { ...h, id: -1 }, { ...h, id: 1.5 },
      { ...h, id: NaN }, { ...h, key: 'any' }, { ...h, value: 'any' }, { ...h, key: 5 }]) {
      expectTypeError(() => attachRaw(bad));
    }
    // the right id with other kinds: refused, naming the map's kinds
    expectTypeError(() => attachRaw({ ...h, value: 'string' }), /'string'.*'f64'/);
    real.close();
  });

  if (loadedBackend === 'wasm') {
    it("attach refuses a handle whose 'memory' is not a SyncMap's shared memory (WebAssembly engine)", () => {
      const real = construct({ key: 'string', value: 'f64' });
      real.set('k', 1);
      const h = real.handle;
      const W = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => object } }).WebAssembly;
      const foreign = new W.Memory({ initial: 64, maximum: 128, shared: true }); // no gomap magic
      const small = new W.Memory({ initial: 1, maximum: 2, shared: true });
      const unshared = new W.Memory({ initial: 64 });
      for (const memory of [5, 'm', {}, new SharedArrayBuffer(8), foreign, small, unshared]) {
        expectTypeError(() => attachRaw({ ...h, memory }));
      }
      expect(real.get('k')).toBe(1);
      real.close();
    });
  }

  it('attach refuses ids that name no live map with ERR_GOMAP_CLOSED', () => {
    const real = construct({ key: 'string', value: 'f64' });
    const h = real.handle;
    for (const id of [1, 2 ** 32, 2 ** 32 + 12345, h.id + 2 ** 32, 2 ** 53 - 1, Number.MAX_SAFE_INTEGER]) {
      if (id === h.id) continue;
      expectClosed(() => attachRaw({ ...h, id }));
    }
    real.close();
    expectClosed(() => attachRaw(h));
  });

  it('the raw binding refuses forged view and iterator handles', () => {
    const n = syncBinding!;
    const m = construct({ key: 'f64', value: 'f64' });
    for (let i = 0; i < 100; i++) m.set(i, i);
    for (const h of [0, -1, 1, 2 ** 32, 2 ** 32 + 7, 2 ** 52, 2 ** 53 + 2, NaN, Infinity, 1.5]) {
      expectClosed(() => n.syncGet(h, 1));
      expectClosed(() => n.syncSet(h, 1, 1));
      expectClosed(() => n.syncSize(h));
      expectClosed(() => n.syncIterStart(h));
      expect(n.syncClose(h)).toBe(false);
      expect(n.syncIterEnd(h, h)).toBe(false);
    }
    for (const h of ['1', null, undefined, {}, 1n]) {
      expect(thrown(() => n.syncGet(h as never, 1))).toBeInstanceOf(TypeError);
    }
    // an iterator handle of one view is refused by another view's calls
    const other = construct({ key: 'f64', value: 'f64' });
    const v1 = n.syncAttach(m.handle.id, 'f64', 'f64');
    const v2 = n.syncAttach(other.handle.id, 'f64', 'f64');
    const it = n.syncIterStart(v1);
    expect(thrown(() => n.syncIterNext(v2, it, 10))).toBeInstanceOf(TypeError);
    expect(n.syncIterNext(v1, it + 1, 10)).toEqual([]); // no such iterator: nothing
    expect(n.syncIterNext(v1, it, 1000).length).toBe(200);
    expect(n.syncIterNext(v1, it, 10)).toEqual([]); // finished and freed
    expect(n.syncClose(v1)).toBe(true);
    expect(n.syncClose(v2)).toBe(true);
    expect(m.size).toBe(100);
    m.close();
    other.close();
  });
});
