/**
 * Which engine this process runs. The rest of the suite is parametrised by it (see
 * test/helpers/backends.ts); this file makes sure a forced backend is the loaded one.
 */
import { describe, expect, it } from 'vitest';
import { backend, GoMap } from '../lib/index.ts';
import { ALL_BACKENDS, requestedBackend } from './helpers/backends.ts';

describe('backend', () => {
  it(`is 'native' or 'wasm' (this process: ${backend})`, () => {
    expect(ALL_BACKENDS).toContain(backend);
  });

  it(`is the one GOMAP_BACKEND asked for (${requestedBackend ?? 'unset: native, else wasm'})`, () => {
    // Unforced, the native addon (built by npm ci / npm test) is the default engine.
    expect(backend).toBe(requestedBackend ?? 'native');
  });

  it('serves a GoMap', () => {
    const m = new GoMap<string, number>(null, { key: 'string', value: 'f64' });
    m.set('a', 1);
    expect(m.get('a')).toBe(1);
    m.close();
  });
});
