/**
 * What each engine serves: GoMap, GoCache, SyncMap and shared GoCaches run on both
 * engines (their full suites run in both vitest projects; this file is the quick check).
 */
import { expect, it } from 'vitest';
import { GoCache, GoMap, SyncMap } from '../lib/index.ts';
import { describeEachBackend } from './helpers/backends.ts';

describeEachBackend('engine features', () => {
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

  it('shared GoCache works on every engine, across an attach', () => {
    const c = new GoCache<string, number>({ max: 10, key: 'string', value: 'f64', shared: true });
    c.set('a', 1);
    const view = GoCache.attach<string, number>(c.handle);
    expect(view.get('a')).toBe(1);
    view.set('b', 2);
    expect(c.get('b')).toBe(2);
    expect(c.size).toBe(2);
    view.close();
    c.close();
  });
});
