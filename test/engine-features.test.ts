/**
 * What each engine serves. GoMap and (non-shared) GoCache run on both engines; SyncMap
 * and shared GoCaches need the native addon for now (their suites run in the native
 * project only, see vitest.config.ts NATIVE_ONLY): on the WebAssembly engine their
 * constructors, and SyncMap.attach, must refuse with a clear ERR_GOMAP_NATIVE_ONLY error
 * instead of misbehaving, and on the native engine they must work.
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

  if (engine === 'wasm' && process.env.GOMAP_EXPERIMENTAL_WASM_SYNCMAP === '1') {
    it('with GOMAP_EXPERIMENTAL_WASM_SYNCMAP=1, SyncMap works on the WebAssembly engine; shared GoCaches still refuse', () => {
      const s = new SyncMap<string, number>({ key: 'string', value: 'f64' });
      s.set('a', 1);
      expect(SyncMap.attach<string, number>(s.handle).get('a')).toBe(1);
      s.close();
      expect(codeOf(() => new GoCache({ max: 10, key: 'string', value: 'f64', shared: true }))).toBe('ERR_GOMAP_NATIVE_ONLY');
    });
  } else if (engine === 'wasm') {
    it('SyncMap and shared GoCaches refuse the WebAssembly engine with ERR_GOMAP_NATIVE_ONLY', () => {
      expect(codeOf(() => new SyncMap({ key: 'string', value: 'f64' }))).toBe('ERR_GOMAP_NATIVE_ONLY');
      expect(
        codeOf(() => SyncMap.attach({ type: 'gomap.SyncMap', id: 1, key: 'string', value: 'f64' } as never)),
      ).toBe('ERR_GOMAP_NATIVE_ONLY');
      expect(codeOf(() => new GoCache({ max: 10, key: 'string', value: 'f64', shared: true }))).toBe('ERR_GOMAP_NATIVE_ONLY');
    });
  } else {
    it('SyncMap works on the native engine', () => {
      const s = new SyncMap<string, number>({ key: 'string', value: 'f64' });
      s.set('a', 1);
      expect(SyncMap.attach<string, number>(s.handle).get('a')).toBe(1);
      s.close();
    });
  }
});
