/**
 * GoCache and wrong input (API.md "Errors"): TypeError / RangeError naming what was
 * expected, the cache unchanged after every throw, ERR_GOMAP_CLOSED after close().
 */
import { expect, it } from 'vitest';
import { GoCache } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';

type Loose = GoCache<unknown, unknown>;

function snapshot(c: Loose): string {
  const s = c.stats();
  const entries = [...c.entries()].map(([k, v]) => `${String(k)}=${String(v)}`).sort();
  return JSON.stringify({ size: s.size, bytes: s.bytes, entries });
}

describeEachBackend('GoCache: wrong input', () => {
  it('keys and values of the wrong kind throw TypeError naming the kind; nothing changes', () => {
    const c = new GoCache<unknown, unknown>({ max: 10, key: 'string', value: 'i64' });
    c.set('a', 1n);
    const before = snapshot(c);
    for (const fn of [
      () => c.set(1, 2n),
      () => c.set('b', 2),
      () => c.get(Symbol('x')),
      () => c.peek(null),
      () => c.has(1),
      () => c.delete({}),
      () => c.getRemainingTTL(2n),
    ]) {
      expect(fn).toThrow(TypeError);
    }
    expect(() => c.set('b', 2)).toThrow(/'i64'/);
    expect(() => c.set('b', 2n ** 64n)).toThrow(RangeError);
    expect(snapshot(c)).toBe(before);
    c.close();
  });

  it('set options: ttl must be a number of ms in range', () => {
    const c = new GoCache<unknown, unknown>({ max: 10, key: 'f64', value: 'f64' });
    expect(() => c.set(1, 1, null as never)).toThrow(TypeError);
    expect(() => c.set(1, 1, { ttl: '5' as never })).toThrow(TypeError);
    expect(() => c.set(1, 1, { ttl: Number.NaN })).toThrow(RangeError);
    expect(() => c.set(1, 1, { ttl: 2 ** 40 })).toThrow(RangeError);
    expect(c.size).toBe(0);
    c.set(1, 1, { ttl: 0.5 }); // rounded up to 1 ms, not "never"
    expect(c.getRemainingTTL(1)).toBeLessThanOrEqual(1);
    c.close();
  });

  it('a sizeOf that throws or returns a bad size leaves the cache unchanged', () => {
    let mode = 'ok';
    const c = new GoCache<string, unknown>({
      maxBytes: 1000,
      sizeOf: () => {
        if (mode === 'throw') throw new Error('sizeOf failed');
        if (mode === 'bad') return -1;
        if (mode === 'nan') return Number.NaN;
        return 10;
      },
    });
    c.set('a', { x: 1 });
    const before = snapshot(c as Loose);
    mode = 'throw';
    expect(() => c.set('b', {})).toThrow('sizeOf failed');
    mode = 'bad';
    expect(() => c.set('b', {})).toThrow(RangeError);
    mode = 'nan';
    expect(() => c.set('a', {})).toThrow(RangeError);
    expect(snapshot(c as Loose)).toBe(before);
    expect(c.stats().bytes).toBe(1 + 10);
    c.close();
  });

  it('a json value that cannot be encoded throws TypeError; nothing changes', () => {
    const c = new GoCache<string, unknown>({ max: 10, key: 'string', value: 'json' });
    c.set('a', { ok: true });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => c.set('a', cyclic)).toThrow(TypeError);
    expect(() => c.set('b', undefined)).toThrow(TypeError);
    expect(c.get('a')).toEqual({ ok: true });
    expect(c.size).toBe(1);
    c.close();
  });

  it('every method of a closed cache throws ERR_GOMAP_CLOSED; fetch rejects with it', async () => {
    const c = new GoCache<string, string>({ max: 10, key: 'string', value: 'string', fetch: async () => 'x' });
    c.set('a', 'b');
    c.close();
    const calls: (() => unknown)[] = [
      () => c.get('a'),
      () => c.peek('a'),
      () => c.has('a'),
      () => c.set('a', 'b'),
      () => c.delete('a'),
      () => c.clear(),
      () => c.size,
      () => c.stats(),
      () => c.getRemainingTTL('a'),
      () => c.purgeStale(),
      () => [...c.keys()],
      () => [...c.values()],
      () => c.forEach(() => {}),
    ];
    for (const fn of calls) {
      let code: unknown;
      try {
        fn();
      } catch (e) {
        code = (e as { code?: unknown }).code;
      }
      expect(code).toBe('ERR_GOMAP_CLOSED');
    }
    await expect(c.fetch('a')).rejects.toMatchObject({ code: 'ERR_GOMAP_CLOSED' });
  });
});
