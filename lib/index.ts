/**
 * gomap: Go's classic bucketed hash map, rebuilt in C++ for Node.js.
 *
 * ```ts
 * import { GoMap, backend } from 'gomap';
 * ```
 *
 * @module
 */
export { GoMap } from './go-map.ts';
export { backend, type Backend } from './backend.ts';
export type { MapStats } from './binding.ts';
export type { GoMapOptions, KeyKind, ValueKind } from './kinds.ts';
export { SyncMap, type LoadOrStoreResult, type LoadAndDeleteResult, type SwapResult } from './sync-map.ts';
export type { SyncMapOptions, SyncMapHandle, SyncKeyKind, SyncValueKind } from './sync-options.ts';
export { GoCache } from './go-cache.ts';
export type { CacheStats, EvictionReason, GoCacheOptions, GoCacheSetOptions } from './go-cache.ts';
export type { GoCacheAttachOptions, GoCacheHandle } from './go-cache.ts';
