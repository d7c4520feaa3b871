/**
 * What each engine serves. GoMap, GoCache and SyncMap run on both engines; shared
 * GoCaches need the native addon for now (their suites run in the native project only,
 * see vitest.config.ts NATIVE_ONLY): on the WebAssembly engine their constructor and
 * GoCache.attach must refuse with a clear ERR_GOMAP_NATIVE_ONLY error instead of
 * misbehaving, and on the native engine they must work.
 */
import { expect, it } from 'vitest';
import { GoCache, GoMap, SyncMap } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? `no code: ${String(e)}`;
  }
  return undefined;
}

describeEachBackend('engine features', (engine) => {
  it('GoMap works on every engine', () => {
    const m = new GoMap<string, number>(null, { key: 'string', value: 'f64' });
    m.set('a', 1);
    expect(m.get('a')).toBe(1);
    m.close();
  });

  it('GoCache works on every engine', () => {
    const c = new GoCache<string, number>({ max: 2, key: 'string', value: 'f64' });
    c.set('a', 1).set('b', 2).set('c', 3);
    expect(c.size).toBe(2);
    c.close();
  });

  it('SyncMap works on every engine, across an attach', () => {
    const s = new SyncMap<string, number>({ key: 'string', value: 'f64' });
    s.set('a', 1);
    const view = SyncMap.attach<string, number>(s.handle);
    expect(view.get('a')).toBe(1);
    view.close();
    s.close();
  });

  if (engine === 'wasm') {
    it('shared GoCaches refuse the WebAssembly engine with ERR_GOMAP_NATIVE_ONLY', () => {
      expect(codeOf(() => new GoCache({ max: 10, key: 'string', value: 'f64', shared: true }))).toBe('ERR_GOMAP_NATIVE_ONLY');
      expect(codeOf(() => GoCache.attach({ type: 'gomap.GoCache', id: 1 } as never))).toBe('ERR_GOMAP_NATIVE_ONLY');
    });
  } else {
    it('shared GoCaches work on the native engine', () => {
      const c = new GoCache<string, number>({ max: 10, key: 'string', value: 'f64', shared: true });
      c.set('a', 1);
      expect(c.get('a')).toBe(1);
      c.close();
    });
  }
});
