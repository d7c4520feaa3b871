/**
 * Backend parametrisation for the vitest suite.
 *
 * One process can load only one engine: the façade picks it when `lib/index.ts` is
 * first imported (env `GOMAP_BACKEND=native|wasm`, else native with a wasm fallback).
 * So every behavioural suite is declared for the backend this process loaded, with the
 * backend's name in its title. The whole suite runs once per engine: vitest.config.ts
 * declares one project per engine, each setting GOMAP_BACKEND for its test processes, so
 * `npm test` (and `npx vitest run`) runs both, and one engine alone is
 *
 *     npx vitest run --project native
 *     npx vitest run --project wasm
 *
 * and `test/backend.test.ts` checks that a forced backend really is the loaded one, so
 * a wasm run can never silently test the native engine (or the reverse).
 */
import { describe } from 'vitest';
import { backend } from '../../lib/index.ts';

export const ALL_BACKENDS = ['native', 'wasm'] as const;
export type BackendName = (typeof ALL_BACKENDS)[number];

/** The engine this test process loaded. */
export const loadedBackend: BackendName = backend;

/** What the environment asked for, if anything. */
export const requestedBackend: string | undefined = process.env.GOMAP_BACKEND || undefined;

/**
 * Declares `describe(`${title} [backend: name]`, body)` for the backend loaded in this
 * process. The other engine's run is a separate process (`GOMAP_BACKEND=...`), not a
 * skipped test here.
 */
export function describeEachBackend(title: string, body: (name: BackendName) => void): void {
  describe(`${title} [backend: ${loadedBackend}]`, () => body(loadedBackend));
}
