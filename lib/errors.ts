/**
 * The errors gomap throws (API.md "Errors"), built the same way as the native addon
 * builds its own, so a caller sees one style whichever layer noticed the problem:
 *
 * - `TypeError` (code `ERR_INVALID_ARG_TYPE`): a key, value, argument or option of the
 *   wrong type;
 * - `RangeError` (code `ERR_OUT_OF_RANGE`): a size beyond the limits, a hint that cannot
 *   be honoured, memory that cannot be allocated;
 * - `Error` with code `ERR_GOMAP_CLOSED`: use after `close()`;
 * - `Error` with code `ERR_GOMAP_POISONED` (SyncMap on the WebAssembly engine only): a
 *   write to a map whose write lock was held by a thread that died (a worker
 *   `terminate()`d in the middle of a write). That write was half done and nobody can
 *   finish it, so the map refuses every later write; its reads (get, has, iteration,
 *   size, stats) go on and see each key's last completed write.
 *
 * @module
 */

/** The `code` of the error thrown when a closed map is used. */
export const ERR_GOMAP_CLOSED = 'ERR_GOMAP_CLOSED';

/**
 * The `code` of the error a write throws when the map (or the memory's allocator or map
 * registry) was left half-updated by a thread that died holding its lock (see the
 * module comment). The native engine never throws it: native code cannot be stopped
 * mid-write.
 */
export const ERR_GOMAP_POISONED = 'ERR_GOMAP_POISONED';

/** An `Error` carrying a Node-style `code`. */
export interface CodedError extends Error {
  code: string;
}

function withCode<E extends Error>(error: E, code: string): E & CodedError {
  Object.defineProperty(error, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  return error as E & CodedError;
}

/** The error every method of a closed map throws. */
export function closedError(): CodedError {
  return withCode(new Error('GoMap is closed: it cannot be used after close()'), ERR_GOMAP_CLOSED);
}

/** The error a write to a poisoned map throws (see {@link ERR_GOMAP_POISONED}). */
export function poisonedError(message: string, cause?: unknown): CodedError {
  const error = cause === undefined ? new Error(message) : new Error(message, { cause });
  return withCode(error, ERR_GOMAP_POISONED);
}

/** A `TypeError` with code `ERR_INVALID_ARG_TYPE`. */
export function typeError(message: string, cause?: unknown): TypeError & CodedError {
  const error = cause === undefined ? new TypeError(message) : new TypeError(message, { cause });
  return withCode(error, 'ERR_INVALID_ARG_TYPE');
}

/** A `RangeError` with code `ERR_OUT_OF_RANGE`. */
export function rangeError(message: string, cause?: unknown): RangeError & CodedError {
  const error = cause === undefined ? new RangeError(message) : new RangeError(message, { cause });
  return withCode(error, 'ERR_OUT_OF_RANGE');
}

/** What a value is, for messages: `number`, `null`, `array`, `Float64Array`, `Map`, ... */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  const type = typeof value;
  if (type !== 'object') return type;
  try {
    if (Array.isArray(value)) return 'array';
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== 'Object' && name !== '' ? name : 'object';
  } catch {
    return 'object'; // a Proxy or a throwing getter: say no more
  }
}

/**
 * "GoMap key must be a bigint for key kind 'i64', got number" — the message of a key or
 * value of the wrong kind.
 */
export function wrongKindError(role: 'key' | 'value', expected: string, kind: string, received: unknown): TypeError {
  return typeError(`GoMap ${role} must be ${expected} for ${role} kind '${kind}', got ${describeType(received)}`);
}
